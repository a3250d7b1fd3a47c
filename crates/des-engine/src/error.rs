use des_core::ports::{
    FailureLogError, QueueError, SecretError, SinkError, SourceError, StoreError,
};
use uuid::Uuid;

/// Why an engine step did not complete. Every variant leaves durable state consistent: the
/// step is simply tried again (the cursor did not move, the message was not deleted).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    FailureLog(#[from] FailureLogError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("invalid profile: {0}")]
    Invalid(#[from] des_core::profile::ProfileError),
    #[error("profile {0} not found")]
    ProfileNotFound(Uuid),
    #[error("organization {0} is not configured")]
    OrganizationNotFound(Uuid),
    #[error("profile {profile_id} does not export {entity}")]
    UnknownEntity { profile_id: Uuid, entity: String },
    #[error("cannot plan {entity}: {reason}")]
    Plan { entity: String, reason: String },
    #[error("stored {key} is not valid: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("no sink for destination type {0}")]
    UnsupportedDestination(String),
}

impl EngineError {
    pub(crate) fn corrupt(key: &str, reason: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }
}
