//! One SQLite writer connection per adapter, used from async code on the blocking pool, and a
//! few read-only connections beside it.
//!
//! Every adapter opens its own connections to its file; several adapters may share a file (WAL
//! mode lets them, and other processes, read while one writes). Writes ([`Database::call`])
//! run under a mutex on tokio's blocking pool so a slow `fsync` never stalls the async
//! workers. Reads ([`Database::read`]) run on the calling thread on a free read-only
//! connection: a WAL reader never waits for the writer and never syncs, so a short read costs
//! less there than the two thread hand-offs of the blocking pool (which was most of an API
//! read's time under load). When every reader is busy the read waits on the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
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

/// A shared handle to one open writer connection and its readers.
#[derive(Debug, Clone)]
pub(crate) struct Database {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<[Mutex<Connection>]>,
}

impl Database {
    /// Opens (or creates) the file in WAL mode with full `fsync` on commit, then runs each
    /// `schema` batch (idempotent `CREATE ... IF NOT EXISTS` statements). No readers:
    /// [`Database::read`] runs on the writer.
    pub(crate) async fn open(
        path: &Path,
        schema: &'static [&'static str],
    ) -> Result<Self, DatabaseError> {
        Self::open_with_readers(path, schema, 0).await
    }

    /// [`Database::open`] with up to `readers` read-only connections (at most one per core).
    pub(crate) async fn open_with_readers(
        path: &Path,
        schema: &'static [&'static str],
        readers: usize,
    ) -> Result<Self, DatabaseError> {
        let path: PathBuf = path.to_owned();
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let count = readers.min(cores);
        let (conn, readers) = tokio::task::spawn_blocking(move || {
            let conn = open_blocking(&path, schema)?;
            let readers = (0..count)
                .map(|_| open_reader(&path).map(Mutex::new))
                .collect::<Result<Arc<[_]>, _>>()?;
            Ok::<_, DatabaseError>((conn, readers))
        })
        .await
        .map_err(|e| DatabaseError::Worker(e.to_string()))??;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            readers,
        })
    }

    /// Runs the read `f` on a free read-only connection on this thread, or, when every reader
    /// is busy, on the blocking pool once the first is free. `f` must only read: its
    /// connection refuses writes (`query_only`).
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R, DatabaseError>
    where
        F: FnOnce(&mut Connection) -> Result<R, DatabaseError> + Send + 'static,
        R: Send + 'static,
    {
        for reader in self.readers.iter() {
            let free = match reader.try_lock() {
                Ok(conn) => Some(conn),
                Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => None,
            };
            if let Some(mut conn) = free {
                return f(&mut conn);
            }
        }
        if self.readers.is_empty() {
            return self.call(f).await;
        }
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let mut conn = readers[0].lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| DatabaseError::Worker(e.to_string()))?
    }

    /// Runs `f` with the connection on the blocking pool.
    pub(crate) async fn call<R, F>(&self, f: F) -> Result<R, DatabaseError>
    where
        F: FnOnce(&mut Connection) -> Result<R, DatabaseError> + Send + 'static,
        R: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` rolled its transaction back while unwinding, so the
            // connection behind a poisoned lock is still consistent.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        })
        .await
        .map_err(|e| DatabaseError::Worker(e.to_string()))?
    }
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

/// A connection for [`Database::read`], opened after the writer made the file WAL and its
/// tables.
fn open_reader(path: &Path) -> Result<Connection, DatabaseError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// Milliseconds since the Unix epoch, the time unit stored in SQLite columns.
pub(crate) fn unix_millis(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}
