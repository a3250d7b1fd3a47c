//! Connections: Azure SQL's login redirect, Entra tokens, a small pool, transactions, and
//! the mapping of driver errors to [`SinkError`].

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use des_core::ErrorClass;
use des_core::ports::SinkError;
use tiberius::error::Error;
use tiberius::{AuthMethod, Client, ToSql};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::config::{Auth, MssqlConfig};

/// One signed-in connection to the target.
pub type Connection = Client<Compat<TcpStream>>;

/// Redirects followed per login. Azure SQL sends one (gateway → node); more means a loop.
const MAX_REDIRECTS: usize = 2;

/// At most `pool_size` connections, opened on demand and reused. A connection goes back only
/// when its operation finished cleanly: one left mid-response (a timeout) or mid-transaction
/// (a cancelled call) is dropped, which closes it and makes the server roll back.
pub(super) struct Pool {
    config: MssqlConfig,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
    clean: bool,
    _permit: SemaphorePermit<'a>,
}

impl Pool {
    pub(super) fn new(config: &MssqlConfig) -> Self {
        Self {
            config: config.clone(),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(config.pool_size()),
        }
    }

    pub(super) async fn get(&self) -> Result<Pooled<'_>, SinkError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SinkError::Unavailable("connection pool closed".into()))?;
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            // The TDS handshake future is large; keep it off the caller's stack.
            None => Box::pin(connect(&self.config)).await?,
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
            clean: false,
            _permit: permit,
        })
    }
}

impl Pooled<'_> {
    /// The operation finished and left nothing open: the connection may be reused.
    pub(super) fn release(mut self) {
        self.clean = true;
    }
}

impl Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take().filter(|_| self.clean) {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(conn);
        }
    }
}

/// Opens a connection, following Azure SQL's `Routing` redirect to the node it names.
pub async fn connect(config: &MssqlConfig) -> Result<Connection, SinkError> {
    let mut target = config.tiberius(authentication(config).await?);
    for _ in 0..=MAX_REDIRECTS {
        let addr = target.get_addr();
        let tcp = tokio::time::timeout(config.connect_timeout(), TcpStream::connect(&addr))
            .await
            .map_err(|_| SinkError::Unavailable(format!("connecting to {addr} timed out")))?
            .map_err(|e| SinkError::Unavailable(format!("connecting to {addr}: {e}")))?;
        tcp.set_nodelay(true)
            .map_err(|e| SinkError::Unavailable(e.to_string()))?;
        match Box::pin(Client::connect(target.clone(), tcp.compat_write())).await {
            Ok(client) => return Ok(client),
            Err(Error::Routing { host, port }) => {
                tracing::debug!(%host, port, "SQL login redirected");
                target.host(&host);
                target.port(port);
            }
            Err(e) => return Err(db_error(e)),
        }
    }
    Err(SinkError::Unavailable(
        "too many login redirects from the SQL gateway".into(),
    ))
}

async fn authentication(config: &MssqlConfig) -> Result<AuthMethod, SinkError> {
    Ok(match config.auth() {
        None => {
            return Err(SinkError::Configuration(
                "the connection string asks for Entra ID but no token source was given".into(),
            ));
        }
        Some(Auth::SqlPassword { user, password }) => {
            AuthMethod::sql_server(user, password.expose())
        }
        Some(Auth::EntraToken(provider)) => {
            let token = provider
                .token(super::config::AZURE_SQL_SCOPE)
                .await
                .map_err(|e| SinkError::Unavailable(e.to_string()))?;
            AuthMethod::aad_token(token.expose())
        }
    })
}

/// Runs a statement without result rows. Without parameters it goes as a plain SQL batch,
/// not through `sp_executesql`: a temp table created inside `sp_executesql` would be dropped
/// when that call returns, and `CREATE SCHEMA` must open its batch.
pub(super) async fn run(
    conn: &mut Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<(), SinkError> {
    if params.is_empty() {
        let stream = conn.simple_query(sql).await.map_err(db_error)?;
        stream.into_results().await.map_err(db_error)?;
    } else {
        conn.execute(sql, params).await.map_err(db_error)?;
    }
    Ok(())
}

/// The first column of every row of the first result set.
pub(super) async fn column<T>(
    conn: &mut Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Vec<Option<T>>, SinkError>
where
    T: for<'r> tiberius::FromSql<'r> + Copy,
{
    let rows = conn
        .query(sql, params)
        .await
        .map_err(db_error)?
        .into_first_result()
        .await
        .map_err(db_error)?;
    rows.iter()
        .map(|r| r.try_get::<T, _>(0).map_err(db_error))
        .collect()
}

/// The first column of the first row, if there is a row.
pub(super) async fn scalar<T>(
    conn: &mut Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> Result<Option<Option<T>>, SinkError>
where
    T: for<'r> tiberius::FromSql<'r> + Copy,
{
    Ok(column(conn, sql, params).await?.into_iter().next())
}

/// What a transaction's body decided.
pub(super) enum Finish<T> {
    Commit(T),
    Rollback(T),
}

pub(super) async fn begin(conn: &mut Connection) -> Result<(), SinkError> {
    conn.begin_transaction().await.map_err(db_error)
}

/// Ends the transaction [`begin`] opened: commits or rolls back as the body decided, and
/// rolls back when it failed.
pub(super) async fn end<T>(
    conn: &mut Connection,
    outcome: Result<Finish<T>, SinkError>,
) -> Result<T, SinkError> {
    match outcome {
        Ok(Finish::Commit(value)) => {
            conn.commit_transaction().await.map_err(db_error)?;
            Ok(value)
        }
        Ok(Finish::Rollback(value)) => {
            conn.rollback_transaction().await.map_err(db_error)?;
            Ok(value)
        }
        Err(e) => {
            // The server may already have ended it (a deadlock victim's transaction is rolled
            // back for it); the original error is the one to report either way, and the
            // caller does not release the connection, so the pool drops it.
            if let Err(rollback) = conn.rollback_transaction().await {
                tracing::debug!(error = %rollback, "rollback after a failed statement failed");
            }
            Err(e)
        }
    }
}

/// Maps a driver error to its class: a server error by its number, a lost connection or a
/// timeout as transient.
pub(super) fn db_error(e: Error) -> SinkError {
    match &e {
        Error::Server(token) if missing_schema(token.code()) => SinkError::Missing(redact(&e)),
        Error::Server(token) => SinkError::of_class(number_class(token.code()), redact(&e)),
        Error::Io { .. } | Error::Tls(_) | Error::Routing { .. } => {
            SinkError::Unavailable(e.to_string())
        }
        _ => SinkError::Database(e.to_string()),
    }
}

/// Invalid object (208) or column (207): applying the plan again recreates it.
pub(super) fn missing_schema(code: u32) -> bool {
    matches!(code, 207 | 208)
}

/// The class of a SQL Server error number.
pub(super) fn number_class(code: u32) -> ErrorClass {
    match code {
        // Deadlock victim, lock timeout, Azure SQL's transient errors (throttling, failover,
        // database unavailable) and the connection's own socket errors.
        1204 | 1205 | 1222 | 4060 | 4221 | 10053 | 10054 | 10060 | 10928 | 10929 | 40143
        | 40197 | 40501 | 40540 | 40613 | 42108 | 42109 | 49918 | 49919 | 49920 => {
            ErrorClass::Transient
        }
        // Duplicate key (2627, 2601), constraint conflict (547), NULL into NOT NULL (515),
        // truncation (8152, 2628), conversion and overflow (241, 242, 245, 8114, 8115),
        // row too big (511), a trigger that rolled back (3609) or raised its own (50000).
        2627 | 2601 | 547 | 515 | 8152 | 2628 | 241 | 242 | 245 | 8114 | 8115 | 511 | 3609
        | 50000 => ErrorClass::Record,
        // Login failed, account disabled, password expired, untrusted domain login.
        18452 | 18456 | 18470 | 18487 | 18488 => ErrorClass::Configuration,
        // Invalid object (208) or column (207), permission denied (229, 230, 262), missing
        // schema (2760) and the rest: the target needs the operator.
        _ => ErrorClass::Target,
    }
}

/// The server's number and message. Some messages quote row values (SQL Server 2019's
/// truncation error 2628 ends with "Truncated value: '...'"); that tail is cut.
fn redact(e: &Error) -> String {
    let Error::Server(token) = e else {
        return e.to_string();
    };
    let message = token.message();
    let message = ["Truncated value", "The duplicate key value is"]
        .iter()
        .filter_map(|marker| message.find(marker))
        .min()
        .map_or(message, |cut| message[..cut].trim_end());
    format!("{message} (error {})", token.code())
}

/// The same error as a failed schema change of `table`.
pub(super) fn schema_error(table: &str) -> impl Fn(SinkError) -> SinkError + '_ {
    move |e| match e {
        SinkError::Database(reason) | SinkError::Missing(reason) => SinkError::Schema {
            table: table.to_owned(),
            reason,
        },
        other => other,
    }
}

#[cfg(test)]
mod class_tests {
    use super::*;

    #[test]
    fn each_error_number_has_its_class() {
        let cases = [
            (1205, ErrorClass::Transient),      // deadlock victim
            (1222, ErrorClass::Transient),      // lock request time out
            (40501, ErrorClass::Transient),     // service busy (throttling)
            (40613, ErrorClass::Transient),     // database unavailable (failover)
            (2627, ErrorClass::Record),         // primary key violation
            (2601, ErrorClass::Record),         // duplicate key in unique index
            (547, ErrorClass::Record),          // constraint conflict
            (515, ErrorClass::Record),          // NULL into a NOT NULL column
            (8152, ErrorClass::Record),         // string or binary data truncated
            (2628, ErrorClass::Record),         // truncated (SQL Server 2019+)
            (8115, ErrorClass::Record),         // arithmetic overflow
            (3609, ErrorClass::Record),         // the transaction ended in the trigger
            (50000, ErrorClass::Record),        // RAISERROR/THROW from a trigger
            (208, ErrorClass::Target),          // invalid object name
            (207, ErrorClass::Target),          // invalid column name
            (229, ErrorClass::Target),          // permission denied
            (2760, ErrorClass::Target),         // schema missing or no permission
            (18456, ErrorClass::Configuration), // login failed
            (18470, ErrorClass::Configuration), // account disabled
        ];
        for (code, class) in cases {
            assert_eq!(number_class(code), class, "error {code}");
        }
    }

    #[test]
    fn an_invalid_object_or_column_is_missing_schema() {
        assert!(missing_schema(208) && missing_schema(207));
        for other in [229, 2760, 50000, 1205] {
            assert!(!missing_schema(other), "error {other}");
        }
    }
}
