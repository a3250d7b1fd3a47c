//! Access tokens for the Web API: client credentials, a refreshing cache, and injected
//! providers (a static token, a closure) for managed identity and tests. The provider port
//! itself ([`TokenProvider`], [`AccessToken`], [`TokenError`]) is des-core's
//! (`des_core::ports`), re-exported here, so other adapters (the Azure credential bridge)
//! implement it without depending on this crate.
//!
//! Tokens are [`Secret`]s: they never reach a log line through `Debug` or `Display`.

mod authority;
mod cache;
mod client_credentials;

use std::future::Future;

use async_trait::async_trait;
use des_core::Secret;

pub use authority::{AuthorityError, CLOUD_NAMES, check_authority, parse_authority};
pub use cache::CachedToken;
pub use client_credentials::{ClientCredentials, DEFAULT_AUTHORITY, parse_token_response};
pub use des_core::ports::{AccessToken, TokenError, TokenProvider};

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
