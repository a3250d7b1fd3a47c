//! The sink contract suite and SQLite-specific checks, against real SQLite files.

mod postgres;
mod sqlite;
