//! The SQLite target: one file, one connection per sink, WAL journal.
//!
//! SQLite has no schemas, so the profile's `DestinationSchemaName` is ignored and tables keep
//! DES's names exactly (`crm_account`, `crm_DeleteLog`); attaching a database per schema would
//! buy nothing for a single-file target.

mod apply;
mod client;
mod config;
mod decimal;
mod encoding;
mod permissions;
mod rows;
mod schema;
mod service;
mod sql;
mod state;
mod views;
mod writer;

pub use config::SqliteConfig;
pub use schema::render_ddl;
pub use service::SqliteSink;
