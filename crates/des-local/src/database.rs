//! One SQLite connection per adapter, used from async code on the blocking pool.
//!
//! Every adapter opens its own connection to its file; several adapters may share a file (WAL
//! mode lets them, and other processes, read while one writes). Calls run on tokio's blocking
//! pool (`des_sqlite`) so a slow `fsync` never stalls the async workers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use des_core::ports::{QueueError, StoreError};
use rusqlite::Connection;

/// How long a writer waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub(crate) enum DatabaseError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database worker failed: {0}")]
    Worker(String),
}

impl From<DatabaseError> for StoreError {
    fn from(error: DatabaseError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<DatabaseError> for QueueError {
    fn from(error: DatabaseError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// A shared handle to one open connection, its calls on the blocking pool.
pub(crate) type Database = des_sqlite::Database<DatabaseError>;

impl From<des_sqlite::WorkerStopped> for DatabaseError {
    fn from(stopped: des_sqlite::WorkerStopped) -> Self {
        Self::Worker(stopped.to_string())
    }
}

/// Opens (or creates) the file in WAL mode with full `fsync` on commit, then runs each
/// `schema` batch (idempotent `CREATE ... IF NOT EXISTS` statements).
pub(crate) async fn open(
    path: &Path,
    schema: &'static [&'static str],
) -> Result<Database, DatabaseError> {
    let path: PathBuf = path.to_owned();
    Database::open(move || open_blocking(&path, schema)).await
}

fn open_blocking(path: &Path, schema: &[&str]) -> Result<Connection, DatabaseError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), mode, "SQLite file is not in WAL mode.");
    }
    // FULL: a committed queue message or cursor survives a power cut, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    for batch in schema {
        conn.execute_batch(batch)?;
    }
    Ok(conn)
}

/// Milliseconds since the Unix epoch, the time unit stored in SQLite columns.
pub(crate) fn unix_millis(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
