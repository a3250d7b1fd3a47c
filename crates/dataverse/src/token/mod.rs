//! Access tokens for the Web API: the provider port, client credentials, a refreshing cache,
//! and injected providers (a static token, a closure) for managed identity and tests.
//!
//! Tokens are [`Secret`]s: they never reach a log line through `Debug` or `Display`.

mod authority;
mod cache;
mod client_credentials;

use std::future::Future;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use des_core::Secret;

pub use authority::{AuthorityError, CLOUD_NAMES, check_authority, parse_authority};
pub use cache::CachedToken;
pub use client_credentials::{ClientCredentials, DEFAULT_AUTHORITY, parse_token_response};

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

/// Hands out bearer tokens for the Dataverse environment.
#[async_trait]
pub trait TokenProvider: Send + Sync {
    async fn token(&self) -> Result<AccessToken, TokenError>;

    /// The service refused `token` (401). Caching providers drop it so the next call fetches
    /// a new one; others need not do anything.
    async fn invalidate(&self, _token: &AccessToken) {}
}

/// A fixed token, e.g. one obtained out of band.
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

#[async_trait]
impl TokenProvider for StaticToken {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        Ok(AccessToken::new(self.0.clone(), None))
    }
}

/// A provider backed by a closure, so another source (managed identity, a CLI login) plugs
/// in without a new type.
pub struct TokenFn<F>(pub F);

#[async_trait]
impl<F, Fut> TokenProvider for TokenFn<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<AccessToken, TokenError>> + Send,
{
    async fn token(&self) -> Result<AccessToken, TokenError> {
        (self.0)().await
    }
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
