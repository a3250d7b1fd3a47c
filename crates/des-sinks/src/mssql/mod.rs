//! The SQL Server / Azure SQL target: DES's exact tables in the profile's schema, written by
//! bulk-loading each batch into a session temp table and applying it with one set-based,
//! version-guarded MERGE per batch, over a small connection pool that follows Azure SQL's
//! login redirect and signs in with SQL logins or Entra ID tokens.
//!
//! Every statement is rendered by the public functions of [`sql`], [`state`], [`schema`],
//! [`permissions`] and [`Layout`], so tests can see and parse each one (`docs/mssql.md`).

mod apply;
mod client;
mod config;
mod connection_string;
mod encoding;
mod isolate;
mod parts;
pub mod permissions;
mod rows;
pub mod schema;
mod service;
pub mod sql;
pub mod state;
mod views;
mod writer;

/// One connection signed in as the sink would be (redirects, Entra tokens, timeouts), for
/// tools that read the target back, such as `des bench`.
pub use client::{Connection, connect};
pub use config::{AZURE_SQL_SCOPE, AccessTokenSource, Auth, ConfigError, MssqlConfig, TokenError};
pub use encoding::MAX_ROW_SIZE;
pub use rows::Layout;
pub use schema::render_ddl;
pub use service::MssqlSink;
