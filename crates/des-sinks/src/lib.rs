//! SQL targets behind the des-core [`Sink`](des_core::ports::Sink) port.
//!
//! One folder per dialect, each with the same file roles: `config` (how to reach the target),
//! `client` (the connection), `schema` (DDL rendering and evolution), `sql` (statement text),
//! `encoding` (record values → SQL parameters, with DES's per-record checks), `apply` (the
//! transactions) and `service` (the `Sink` impl).

mod checks;
mod columns;
mod metadata;
pub mod mssql;
mod open;
pub mod postgres;
mod prepared;
pub mod sqlite;
mod tables;
mod views;

use des_core::schema::SchemaPlan;

pub use open::{Opening, SqlTokens};

/// A SQL dialect the plan can be rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    PostgreSql,
    /// SQL Server and Azure SQL (T-SQL), DES's own target.
    TSql,
}

/// The `CREATE TABLE IF NOT EXISTS` statements for every table of the plan, including the
/// sink's own state tables, in creation order.
pub fn render_ddl(plan: &SchemaPlan, dialect: Dialect) -> Vec<String> {
    match dialect {
        Dialect::Sqlite => sqlite::render_ddl(plan),
        Dialect::PostgreSql => postgres::render_ddl(plan),
        Dialect::TSql => mssql::render_ddl(plan),
    }
}
