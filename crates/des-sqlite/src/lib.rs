//! One SQLite connection used from async code.
//!
//! SQLite's calls are synchronous (a commit waits for `fsync`), so every call runs on tokio's
//! blocking pool under a mutex and the async workers never stall. The local stores
//! (`des-local`) and the SQLite sink (`des-sinks`) both hold their connections this way; each
//! opens its own with its own pragmas and maps driver errors its own way. A holder whose reads
//! are hot adds read-only connections ([`Database::with_readers`]): a short read then runs on
//! the calling thread, sparing the blocking pool's two thread hand-offs.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use des_core::ports::SinkError;
use rusqlite::Connection;
use tokio::task::{JoinError, JoinHandle};

/// The blocking task running a call ended without an answer: the call panicked, or the
/// runtime is shutting down. Each caller's error type says it its own way (`From`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorkerStopped(#[from] JoinError);

/// The sink's words for it: the worker stopped, the database may be fine. Written here
/// because des-sinks owns neither type (the orphan rule); des-local's own error converts there.
impl From<WorkerStopped> for SinkError {
    fn from(stopped: WorkerStopped) -> Self {
        SinkError::Database(format!("SQLite worker stopped: {stopped}"))
    }
}

/// A shared handle to one open connection; clones share it. Calls fail with `E`, the
/// holder's error type (fixed here so each call's closure needs no annotation).
pub struct Database<E> {
    conn: Arc<Mutex<Connection>>,
    readers: Arc<[Mutex<Connection>]>,
    error: PhantomData<fn() -> E>,
}

impl<E> Clone for Database<E> {
    fn clone(&self) -> Self {
        Self {
            conn: Arc::clone(&self.conn),
            readers: Arc::clone(&self.readers),
            error: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for Database<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl<E: From<WorkerStopped> + Send + 'static> Database<E> {
    /// Holds a connection opened on the calling thread.
    pub fn new(conn: Connection) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new([]),
            error: PhantomData,
        }
    }

    /// Adds read-only connections to the same file for [`Database::read`]; the caller opens
    /// them (`query_only`) after the writer made the file's schema.
    #[must_use]
    pub fn with_readers(self, readers: Vec<Connection>) -> Self {
        Self {
            readers: readers.into_iter().map(Mutex::new).collect(),
            ..self
        }
    }

    /// Runs the read `f` on a free read-only connection on this thread, or, when every reader
    /// is busy, on the blocking pool once the first is free; without readers, as [`Database::call`].
    /// `f` must be short and only read.
    pub async fn read<R, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Connection) -> Result<R, E> + Send + 'static,
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
        let pending = tokio::task::spawn_blocking(move || {
            let mut conn = readers[0].lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        });
        Pending(pending).wait().await
    }

    /// Runs `open` on the blocking pool (opening a file and applying its schema wait on I/O)
    /// and holds the connection it returns.
    pub async fn open<F>(open: F) -> Result<Self, E>
    where
        F: FnOnce() -> Result<Connection, E> + Send + 'static,
    {
        let conn = tokio::task::spawn_blocking(open)
            .await
            .map_err(|e| E::from(WorkerStopped(e)))??;
        Ok(Self::new(conn))
    }

    /// Runs `f` with the connection on the blocking pool.
    pub async fn call<R, F>(&self, f: F) -> Result<R, E>
    where
        F: FnOnce(&mut Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
    {
        self.spawn(f).wait().await
    }

    /// Starts `f` on the blocking pool now, so the caller can feed it while it runs.
    pub fn spawn<R, F>(&self, f: F) -> Pending<R, E>
    where
        F: FnOnce(&mut Connection) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        Pending(tokio::task::spawn_blocking(move || {
            // A panic inside `f` rolled its transaction back while unwinding (or SQLite does at
            // the next BEGIN), so the connection behind a poisoned lock is still consistent.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut conn)
        }))
    }
}

/// A call running on the blocking pool.
pub struct Pending<R, E>(JoinHandle<Result<R, E>>);

impl<R, E: From<WorkerStopped>> Pending<R, E> {
    /// Its answer, or the caller's error for a worker that stopped.
    pub async fn wait(self) -> Result<R, E> {
        self.0.await.map_err(|e| E::from(WorkerStopped(e)))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Error {
        #[error(transparent)]
        Sqlite(#[from] rusqlite::Error),
        #[error("stopped: {0}")]
        Stopped(#[from] WorkerStopped),
    }

    #[tokio::test]
    async fn clones_share_the_connection_and_a_panicked_call_leaves_it_usable() {
        let db: Database<Error> = Database::open(|| Ok(Connection::open_in_memory()?))
            .await
            .unwrap();
        let other = db.clone();
        db.call(|conn| Ok(conn.execute_batch("CREATE TABLE t (n INTEGER)")?))
            .await
            .unwrap();
        let panicked = other.call(|_| -> Result<(), Error> { panic!("a call that panics") });
        let panicked = panicked.await;
        assert!(matches!(panicked, Err(Error::Stopped(_))), "{panicked:?}");
        let pending = other.spawn(|conn| {
            conn.execute("INSERT INTO t VALUES (1)", [])?;
            Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))?)
        });
        assert_eq!(pending.wait().await.unwrap(), 1);
    }

    #[tokio::test]
    #[expect(
        clippy::await_holding_lock,
        reason = "the test holds every reader to make a read take the fallback"
    )]
    async fn reads_see_what_the_writer_committed_and_every_reader_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let open = {
            let path = path.clone();
            move || -> Result<Connection, Error> {
                let conn = Connection::open(&path)?;
                conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
                conn.execute_batch("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7)")?;
                Ok(conn)
            }
        };
        let db: Database<Error> = Database::open(open).await.unwrap();
        let readers = (0..2).map(|_| Connection::open(&path).unwrap()).collect();
        let db = db.with_readers(readers);
        let sum = |conn: &mut Connection| -> Result<i64, Error> {
            Ok(conn.query_row("SELECT SUM(n) FROM t", [], |r| r.get(0))?)
        };
        assert_eq!(db.read(sum).await.unwrap(), 7);
        db.call(|conn| Ok(conn.execute("INSERT INTO t VALUES (5)", []).map(|_| ())?))
            .await
            .unwrap();
        // Both readers held: the read waits on the blocking pool for the first.
        let held = db.readers[1].lock().unwrap();
        let first = db.readers[0].lock().unwrap();
        let waiting = tokio::spawn({
            let db = db.clone();
            async move { db.read(sum).await }
        });
        tokio::task::yield_now().await;
        drop(first);
        assert_eq!(waiting.await.unwrap().unwrap(), 12);
        drop(held);
    }
}
