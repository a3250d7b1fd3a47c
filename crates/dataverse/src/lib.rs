//! Dataverse Web API v9.2 client.
//!
//! [`DataverseClient`] implements the des-core [`Source`](des_core::ports::Source) port:
//! metadata discovery into the typed model, change-tracked paging (initial read, `nextLink`,
//! `deltaLink`) and retries on throttling and transient faults. Tokens come from any
//! [`TokenProvider`]; [`ClientCredentials`] behind a [`CachedToken`] is the usual choice.
//!
//! Pages are parsed without building a JSON tree per row: each row is a map of raw JSON
//! slices, converted cell by cell through a [`ColumnPlan`] built from the entity metadata.

mod batch;
mod cell;
mod client;
mod config;
mod fault;
mod identity;
pub mod metadata;
mod pace;
mod page;
mod plan;
mod retry;
pub mod token;
mod transport;
mod users;

pub use client::DataverseClient;
pub use config::{ClientConfig, ConfigError, DEFAULT_MAX_CONCURRENCY, RetryPolicy};
pub use fault::{EXPIRED_VERSION_STAMP, ServiceErrorBody, TokenErrorBody};
pub use identity::{SYSTEM_ADMIN_ROLE_TEMPLATE, WhoAmI};
pub use pace::PaceStats;
pub use page::parse_page;
pub use plan::{ColumnPlan, PlannedColumn, WireSource};
pub use token::{
    AccessToken, CachedToken, ClientCredentials, StaticToken, TokenError, TokenFn, TokenProvider,
};
