//! Read-only, expiring links to a profile's failure log (DES's `failures` answer).
//!
//! [`FailureLinks`] is the seam: the API (`des-api`) signs a URL it serves itself
//! (`SignedLinks`); the Azure adapter (`des-azure`) returns a SAS URL of a failure-log blob.

use async_trait::async_trait;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot build a failure-log link: {0}")]
    Unavailable(String),
}

/// Hands out read-only links to a profile's failure log.
#[async_trait]
pub trait FailureLinks: Send + Sync {
    /// A URL that reads the log of `profile_id` until `expires`.
    async fn link(&self, profile_id: Uuid, expires: OffsetDateTime) -> Result<Url, LinkError>;
}
