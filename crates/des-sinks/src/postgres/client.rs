//! A small connection pool and the mapping of driver errors to [`SinkError`].

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use des_core::ErrorClass;
use des_core::ports::SinkError;
use tokio::sync::{Semaphore, SemaphorePermit};
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

/// Maps a driver error to its class by SQLSTATE. Only the server's message and SQLSTATE are
/// kept: its DETAIL line can quote row values.
pub(super) fn db_error(e: tokio_postgres::Error) -> SinkError {
    let Some(db) = e.as_db_error() else {
        let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
        // Without a server error, a closed connection or an I/O failure is worth retrying;
        // anything else (a protocol surprise) needs someone to look.
        return if e.is_closed() || io {
            SinkError::Unavailable(e.to_string())
        } else {
            SinkError::Database(e.to_string())
        };
    };
    let text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if missing_schema(db.code().code()) {
        return SinkError::Missing(text);
    }
    SinkError::of_class(sqlstate_class(db.code().code()), text)
}

/// Undefined table (42P01) or column (42703): applying the plan again recreates it.
pub(super) fn missing_schema(code: &str) -> bool {
    matches!(code, "42P01" | "42703")
}

/// The class of a SQLSTATE, by its two-character class, then a few codes of their own.
pub(super) fn sqlstate_class(code: &str) -> ErrorClass {
    match (&code[..2.min(code.len())], code) {
        // Invalid authorization, an unknown database: the profile's connection string.
        ("28", _) | (_, "3D000") => ErrorClass::Configuration,
        // Connection exceptions, transaction rollbacks (serialization failure, deadlock),
        // insufficient resources, lock not available, operator intervention (shutdown,
        // cancel): the same statement may well work later.
        ("08" | "40" | "53" | "55" | "57" | "58", _) => ErrorClass::Transient,
        // Data exceptions (conversion, length, range), integrity constraints (not null,
        // unique, foreign key, check), program limits (row too big) and errors raised by a
        // PL/pgSQL trigger (`RAISE EXCEPTION`, P0001): this record's values.
        ("22" | "23" | "54" | "P0", _) => ErrorClass::Record,
        // Syntax or access rule violations (undefined table or column, insufficient
        // privilege) and everything else: the target needs the operator.
        _ => ErrorClass::Target,
    }
}

/// The same error as a failed schema change of `table`.
pub(super) fn schema_error(table: &str) -> impl Fn(tokio_postgres::Error) -> SinkError + '_ {
    move |e| match db_error(e) {
        SinkError::Database(reason) | SinkError::Missing(reason) => SinkError::Schema {
            table: table.to_owned(),
            reason,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undefined_table_or_column_is_missing_schema() {
        assert!(missing_schema("42P01"));
        assert!(missing_schema("42703"));
        for other in ["42501", "3F000", "42601", "23505"] {
            assert!(!missing_schema(other), "{other}");
        }
    }

    #[test]
    fn each_sqlstate_class_has_its_class() {
        let cases = [
            ("08006", ErrorClass::Transient),     // connection failure
            ("08001", ErrorClass::Transient),     // cannot connect
            ("40001", ErrorClass::Transient),     // serialization failure
            ("40P01", ErrorClass::Transient),     // deadlock detected
            ("53300", ErrorClass::Transient),     // too many connections
            ("55P03", ErrorClass::Transient),     // lock not available
            ("57P01", ErrorClass::Transient),     // admin shutdown
            ("57014", ErrorClass::Transient),     // query canceled (statement timeout)
            ("22001", ErrorClass::Record),        // string data right truncation
            ("22003", ErrorClass::Record),        // numeric value out of range
            ("22P02", ErrorClass::Record),        // invalid text representation
            ("23502", ErrorClass::Record),        // not null violation
            ("23505", ErrorClass::Record),        // unique violation
            ("23503", ErrorClass::Record),        // foreign key violation
            ("23514", ErrorClass::Record),        // check violation
            ("54000", ErrorClass::Record),        // program limit exceeded (row too big)
            ("P0001", ErrorClass::Record),        // raise_exception from a trigger
            ("42P01", ErrorClass::Target),        // undefined table
            ("42703", ErrorClass::Target),        // undefined column
            ("42501", ErrorClass::Target),        // insufficient privilege
            ("3F000", ErrorClass::Target),        // invalid schema name
            ("XX000", ErrorClass::Target),        // internal error
            ("28P01", ErrorClass::Configuration), // invalid password
            ("28000", ErrorClass::Configuration), // invalid authorization
            ("3D000", ErrorClass::Configuration), // database does not exist
        ];
        for (code, class) in cases {
            assert_eq!(sqlstate_class(code), class, "SQLSTATE {code}");
        }
    }
}
