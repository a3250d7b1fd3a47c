//! [`BlobPayloadStore`]: write-once batch payloads as block blobs in `des-payloads`, named by
//! their key. `If-None-Match: *` makes the first writer win; later ones read what it stored.

use async_trait::async_trait;
use des_core::ports::{PayloadStore, Precondition, QueueError};

use crate::container::{Container, Unavailable};
use crate::storage::StorageAccount;

const BYTES: &str = "application/octet-stream";
/// Rounds of write-or-read before giving up: a payload deleted between a refused write and
/// the read that follows makes another round.
const ATTEMPTS: u32 = 10;

/// The Azure [`PayloadStore`].
#[derive(Debug, Clone)]
pub struct BlobPayloadStore {
    container: Container,
}

impl From<Unavailable> for QueueError {
    fn from(error: Unavailable) -> Self {
        QueueError::Unavailable(error.0)
    }
}

impl BlobPayloadStore {
    /// The store in `container` of `account` (normally [`crate::names::PAYLOAD_CONTAINER`]),
    /// creating the container if missing.
    pub async fn open(account: &StorageAccount, container: &str) -> Result<Self, QueueError> {
        let container = Container::open(account, container).await?;
        Ok(Self { container })
    }
}

#[async_trait]
impl PayloadStore for BlobPayloadStore {
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Vec<u8>, QueueError> {
        for _ in 0..ATTEMPTS {
            let when = Precondition::MustNotExist;
            let written = self.container.write(key, bytes.to_vec(), BYTES, &when);
            if written.await?.is_some() {
                return Ok(bytes.to_vec());
            }
            if let Some(stored) = self.container.read(key).await? {
                return Ok(stored.bytes);
            }
        }
        Err(QueueError::Unavailable(format!(
            "payload {key} kept changing between write and read"
        )))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, QueueError> {
        Ok(self.container.read(key).await?.map(|s| s.bytes))
    }

    async fn delete(&self, key: &str) -> Result<(), QueueError> {
        Ok(self.container.delete(key).await?)
    }
}
