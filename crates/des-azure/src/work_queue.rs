//! [`StorageQueue`]: the work queue on Azure Storage Queues.
//!
//! Bodies go out base64-encoded: the Functions queue trigger decodes base64 by default
//! (`messageEncoding`), and base64 keeps binary bodies intact through the XML API. The
//! 64 KiB limit applies to the encoded text, so the largest body is 48 KiB; `TooLarge`
//! reports the body's own size. Visibility and delays are whole seconds on this service, so
//! they round up. A pop receipt stops working once the message is received again or its
//! visibility changes: the service then answers 404 (or 400 `PopReceiptMismatch`), which is
//! [`QueueError::LostLease`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_storage_queue::QueueClient;
use azure_storage_queue::models::{
    QueueClientGetPropertiesResultHeaders, QueueClientReceiveMessagesOptions,
    QueueClientSendMessageOptions, QueueMessage, ReceivedMessage,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use des_core::ports::{Delivery, QueueError, WorkQueue};

use crate::storage::{StorageAccount, answer, describe, status};

/// The service's limit on a message's (encoded) text.
pub const MAX_ENCODED_BYTES: usize = 64 * 1024;
/// The largest body that fits once base64-encoded.
pub const MAX_MESSAGE_BYTES: usize = MAX_ENCODED_BYTES / 4 * 3;
/// At most this many messages come back from one receive call.
const MAX_BATCH: usize = 32;

/// The Azure [`WorkQueue`].
#[derive(Clone)]
pub struct StorageQueue {
    client: Arc<QueueClient>,
    name: String,
}

impl std::fmt::Debug for StorageQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageQueue")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl StorageQueue {
    /// The queue `name` of `account` (normally [`crate::names::WORK_QUEUE`]), created if
    /// missing and allowed.
    pub async fn open(account: &StorageAccount, name: &str) -> Result<Self, QueueError> {
        let client = account
            .queue(name)
            .map_err(|e| QueueError::Unavailable(e.to_string()))?;
        match client.create(None).await {
            Ok(_) => {}
            // 409 QueueAlreadyExists (only when its metadata differs, which is fine here).
            // 403: Queue Data Message Sender/Processor roles cannot create queues; the
            // deployment in infra/ creates this one, and a missing queue fails the first send.
            Err(e) if matches!(status(&e), Some(409 | 403)) => {}
            Err(e) => return Err(unavailable(&e)),
        }
        Ok(Self {
            client: Arc::new(client),
            name: name.to_owned(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

fn unavailable(error: &azure_core::Error) -> QueueError {
    QueueError::Unavailable(describe(error))
}

/// A delete or update refused because the receipt is stale.
fn lease_error(error: &azure_core::Error, delivery: &Delivery) -> QueueError {
    match answer(error) {
        Some((404, _)) | Some((400, Some("PopReceiptMismatch"))) => {
            QueueError::LostLease(delivery.id.clone())
        }
        _ => unavailable(error),
    }
}

/// Whole seconds, rounded up: the service's unit.
fn seconds(duration: Duration) -> i32 {
    let whole = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(whole).unwrap_or(i32::MAX)
}

/// The body base64-encoded, or `TooLarge` if the encoded text passes the limit.
pub fn encode(body: &[u8]) -> Result<String, QueueError> {
    if body.len().div_ceil(3) * 4 > MAX_ENCODED_BYTES {
        return Err(QueueError::TooLarge(body.len()));
    }
    Ok(STANDARD.encode(body))
}

fn delivery(message: ReceivedMessage) -> Result<Delivery, QueueError> {
    let missing = |what: &str| QueueError::Unavailable(format!("a received message has no {what}"));
    let id = message.message_id.ok_or_else(|| missing("id"))?;
    let text = message.message_text.unwrap_or_default();
    let body = STANDARD.decode(text.trim()).map_err(|_| {
        QueueError::Unavailable(format!("message {id} is not base64 (not sent by DES)"))
    })?;
    Ok(Delivery {
        receipt: message.pop_receipt.ok_or_else(|| missing("pop receipt"))?,
        body,
        dequeue_count: u32::try_from(message.dequeue_count.unwrap_or(1)).unwrap_or(u32::MAX),
        id,
    })
}

#[async_trait]
impl WorkQueue for StorageQueue {
    async fn send(&self, body: &[u8], delay: Duration) -> Result<(), QueueError> {
        let message = QueueMessage {
            message_text: Some(encode(body)?),
        };
        let options = QueueClientSendMessageOptions {
            visibility_timeout: (!delay.is_zero()).then(|| seconds(delay)),
            ..Default::default()
        };
        let content = message.try_into().map_err(|e| unavailable(&e))?;
        self.client
            .send_message(content, Some(options))
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        let count = max.clamp(1, MAX_BATCH);
        let options = QueueClientReceiveMessagesOptions {
            number_of_messages: Some(i32::try_from(count).unwrap_or(1)),
            visibility_timeout: Some(seconds(visibility).max(1)),
            ..Default::default()
        };
        let received = self.client.receive_messages(Some(options)).await;
        let received = received.map_err(|e| unavailable(&e))?;
        let messages = received.into_model().map_err(|e| unavailable(&e))?;
        let deliveries: Vec<Delivery> = messages
            .items
            .unwrap_or_default()
            .into_iter()
            .map(delivery)
            .collect::<Result<_, _>>()?;
        tracing::trace!(queue = %self.name, count = deliveries.len(), "Received messages.");
        Ok(deliveries)
    }

    async fn delete(&self, delivery: &Delivery) -> Result<(), QueueError> {
        self.client
            .delete_message(&delivery.id, &delivery.receipt, None)
            .await
            .map_err(|e| lease_error(&e, delivery))?;
        Ok(())
    }

    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError> {
        // The update issues a new pop receipt, so the one the caller holds goes stale.
        self.client
            .update_message(&delivery.id, &delivery.receipt, seconds(delay), None)
            .await
            .map_err(|e| lease_error(&e, delivery))?;
        Ok(())
    }

    async fn approximate_len(&self) -> Result<u64, QueueError> {
        let properties = self.client.get_properties(None).await;
        let properties = properties.map_err(|e| unavailable(&e))?;
        let count = properties
            .approximate_messages_count()
            .map_err(|e| unavailable(&e))?;
        Ok(count.and_then(|c| u64::try_from(c).ok()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_on_the_encoded_text() {
        assert_eq!(MAX_MESSAGE_BYTES, 49_152);
        assert_eq!(
            encode(&[0; MAX_MESSAGE_BYTES]).map(|t| t.len()).ok(),
            Some(MAX_ENCODED_BYTES)
        );
        match encode(&[0; MAX_MESSAGE_BYTES + 1]) {
            Err(QueueError::TooLarge(size)) => assert_eq!(size, MAX_MESSAGE_BYTES + 1),
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert_eq!(encode(b"DES").ok().as_deref(), Some("REVT"));
    }

    #[test]
    fn durations_round_up_to_whole_seconds() {
        assert_eq!(seconds(Duration::ZERO), 0);
        assert_eq!(seconds(Duration::from_millis(300)), 1);
        assert_eq!(seconds(Duration::from_secs(2)), 2);
        assert_eq!(seconds(Duration::from_millis(2001)), 3);
    }
}
