//! The one connection of a SQLite sink, used from blocking threads.

use std::sync::{Arc, Mutex};

use des_core::ports::SinkError;
use rusqlite::{Connection, ErrorCode};
use tokio::task::JoinHandle;

use super::config::SqliteConfig;

/// A connection behind a mutex; every call runs on tokio's blocking pool so SQLite's
/// synchronous I/O never stalls the async workers.
#[derive(Clone)]
pub struct Client {
    conn: Arc<Mutex<Connection>>,
}

impl Client {
    /// Opens (creating when missing) the file in WAL mode with `synchronous=NORMAL`: a commit
    /// survives a process crash, and only an OS crash can lose the last commits, which the
    /// watermark then re-applies.
    pub fn open(config: &SqliteConfig) -> Result<Self, SinkError> {
        let conn = Connection::open(&config.path).map_err(unavailable)?;
        conn.busy_timeout(config.busy_timeout)
            .map_err(unavailable)?;
        conn.set_prepared_statement_cache_capacity(config.statement_cache);
        let pragmas = format!(
            "PRAGMA page_size = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{};",
            config.page_size, config.cache_kib
        );
        conn.execute_batch(&pragmas).map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on a blocking thread.
    pub async fn run<T, F>(&self, work: F) -> Result<T, SinkError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SinkError> + Send + 'static,
    {
        self.spawn(work).wait().await
    }

    /// Starts `work` on a blocking thread now, so the caller can feed it while it runs.
    pub fn spawn<T, F>(&self, work: F) -> Pending<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SinkError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        Pending(tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves no half transaction behind (SQLite rolls
            // back on the next BEGIN), so a poisoned lock is still safe to use.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut guard)
        }))
    }
}

/// Work running on the blocking pool.
pub struct Pending<T>(JoinHandle<Result<T, SinkError>>);

impl<T> Pending<T> {
    pub async fn wait(self) -> Result<T, SinkError> {
        let stopped = |e| SinkError::Database(format!("SQLite worker stopped: {e}"));
        self.0.await.map_err(stopped)?
    }
}

fn unavailable(e: rusqlite::Error) -> SinkError {
    SinkError::Unavailable(e.to_string())
}

/// Maps a driver error: lock and I/O problems are transient, the rest are database errors.
/// SQLite's messages name tables and constraints, never bound values.
pub fn db_error(e: rusqlite::Error) -> SinkError {
    let transient = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen)
            | Some(ErrorCode::SystemIoFailure | ErrorCode::DiskFull)
    );
    if transient {
        unavailable(e)
    } else {
        SinkError::Database(e.to_string())
    }
}
