//! [`EntraTokens`]: the bridge from an Azure [`TokenCredential`] to the token ports of the
//! Dataverse client ([`TokenProvider`]) and the SQL Server sink ([`AccessTokenSource`]), both
//! des-core's, so both can sign in with the managed identity.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use des_core::Secret;
use des_core::ports::{AccessToken, AccessTokenSource, SqlTokenError, TokenError, TokenProvider};
use time::OffsetDateTime;

/// Tokens from one credential. As a [`TokenProvider`] it asks for `scope`; as an
/// [`AccessTokenSource`] for the scope the sink names.
#[derive(Clone)]
pub struct EntraTokens {
    credential: Arc<dyn TokenCredential>,
    scope: String,
}

impl std::fmt::Debug for EntraTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraTokens")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl EntraTokens {
    pub fn new(credential: Arc<dyn TokenCredential>, scope: impl Into<String>) -> Self {
        Self {
            credential,
            scope: scope.into(),
        }
    }

    /// Tokens for a Dataverse environment: the scope is `<organization url>/.default`.
    pub fn for_dataverse(credential: Arc<dyn TokenCredential>, organization_url: &str) -> Self {
        let scope = format!("{}/.default", organization_url.trim_end_matches('/'));
        Self::new(credential, scope)
    }

    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// A token for `scope` and how long it has left.
    async fn fetch(&self, scope: &str) -> Result<(Secret, Duration), azure_core::Error> {
        let token = self.credential.get_token(&[scope], None).await?;
        let left = token.expires_on - OffsetDateTime::now_utc();
        let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
        Ok((Secret::new(token.token.secret()), left))
    }
}

/// Credential failures as text without the response body (it could echo a request).
fn describe(error: &azure_core::Error) -> String {
    match error.kind() {
        azure_core::error::ErrorKind::HttpResponse { status, .. } => {
            format!("token endpoint answered {}", u16::from(*status))
        }
        _ => error.to_string(),
    }
}

#[async_trait]
impl TokenProvider for EntraTokens {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        let (token, left) = self
            .fetch(&self.scope)
            .await
            .map_err(|e| TokenError::Unavailable(describe(&e)))?;
        Ok(AccessToken::new(token, Some(left)))
    }
}

#[async_trait]
impl AccessTokenSource for EntraTokens {
    async fn token(&self, scope: &str) -> Result<Secret, SqlTokenError> {
        let (token, _) = self
            .fetch(scope)
            .await
            .map_err(|e| SqlTokenError(describe(&e)))?;
        Ok(token)
    }
}
