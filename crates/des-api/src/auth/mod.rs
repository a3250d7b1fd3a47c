//! Entra ID bearer tokens: RS256 only, signature checked against the issuer's JWKS (found
//! through OpenID discovery and cached), issuer, audience, `exp` and `nbf` with a small leeway.
//! The caller is the token's `oid`.

mod keys;

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use url::Url;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::ApiState;
use keys::KeyCache;

/// The largest clock skew accepted on `exp` and `nbf`.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// Who issues tokens and for whom they must be.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `https://login.microsoftonline.com/<tenant>/v2.0` (or the emulator's issuer); its
    /// `/.well-known/openid-configuration` names the JWKS.
    pub authority: Url,
    /// Accepted `aud` values: the API's app id URI and/or client id.
    pub audiences: Vec<String>,
    /// Accepted `iss` values; empty means "the issuer the discovery document names".
    pub issuers: Vec<String>,
    /// Clock skew allowed on `exp`/`nbf`, capped at [`MAX_LEEWAY`].
    pub leeway: Duration,
    /// Shortest time between two JWKS fetches caused by unknown `kid`s.
    pub jwks_min_refresh: Duration,
}

impl AuthSettings {
    pub fn new(authority: Url, audience: impl Into<String>) -> Self {
        Self {
            authority,
            audiences: vec![audience.into()],
            issuers: Vec::new(),
            leeway: Duration::from_secs(30),
            jwks_min_refresh: Duration::from_secs(30),
        }
    }

    /// The `WWW-Authenticate` value ADAL's `CreateFromResourceUrlAsync` reads.
    pub fn challenge(&self) -> String {
        let audience = self.audiences.first().map_or("", String::as_str);
        format!(
            "Bearer authorization_uri=\"{}\", resource_id=\"{audience}\"",
            self.authority.as_str().trim_end_matches('/')
        )
    }
}

/// Why a token was refused (all answer 401; the reason is only logged).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("token refused: {0}")]
    Invalid(String),
    #[error("token signed with a key the issuer does not publish")]
    UnknownKey,
    #[error("the token issuer could not be reached: {0}")]
    IssuerUnavailable(String),
    #[error("authentication is misconfigured: {0}")]
    Config(String),
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Entra object id (`oid`), matched against `systemuser.azureactivedirectoryobjectid`.
    pub object_id: Uuid,
}

#[derive(Deserialize)]
struct Claims {
    oid: Uuid,
}

/// Validates bearer tokens.
pub struct Authenticator {
    settings: AuthSettings,
    keys: KeyCache,
}

impl Authenticator {
    pub fn new(mut settings: AuthSettings) -> Result<Self, AuthError> {
        settings.leeway = settings.leeway.min(MAX_LEEWAY);
        if settings.audiences.is_empty() {
            return Err(AuthError::Config(
                "at least one audience is required".into(),
            ));
        }
        let keys = KeyCache::new(&settings.authority, settings.jwks_min_refresh)?;
        Ok(Self { settings, keys })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks an `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
        let token = bearer(authorization).ok_or(AuthError::Missing)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AuthError::Invalid(format!("header: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid(format!("algorithm {:?}", header.alg)));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("no kid".into()))?;
        let key = self.keys.key(&kid).await?;
        let validation = self.validation().await;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(Caller {
            object_id: data.claims.oid,
        })
    }

    async fn validation(&self) -> Validation {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_audience(&self.settings.audiences);
        let issuers = match self.settings.issuers.as_slice() {
            [] => self.keys.discovered_issuer().await.into_iter().collect(),
            given => given.to_vec(),
        };
        // No issuer known means none is accepted: an empty list would skip the check.
        let issuers = if issuers.is_empty() {
            vec![String::from("\0")]
        } else {
            issuers
        };
        validation.set_issuer(&issuers);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
        validation
    }
}

fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let auth = state.authenticator();
        match auth.authenticate(header).await {
            Ok(caller) => Ok(caller),
            Err(AuthError::IssuerUnavailable(cause)) => {
                tracing::warn!(%cause, "Cannot fetch the token issuer's keys.");
                Err(ApiError::unavailable(
                    "The token issuer's keys could not be fetched.",
                ))
            }
            Err(error) => {
                tracing::info!(%error, "Refused a request.");
                Err(unauthorized(auth.settings()))
            }
        }
    }
}

/// 401 with the challenge.
pub fn unauthorized(settings: &AuthSettings) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "A valid Entra ID bearer token is required.",
        "Send 'Authorization: Bearer <token>' with a token for this API.",
    )
    .with_challenge(settings.challenge())
}
