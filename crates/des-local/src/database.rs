//! One SQLite writer connection per adapter, used from async code on the blocking pool, and a
//! few read-only connections beside it where reads are hot (the control store).
//!
//! Every adapter opens its own connections to its file; several adapters may share a file (WAL
//! mode lets them, and other processes, read while one writes). Writes run on tokio's blocking
//! pool (`des_sqlite`) so a slow `fsync` never stalls the async workers. Reads run on the
//! calling thread on a free read-only connection: a WAL reader never waits for the writer and
//! never syncs, so a short read costs less there than the two thread hand-offs of the blocking
//! pool (which was most of an API read's time under load).

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

/// [`open`] with up to `readers` read-only connections (at most one per core).
pub(crate) async fn open_with_readers(
    path: &Path,
    schema: &'static [&'static str],
    readers: usize,
) -> Result<Database, DatabaseError> {
    let db = open(path, schema).await?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (path, count) = (path.to_owned(), readers.min(cores));
    // Opened after the writer made the file WAL and created its tables.
    let readers = tokio::task::spawn_blocking(move || {
        (0..count)
            .map(|_| open_reader(&path))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| DatabaseError::Worker(e.to_string()))??;
    Ok(db.with_readers(readers))
}

fn open_reader(path: &Path) -> Result<Connection, DatabaseError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
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
