#![recursion_limit = "512"]
//! A Dataverse Web API v9.2 and Entra ID token endpoint emulator.
//!
//! It serves deterministic sample CRM data (account, contact, lead, opportunity, users, roles,
//! a custom table, an N:N intersect and an untracked table) with the metadata routes, paging,
//! change tracking, writes, `$batch` and faults a replicator meets against a real organisation.
//! Generated rows are computed on demand from the seed, so a million-row table costs no memory
//! until rows are written.
//!
//! Choices where Dataverse's behaviour is undocumented (see `dataverse-protocol.md` §8):
//! - An expired or unknown `$deltatoken` answers **HTTP 400** with code `0x80044352`
//!   (ExpiredVersionStamp) and the message users reported.
//! - A paged tracked read fixes its delta token at the first page and carries it in the
//!   `$skiptoken` cookie (`istracking="True"`, extra `versionstamp` attribute), so changes
//!   made while paging come back in the first delta.
//! - "No changes" is `value: []` plus a new delta link.
//! - 401 bodies use the auth-ticket codes `0x8004a101` (missing), `0x8004a102` (expired) and
//!   `0x8004a103` (invalid), with a `WWW-Authenticate: Bearer authorization_uri=...` header.
//! - `$filter` on data: comparisons, `and`/`or`/`not`, `contains`/`startswith`/`endswith`,
//!   `null`; text compares without regard to case (the database collation). `$orderby` sorts
//!   empty values first; with `$orderby` a `nextLink` pages by position. `$expand` follows
//!   single-valued navigation properties (nested `$select` only); collection-valued ones are
//!   refused. With change tracking all of these are refused, as the service does.
//! - Change sets in `$batch` run in order but not atomically.
//! - Interactive sign-in (`/oauth2/v2.0/authorize`) keeps no session: every sign-in shows the
//!   account list, and `prompt=none` always answers `login_required`. Codes are answered in
//!   the query or the fragment (`response_mode=form_post` is not offered); sign-in issues no
//!   refresh tokens.
//! - Service-protection limits: `src/limits/mod.rs` says how `Retry-After` is chosen and what
//!   counts.

mod auth;
mod control;
mod cost;
mod csdl;
mod error;
mod faults;
mod format;
mod generate;
mod limits;
mod metadata;
mod odata;
mod persist;
mod render;
mod rollover;
mod routes;
mod schema;
mod server;
mod signin;
mod store;

pub use auth::FOREIGN_PEM;
pub use control::Control;
pub use cost::{Cost, CostModel, CostRequest};
pub use error::EmulatorError;
pub use faults::{FaultRequest, Faults};
pub use limits::{Limiter, LimitsRequest, ServiceLimits, UserUsage};
pub use server::Emulator;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The System Administrator role template id, the same in every environment.
pub const SYSTEM_ADMIN_ROLE_TEMPLATE: &str = schema::security::SYSTEM_ADMIN_TEMPLATE;
/// The `kid` of the emulator's signing key.
pub const SIGNING_KEY_ID: &str = auth::KID;

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// 0 picks a free port on 127.0.0.1.
    pub port: u16,
    /// Sample rows per table.
    pub records: usize,
    /// Per-table overrides of `records`, e.g. `{"account": 1_000_000}`.
    pub records_per_entity: HashMap<String, usize>,
    pub seed: u64,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub state_file: Option<PathBuf>,
    /// Delta tokens older than this expire.
    pub change_token_retention: Option<Duration>,
    /// Service-protection limits per user (the service's documented defaults).
    pub limits: ServiceLimits,
    /// How long a request takes at least (off by default).
    pub cost: CostModel,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            records: 100,
            records_per_entity: HashMap::new(),
            seed: 42,
            tenant_id: "9188040d-6c67-4c5b-b112-36a304b66dad".to_owned(),
            client_id: "51f81489-12ee-4a9e-aaae-a2591f45987d".to_owned(),
            client_secret: "emulator-secret".to_owned(),
            state_file: None,
            change_token_retention: None,
            limits: ServiceLimits::default(),
            cost: CostModel::default(),
        }
    }
}

/// Signs a token for `audience` with a key the emulator does not trust (for refusal tests).
pub fn foreign_token(audience: &str, issuer: &str, tenant: &str) -> String {
    let now = auth::now();
    let claims = auth::Claims {
        aud: audience.to_owned(),
        iss: issuer.to_owned(),
        iat: now,
        nbf: now,
        exp: now + 3600,
        tid: tenant.to_owned(),
        oid: uuid::Uuid::nil().to_string(),
        sub: uuid::Uuid::nil().to_string(),
        appid: None,
        upn: None,
        scp: None,
        roles: None,
        ver: "2.0".to_owned(),
    };
    auth::sign_foreign(&claims)
}
