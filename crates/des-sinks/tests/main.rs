//! The sink contract suite and SQLite-specific checks, against real SQLite files.

mod mssql;
mod postgres;
mod reports;
mod sqlite;
