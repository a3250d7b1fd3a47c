//! The servers tests run against, one rule for every crate's tests:
//!
//! - `DES_TEST_PG` names a PostgreSQL server ([`postgres_server`]); unset is an error, so CI
//!   never skips silently, and `DES_TEST_PG=skip` skips.
//! - `DES_TEST_AZURITE` holds Azurite's connection string ([`azurite`]); the same rule.
//! - `DES_TEST_MSSQL` holds a SQL Server's ADO.NET connection string ([`mssql_server`]);
//!   unset (or empty) says NOT RUN and skips, because no SQL Server can run where this
//!   project is built (docs/mssql.md runs one in a container).
//!
//! And [`postgres`] and [`mssql`] make a fresh database per test on those servers.

pub mod mssql;
pub mod postgres;

/// The PostgreSQL server's setting.
pub const PG_ENV: &str = "DES_TEST_PG";
/// The SQL Server's setting.
pub const MSSQL_ENV: &str = "DES_TEST_MSSQL";
/// Azurite's setting.
pub const AZURITE_ENV: &str = "DES_TEST_AZURITE";

/// The PostgreSQL server `what` (say "the PostgreSQL sink tests") runs against, `None` when
/// told to skip. Panics when `DES_TEST_PG` is not set, saying how to start a server.
pub fn postgres_server(what: &str) -> Option<String> {
    match std::env::var(PG_ENV) {
        Ok(value) if value == "skip" => None,
        Ok(value) => Some(value),
        Err(_) => panic!(
            "{PG_ENV} is not set: {what} need a PostgreSQL server. Start a private one with \
             `export $(scripts/pg start /tmp/des-pg)` (stop it with `scripts/pg stop \
             /tmp/des-pg`), or set {PG_ENV}=skip to skip them explicitly"
        ),
    }
}

/// The SQL Server `what` runs against, or `None` with a line saying `what` did not run.
pub fn mssql_server(what: &str) -> Option<String> {
    let value = std::env::var(MSSQL_ENV).ok().filter(|v| !v.is_empty());
    if value.is_none() {
        eprintln!(
            "NOT RUN: {MSSQL_ENV} is not set, so {what} did not run against SQL Server \
             (see docs/mssql.md to run it against SQL Server in a container)"
        );
    }
    value
}

/// Azurite's connection string for `what`, `None` (with a line saying so) when told to
/// skip. Panics when `DES_TEST_AZURITE` is not set, so a CI run without Azurite cannot pass
/// by skipping.
pub fn azurite(what: &str) -> Option<String> {
    match std::env::var(AZURITE_ENV) {
        Ok(value) if value == "skip" => {
            eprintln!("{AZURITE_ENV}=skip: {what} not run");
            None
        }
        Ok(value) => Some(value),
        Err(_) => panic!(
            "{AZURITE_ENV} is not set: {what} need Azurite. Start it with `scripts/azurite \
             start .ci-work/azurite` and export the {AZURITE_ENV}=... line it prints \
             (scripts/test does both), or set {AZURITE_ENV}=skip to skip them"
        ),
    }
}
