//! Entra ID bearer tokens: RS256 only, signature checked against the issuer's JWKS (found
//! through OpenID discovery and cached), issuer, audience, `exp` and `nbf` with a small leeway,
//! then the permission: a delegated token must carry the configured scope (`scp`), an
//! app-only token is refused unless the operator named app roles it may carry (`roles`).
//! The caller is the token's `oid`. A token that passed is remembered until its `exp`
//! under the key set it was verified with (`accepted`), so a client's next request with it
//! skips the signature check.

mod accepted;
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
use accepted::AcceptedTokens;
use keys::KeyCache;

/// The largest clock skew accepted on `exp` and `nbf`.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);
/// The delegated permission DES's API exposed, required unless configured otherwise.
pub const DEFAULT_SCOPE: &str = "user_impersonation";
/// Shortest time between two JWKS fetches caused by tokens (unknown `kid`s, stale keys).
pub const DEFAULT_JWKS_MIN_REFRESH: Duration = Duration::from_secs(300);
/// Keys older than this are refetched when a token arrives, so a key the issuer announced
/// ahead of its use is known before the first token signed with it.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

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
    /// Shortest time between two JWKS fetches caused by tokens: whatever an attacker sends,
    /// the issuer is asked at most once per this interval.
    pub jwks_min_refresh: Duration,
    /// Keys older than this are refetched (at most once per `jwks_min_refresh`).
    pub jwks_max_age: Duration,
    /// The delegated permission a user token must carry in `scp` (DES: `user_impersonation`).
    pub scope: String,
    /// App roles that admit an app-only token (`idtyp: app`, or no `scp`). Empty (the
    /// default): app-only tokens are refused. An admitted app must still be a System
    /// Administrator (an application user) of the organization.
    pub app_roles: Vec<String>,
}

impl AuthSettings {
    pub fn new(authority: Url, audience: impl Into<String>) -> Self {
        Self {
            authority,
            audiences: vec![audience.into()],
            issuers: Vec::new(),
            leeway: Duration::from_secs(30),
            jwks_min_refresh: DEFAULT_JWKS_MIN_REFRESH,
            jwks_max_age: DEFAULT_JWKS_MAX_AGE,
            scope: DEFAULT_SCOPE.to_owned(),
            app_roles: Vec::new(),
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

/// Why a token was refused: 401 for all but `Permission` (403, `insufficient_scope`); the
/// reason is only logged.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token lacks the permission: {0}")]
    Permission(String),
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
    /// An application acting as itself (admitted by an app role), not a signed-in user.
    pub app_only: bool,
}

#[derive(Deserialize)]
struct Claims {
    oid: Uuid,
    exp: u64,
    #[serde(default)]
    scp: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    /// `app` or `user` (an optional claim in v2 tokens).
    #[serde(default)]
    idtyp: Option<String>,
}

impl Claims {
    /// Delegated tokens always carry `scp`; app-only tokens never do.
    fn app_only(&self) -> bool {
        self.idtyp.as_deref() == Some("app") || self.scp.is_none()
    }
}

/// Validates bearer tokens.
pub struct Authenticator {
    settings: AuthSettings,
    keys: KeyCache,
    accepted: AcceptedTokens,
}

impl Authenticator {
    pub fn new(mut settings: AuthSettings) -> Result<Self, AuthError> {
        settings.leeway = settings.leeway.min(MAX_LEEWAY);
        if settings.audiences.is_empty() {
            return Err(AuthError::Config(
                "at least one audience is required".into(),
            ));
        }
        if settings.scope.trim().is_empty() {
            return Err(AuthError::Config("the required scope is empty".into()));
        }
        settings.app_roles.retain(|r| !r.trim().is_empty());
        let refresh = keys::Refresh {
            min_interval: settings.jwks_min_refresh,
            max_age: settings.jwks_max_age,
        };
        let keys = KeyCache::new(&settings.authority, refresh)?;
        Ok(Self {
            settings,
            keys,
            accepted: AcceptedTokens::default(),
        })
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Checks an `Authorization` header value: a token accepted before under the same keys
    /// and not expired is taken as it was (`accepted`), any other is checked in full.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
        let token = bearer(authorization).ok_or(AuthError::Missing)?;
        let now = jsonwebtoken::get_current_timestamp();
        let keys = self.keys.generation();
        if let Some(caller) = self.accepted.get(token, keys, now) {
            return Ok(caller);
        }
        let (caller, expires) = self.verify(token).await?;
        // The generation read before the check: a fetch during it makes this entry unusable.
        self.accepted.put(token, caller.clone(), expires, keys, now);
        Ok(caller)
    }

    /// The full check: signature, claims and permission; the caller and the token's `exp`.
    async fn verify(&self, token: &str) -> Result<(Caller, u64), AuthError> {
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
        self.permitted(&data.claims)?;
        let caller = Caller {
            object_id: data.claims.oid,
            app_only: data.claims.app_only(),
        };
        Ok((caller, data.claims.exp))
    }

    /// The token's permission: the configured scope for a user, a configured role for an app.
    fn permitted(&self, claims: &Claims) -> Result<(), AuthError> {
        if claims.app_only() {
            let admitted = claims
                .roles
                .iter()
                .any(|r| self.settings.app_roles.contains(r));
            return match admitted {
                true => Ok(()),
                false if self.settings.app_roles.is_empty() => Err(AuthError::Permission(
                    "app-only tokens are not accepted".into(),
                )),
                false => Err(AuthError::Permission(
                    "the app-only token carries none of the accepted app roles".into(),
                )),
            };
        }
        let scopes = claims.scp.as_deref().unwrap_or_default();
        match scopes.split(' ').any(|s| s == self.settings.scope) {
            true => Ok(()),
            false => Err(AuthError::Permission(format!(
                "scope '{}' is missing",
                self.settings.scope
            ))),
        }
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
            Err(AuthError::Permission(why)) => {
                tracing::info!(%why, "Refused a token without the permission.");
                Err(insufficient_scope(auth.settings()))
            }
            Err(error) => {
                tracing::info!(%error, "Refused a request.");
                Err(unauthorized(auth.settings()))
            }
        }
    }
}

/// 403 for a valid token that does not carry the permission (RFC 6750 `insufficient_scope`).
pub fn insufficient_scope(settings: &AuthSettings) -> ApiError {
    let scope = &settings.scope;
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        format!("The token does not grant this API's delegated permission '{scope}'."),
        "Sign in as a user and request the API's delegated permission; app-only tokens are \
         accepted only when the operator configured an app role for them.",
    )
    .with_challenge(format!(
        "{}, error=\"insufficient_scope\", scope=\"{scope}\"",
        settings.challenge()
    ))
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
