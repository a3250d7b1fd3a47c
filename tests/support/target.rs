//! The database a harness exports into: a SQLite file in the run's temp dir, or a fresh
//! PostgreSQL database on the server named by `DES_TEST_PG`, or a fresh SQL Server database
//! on the server named by `DES_TEST_MSSQL`. Either way the real sink writes it, and
//! [`TargetDb::rows`] reads it back normalised for [`crate::compare`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use des_core::ports::Sink;
use des_core::schema::TableDef;
use des_sinks::sqlite::{SqliteConfig, SqliteSink};

use crate::compare::{TargetRows, sqlite_rows};
use crate::mssql::MssqlDatabase;
use crate::postgres::PgDatabase;

/// Which kind of target a harness sets up.
#[derive(Debug, Clone, Default)]
pub enum TargetKind {
    #[default]
    Sqlite,
    /// A server connection string; each harness creates its own database on it.
    Postgres(String),
    /// An ADO.NET connection string; each harness creates its own database on it.
    Mssql(String),
}

/// The PostgreSQL server to test against (`des_test_env::postgres_server`: unset is an error,
/// so CI never skips silently; `DES_TEST_PG=skip` skips).
pub fn postgres_server() -> Option<String> {
    des_test_env::postgres_server("the engine and convergence tests on PostgreSQL")
}

/// The SQL Server to test against, or `None` with a line saying `what` did not run
/// (`des_test_env::mssql_server`).
pub fn mssql_server(what: &str) -> Option<String> {
    des_test_env::mssql_server(what)
}

/// One harness's target database.
pub enum TargetDb {
    Sqlite(PathBuf),
    Postgres(Box<PgDatabase>),
    Mssql(Box<MssqlDatabase>),
}

impl TargetDb {
    /// Creates the target: a file path in `dir`, or a new database on the server.
    pub async fn create(target: &TargetKind, dir: &Path) -> Self {
        match target {
            TargetKind::Sqlite => Self::Sqlite(dir.join("target.db")),
            TargetKind::Postgres(url) => Self::Postgres(Box::new(PgDatabase::create(url).await)),
            TargetKind::Mssql(ado) => Self::Mssql(Box::new(MssqlDatabase::create(ado).await)),
        }
    }

    /// A new real sink on this target, as a (re)started process opens it.
    pub async fn open_sink(&self) -> Arc<dyn Sink> {
        match self {
            Self::Sqlite(path) => {
                Arc::new(SqliteSink::open(&SqliteConfig::new(path)).expect("SQLite target opens"))
            }
            Self::Postgres(db) => db.open_sink().await,
            Self::Mssql(db) => db.open_sink().await,
        }
    }

    /// Every row of `table` by lower-case `Id`, each cell normalised per column type.
    pub async fn rows(&self, table: &TableDef) -> Result<TargetRows, String> {
        match self {
            Self::Sqlite(path) => sqlite_rows(path, table),
            Self::Postgres(db) => db.rows(table).await,
            Self::Mssql(db) => db.rows(table).await,
        }
    }

    /// The SQLite file, for tests that open it themselves.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) | Self::Mssql(_) => None,
        }
    }
}
