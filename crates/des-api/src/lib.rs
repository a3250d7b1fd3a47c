//! The DES REST API: DES's metadata and profile operations, with DES's paths, verbs, query
//! parameters and JSON field names, behind Entra ID bearer authentication.
//!
//! - [`router`] builds the axum router from an explicit [`ApiState`]; `des run` serves it on
//!   127.0.0.1, a Functions handler can serve the same router.
//! - Every secured call needs an RS256 Entra ID token for this API ([`Authenticator`]), and
//!   its caller (`oid`) must be a System Administrator of the organization the call is about
//!   ([`AdminChecker`], cached briefly). 401 for a bad or missing token, 403 for a caller
//!   without the role.
//! - Errors use DES's body `{"CorrelationId", "Details", "Message"}` ([`ApiError`]).
//! - Every request runs in a `request` span with its correlation id, which the answer names
//!   in [`CORRELATION_HEADER`] (and an error body in `CorrelationId`); the span's layer is
//!   the one place answers are logged.
//! - The OpenAPI document at `/swagger/docs/2016-01-01` and the page at `/swagger/ui/index`
//!   are generated from the same route table as the router.
//! - Extensions not in DES live under `x-` paths and are tagged `Extensions`.

mod access;
mod auth;
mod body;
mod directory;
mod error;
mod links;
pub mod monitor;
mod openapi;
pub mod portal;
mod profile_body;
mod query;
mod refusal;
mod routes;
mod serve;
mod span;
mod state;

pub use access::{AdminChecker, AdminRecheck, CachedAdminChecker};
pub use auth::{
    AuthError, AuthSettings, Authenticator, Caller, DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_MIN_REFRESH,
    DEFAULT_SCOPE, MAX_LEEWAY,
};
pub use body::MAX_BODY_BYTES;
pub use directory::{OrgClients, ServiceTokens};
pub use error::ApiError;
pub use links::{FAILURE_LOG_PATH, FailureLinks, LinkError, LinkKey, SignedLinks};
pub use refusal::{MAX_HEADER_BYTES, MAX_URI_BYTES};
pub use routes::router;
pub use serve::{HYPER_BUFFER_BYTES, serve};
pub use span::{CORRELATION_HEADER, CorrelationId};
pub use state::{ApiSettings, ApiState, FAILURE_LINK_LIFETIME, REFUSAL_FLOOR};
