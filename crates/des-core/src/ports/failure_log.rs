use async_trait::async_trait;
use uuid::Uuid;

use crate::failure::FailureLine;

#[derive(Debug, thiserror::Error)]
pub enum FailureLogError {
    #[error("failure log unavailable: {0}")]
    Unavailable(String),
}

/// The append-only failure log of a profile.
///
/// Contract (tested by `des-contract::failure_log`): appended lines are never changed or
/// removed, come back in append order, and concurrent appends lose nothing.
#[async_trait]
pub trait FailureLog: Send + Sync {
    async fn append(&self, profile_id: Uuid, lines: &[FailureLine]) -> Result<(), FailureLogError>;
    /// Every line of the profile's log, formatted, in append order.
    async fn read_all(&self, profile_id: Uuid) -> Result<Vec<String>, FailureLogError>;
}
