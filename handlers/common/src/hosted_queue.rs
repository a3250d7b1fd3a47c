//! [`HostedQueue`]: the work queue as the applier sees it inside the Functions host.
//!
//! The host, not the handler, receives a queue message and deletes it: a 2xx answer deletes
//! it, anything else makes it visible again and, at `maxDequeueCount`, moves it to
//! `des-apply-poison`. The engine's [`Applier`](des_engine::applier::Applier) settles the
//! deliveries it is handed through the [`WorkQueue`] port, so for a delivery the host holds
//! this wrapper only *records* the engine's decision ([`Settlement`]) and the invocation
//! turns it into its answer. Sends (retry messages) go to the real queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use des_core::ports::{Delivery, QueueError, WorkQueue};

/// What the engine decided for a host-held delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Neither deleted nor released.
    Open,
    /// Done with: the host deletes it on a 2xx answer.
    Deleted,
    /// To be offered again after the delay.
    Released(Duration),
}

/// The real queue plus the deliveries the host holds.
pub struct HostedQueue {
    inner: Arc<dyn WorkQueue>,
    held: Mutex<HashMap<String, Settlement>>,
}

impl HostedQueue {
    pub fn new(inner: Arc<dyn WorkQueue>) -> Self {
        Self {
            inner,
            held: Mutex::default(),
        }
    }

    pub fn inner(&self) -> &Arc<dyn WorkQueue> {
        &self.inner
    }

    /// Marks `delivery` as held by the host until [`HostedQueue::settle`].
    pub fn hold(&self, delivery: &Delivery) {
        self.lock().insert(delivery.id.clone(), Settlement::Open);
    }

    /// Stops holding `delivery`; what the engine decided for it.
    pub fn settle(&self, delivery: &Delivery) -> Settlement {
        self.lock().remove(&delivery.id).unwrap_or(Settlement::Open)
    }

    /// Records `settlement` if the host holds `delivery`; `false` if it does not.
    fn record(&self, delivery: &Delivery, settlement: Settlement) -> bool {
        match self.lock().get_mut(&delivery.id) {
            Some(slot) => {
                *slot = settlement;
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Settlement>> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl WorkQueue for HostedQueue {
    async fn send(&self, body: &[u8], delay: Duration) -> Result<(), QueueError> {
        self.inner.send(body, delay).await
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        self.inner.receive(max, visibility).await
    }

    async fn delete(&self, delivery: &Delivery) -> Result<(), QueueError> {
        if self.record(delivery, Settlement::Deleted) {
            return Ok(());
        }
        self.inner.delete(delivery).await
    }

    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError> {
        if self.record(delivery, Settlement::Released(delay)) {
            return Ok(());
        }
        self.inner.release(delivery, delay).await
    }

    async fn approximate_len(&self) -> Result<u64, QueueError> {
        self.inner.approximate_len().await
    }
}

#[cfg(test)]
mod tests {
    use des_local::SqliteWorkQueue;

    use super::*;

    const HIDE: Duration = Duration::from_secs(30);

    async fn queue(dir: &tempfile::TempDir) -> (Arc<dyn WorkQueue>, HostedQueue) {
        let inner: Arc<dyn WorkQueue> = Arc::new(
            SqliteWorkQueue::open(dir.path().join("q.db"), "work")
                .await
                .expect("queue"),
        );
        (Arc::clone(&inner), HostedQueue::new(inner))
    }

    #[tokio::test]
    async fn held_deliveries_are_recorded_not_settled() {
        let dir = tempfile::tempdir().expect("dir");
        let (inner, hosted) = queue(&dir).await;
        inner.send(b"one", Duration::ZERO).await.expect("send");
        let delivery = inner.receive(1, HIDE).await.expect("receive").remove(0);
        hosted.hold(&delivery);
        hosted.delete(&delivery).await.expect("delete");
        assert_eq!(hosted.settle(&delivery), Settlement::Deleted);
        // The host deletes it, not the handler: it is still in the queue.
        assert_eq!(inner.approximate_len().await.expect("len"), 1);
        hosted.hold(&delivery);
        hosted.release(&delivery, HIDE).await.expect("release");
        assert_eq!(hosted.settle(&delivery), Settlement::Released(HIDE));
        hosted.hold(&delivery);
        assert_eq!(hosted.settle(&delivery), Settlement::Open);
    }

    #[tokio::test]
    async fn sends_and_unheld_deliveries_reach_the_real_queue() {
        let dir = tempfile::tempdir().expect("dir");
        let (inner, hosted) = queue(&dir).await;
        hosted.send(b"retry", Duration::ZERO).await.expect("send");
        let delivery = hosted.receive(1, HIDE).await.expect("receive").remove(0);
        assert_eq!(delivery.body, b"retry");
        hosted.delete(&delivery).await.expect("delete");
        assert_eq!(inner.approximate_len().await.expect("len"), 0);
    }
}
