use async_trait::async_trait;

use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {0} not found")]
    NotFound(String),
    #[error("secret {0} is not a valid reference")]
    BadReference(String),
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
}

/// Resolves a secret reference (a Key Vault secret URL, or `local:<name>`).
#[async_trait]
pub trait Secrets: Send + Sync {
    async fn get(&self, reference: &str) -> Result<Secret, SecretError>;
}
