//! Access-token ports: how an adapter that signs in with Entra ID gets its bearer tokens
//! without knowing where they come from (client credentials, a managed identity, a developer
//! login, a fixed token in tests).
//!
//! - [`TokenProvider`]: tokens for one fixed audience, with their lifetime (the Dataverse
//!   client, crate `dataverse`, which caches and refreshes them).
//! - [`AccessTokenSource`]: tokens for the scope the caller names (the SQL Server sink,
//!   crate `des-sinks`, normally for [`AZURE_SQL_SCOPE`]).
//!
//! Tokens are [`Secret`]s: they never reach a log line through `Debug` or `Display`.

use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::secret::Secret;

/// A bearer token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    value: Secret,
    issued_at: Instant,
    expires_at: Option<Instant>,
}

impl AccessToken {
    /// A token valid for `lifetime` from now; `None` for one that never expires.
    pub fn new(value: Secret, lifetime: Option<Duration>) -> Self {
        let issued_at = Instant::now();
        Self {
            value,
            issued_at,
            expires_at: lifetime.map(|l| issued_at + l),
        }
    }

    pub fn secret(&self) -> &Secret {
        &self.value
    }

    pub fn expires_at(&self) -> Option<Instant> {
        self.expires_at
    }

    /// When a cache should replace it: `margin` before expiry, or half-way through a
    /// lifetime shorter than twice the margin.
    pub fn refresh_at(&self, margin: Duration) -> Option<Instant> {
        let expires_at = self.expires_at?;
        let lifetime = expires_at.saturating_duration_since(self.issued_at);
        Some(expires_at - margin.min(lifetime / 2))
    }
}

/// Why no token could be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// The identity platform refused the request (bad secret, unknown client, bad scope).
    #[error("token request refused: {0}")]
    Rejected(String),
    /// The endpoint could not be reached or failed transiently; worth retrying.
    #[error("token endpoint unavailable: {0}")]
    Unavailable(String),
    /// The endpoint answered with something that is not a token response.
    #[error("unexpected token response: {0}")]
    Protocol(String),
}

/// Hands out bearer tokens for one audience (the Dataverse environment).
#[async_trait]
pub trait TokenProvider: Send + Sync {
    async fn token(&self) -> Result<AccessToken, TokenError>;

    /// The service refused `token` (401). Caching providers drop it so the next call fetches
    /// a new one; others need not do anything.
    async fn invalidate(&self, _token: &AccessToken) {}
}

/// The token audience of Azure SQL Database and Managed Instance.
pub const AZURE_SQL_SCOPE: &str = "https://database.windows.net/.default";

/// No token could be had for the database.
#[derive(Debug, thiserror::Error)]
#[error("no Entra ID token for the SQL target: {0}")]
pub struct SqlTokenError(pub String);

/// Hands out Entra ID access tokens (managed identity, a service principal, a developer
/// login) for `scope`, normally [`AZURE_SQL_SCOPE`]. It is asked once per new connection, so
/// it should cache tokens until shortly before they expire.
#[async_trait]
pub trait AccessTokenSource: Send + Sync {
    async fn token(&self, scope: &str) -> Result<Secret, SqlTokenError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_comes_a_margin_early_or_half_way() {
        let long = AccessToken::new(Secret::new("t"), Some(Duration::from_secs(3600)));
        let at = long.refresh_at(Duration::from_secs(300)).expect("expiring");
        assert_eq!(
            long.expires_at().expect("expiring") - at,
            Duration::from_secs(300)
        );
        let short = AccessToken::new(Secret::new("t"), Some(Duration::from_secs(60)));
        let at = short
            .refresh_at(Duration::from_secs(300))
            .expect("expiring");
        assert_eq!(
            short.expires_at().expect("expiring") - at,
            Duration::from_secs(30)
        );
        assert!(
            AccessToken::new(Secret::new("t"), None)
                .refresh_at(Duration::ZERO)
                .is_none()
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = AccessToken::new(Secret::new("eyJ-very-secret"), None);
        assert!(!format!("{token:?}").contains("eyJ"));
    }
}
