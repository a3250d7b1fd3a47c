use std::time::Duration;

use async_trait::async_trait;

/// A received message. It stays invisible to other receivers until deleted or released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    /// Proof of this receipt (Azure's pop receipt); a stale one cannot delete.
    pub receipt: String,
    pub body: Vec<u8>,
    /// How many times the message has been received, this time included.
    pub dequeue_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error("message {0} is no longer held by this receiver")]
    LostLease(String),
    #[error("message too large: {0} bytes")]
    TooLarge(usize),
}

/// An at-least-once work queue with delayed visibility (Azure Storage Queue semantics).
///
/// Contract (tested by `des-contract::queue`): a sent message becomes visible after `delay`;
/// a received one is hidden for `visibility` and comes back with a higher `dequeue_count` if
/// not deleted; duplicates and reordering may happen and callers must tolerate them.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn send(&self, body: &[u8], delay: Duration) -> Result<(), QueueError>;
    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError>;
    async fn delete(&self, delivery: &Delivery) -> Result<(), QueueError>;
    /// Makes a received message visible again after `delay` (a NACK with back-off).
    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError>;
    /// Messages not yet deleted (visible or not); for status lines and tests.
    async fn approximate_len(&self) -> Result<u64, QueueError>;
}

/// Write-once storage for batch payloads too big for a queue message.
///
/// Contract: `put_if_absent` stores `bytes` under `key` only if nothing is there and returns
/// what is stored afterwards, so a poller that re-reads a page after a crash re-enqueues the
/// first version, never a second one with the same `seq`.
#[async_trait]
pub trait PayloadStore: Send + Sync {
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Vec<u8>, QueueError>;
    /// `put_if_absent` for a page: takes the bytes and answers `None` when what is stored
    /// equals them (this call stored them), else the stored bytes. A store that knows it
    /// stored them spares the caller a copy and a comparison of the whole page.
    async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<Option<Vec<u8>>, QueueError> {
        let stored = self.put_if_absent(key, &bytes).await?;
        Ok((stored != bytes).then_some(stored))
    }
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, QueueError>;
    async fn delete(&self, key: &str) -> Result<(), QueueError>;
}
