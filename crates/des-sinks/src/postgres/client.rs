//! A small connection pool and the mapping of driver errors to [`SinkError`].

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use des_core::ports::SinkError;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, NoTls};

use super::config::PostgresConfig;
use super::stage::Stages;

/// At most `pool_size` connections, opened on demand and reused; a closed one is dropped.
pub(super) struct Pool {
    config: Config,
    idle: Mutex<Vec<Session>>,
    permits: Semaphore,
}

/// One connection and the staging tables its session has (they live as long as it).
struct Session {
    client: Client,
    stages: Stages,
}

/// A connection on loan; it goes back to the pool when dropped. A transaction left open by a
/// cancelled call is rolled back by the driver before the connection runs anything else.
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    session: Option<Session>,
    _permit: SemaphorePermit<'a>,
}

impl Pool {
    pub(super) fn new(config: &PostgresConfig) -> Self {
        Self {
            config: config.connection.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(config.pool_size),
        }
    }

    pub(super) async fn get(&self) -> Result<Pooled<'_>, SinkError> {
        self.get_with(None).await
    }

    /// A connection, preferably one whose session already has the staging table `stage`.
    pub(super) async fn get_for(&self, stage: &str) -> Result<Pooled<'_>, SinkError> {
        self.get_with(Some(stage)).await
    }

    async fn get_with(&self, stage: Option<&str>) -> Result<Pooled<'_>, SinkError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SinkError::Unavailable("connection pool closed".into()))?;
        let session = match self.take_idle(stage) {
            Some(session) => session,
            None => Session {
                client: self.connect().await?,
                stages: Stages::default(),
            },
        };
        Ok(Pooled {
            pool: self,
            session: Some(session),
            _permit: permit,
        })
    }

    /// The most recently returned idle connection, or the most recent one that has `stage`.
    fn take_idle(&self, stage: Option<&str>) -> Option<Session> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|s| !s.client.is_closed());
        let has = |s: &Session| stage.is_some_and(|name| s.stages.contains(name));
        match idle.iter().rposition(has) {
            Some(at) => Some(idle.remove(at)),
            None => idle.pop(),
        }
    }

    /// TLS seam: connections are plain for now (loopback and private networks). To encrypt,
    /// pass a `MakeTlsConnect` (e.g. from `tokio-postgres-rustls`) here instead of `NoTls`;
    /// `sslmode` in the connection string already reaches the driver.
    async fn connect(&self) -> Result<Client, SinkError> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(db_error)?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(error = %error, "PostgreSQL connection ended");
            }
        });
        Ok(client)
    }
}

impl Pooled<'_> {
    pub(super) fn stages(&self) -> &Stages {
        &self.session().stages
    }

    pub(super) fn stages_mut(&mut self) -> &mut Stages {
        &mut self.session_mut().stages
    }

    fn session(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a pooled session is present until dropped")
    }

    fn session_mut(&mut self) -> &mut Session {
        self.session
            .as_mut()
            .expect("a pooled session is present until dropped")
    }
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.session().client
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.session_mut().client
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(session) = self.session.take().filter(|s| !s.client.is_closed()) {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(session);
        }
    }
}

/// Lost connections, shutdowns, lock conflicts and resource limits are worth retrying; the
/// rest are database errors. Only the server's message and SQLSTATE are kept: its DETAIL
/// line can quote row values.
pub(super) fn db_error(e: tokio_postgres::Error) -> SinkError {
    let Some(db) = e.as_db_error() else {
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        return if e.is_closed() || io {
            SinkError::Unavailable(e.to_string())
        } else {
            SinkError::Database(e.to_string())
        };
    };
    let text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if transient(db.code()) {
        SinkError::Unavailable(text)
    } else {
        SinkError::Database(text)
    }
}

fn transient(code: &SqlState) -> bool {
    let class = &code.code()[..2];
    matches!(class, "08" | "53" | "57")
        || [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
        ]
        .contains(code)
}

/// The same error as a failed schema change of `table`.
pub(super) fn schema_error(table: &str) -> impl Fn(tokio_postgres::Error) -> SinkError + '_ {
    move |e| match db_error(e) {
        SinkError::Database(reason) => SinkError::Schema {
            table: table.to_owned(),
            reason,
        },
        other => other,
    }
}
