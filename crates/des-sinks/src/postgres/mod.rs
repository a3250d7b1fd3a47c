//! The PostgreSQL target: DES's tables in the profile's schema, written with binary COPY into
//! the session's staging table and one set-based upsert per batch, over a small connection
//! pool.
//!
//! Tests run the sink contract suite against a private cluster started by `scripts/pg`.

mod apply;
mod client;
mod config;
mod copy;
mod encoding;
mod isolate;
mod metadata;
mod permissions;
mod rows;
mod schema;
mod service;
mod sql;
mod stage;
mod state;
mod views;
mod writer;

pub use config::{ConfigError, PostgresConfig};
pub use schema::render_ddl;
pub use service::PostgresSink;
