//! How to reach a PostgreSQL target and how many connections to keep.

use std::fmt;
use std::time::Duration;

use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// Connections kept per sink unless told otherwise: one per table being written at once.
const DEFAULT_POOL_SIZE: usize = 4;
/// An unreachable server fails a call after this long instead of the OS's TCP timeout.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How the sink's sessions show in `pg_stat_activity` unless the string names them.
const APPLICATION_NAME: &str = "des-sink";

/// The connection string could not be read. The message names the problem, never the string.
#[derive(Debug, thiserror::Error)]
#[error("invalid PostgreSQL connection string: {0}")]
pub struct ConfigError(String);

/// Settings of a PostgreSQL target.
#[derive(Clone)]
pub struct PostgresConfig {
    pub(super) connection: Config,
    pub(super) pool_size: usize,
}

impl PostgresConfig {
    /// Reads `postgres://user:password@host:port/dbname?...` or the key=value form
    /// (`host=... port=... user=... dbname=...`).
    pub fn parse(connection_string: &str) -> Result<Self, ConfigError> {
        let mut connection = connection_string
            .parse::<Config>()
            .map_err(|e| ConfigError(e.to_string()))?;
        if connection.get_connect_timeout().is_none() {
            connection.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if connection.get_application_name().is_none() {
            connection.application_name(APPLICATION_NAME);
        }
        Ok(Self {
            connection,
            pool_size: DEFAULT_POOL_SIZE,
        })
    }

    /// At most `size` connections at once (at least one).
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// The same server and credentials, another database.
    pub fn with_database(mut self, dbname: &str) -> Self {
        self.connection.dbname(dbname);
        self
    }

    /// The same server and database as another role.
    pub fn with_user(mut self, user: &str) -> Self {
        self.connection.user(user);
        self
    }

    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    pub fn database(&self) -> Option<&str> {
        self.connection.get_dbname()
    }
}

/// Names the server and database only: the password never reaches a log.
impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts: Vec<String> = self
            .connection
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        f.debug_struct("PostgresConfig")
            .field("hosts", &hosts)
            .field("ports", &self.connection.get_ports())
            .field("user", &self.connection.get_user())
            .field("dbname", &self.connection.get_dbname())
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms() {
        let url = PostgresConfig::parse("postgres://des@127.0.0.1:5433/target").expect("url");
        assert_eq!(url.database(), Some("target"));
        let kv = PostgresConfig::parse("host=localhost port=5433 user=des dbname=t2").expect("kv");
        assert_eq!(kv.database(), Some("t2"));
        assert_eq!(kv.pool_size(), DEFAULT_POOL_SIZE);
        assert_eq!(
            kv.connection.get_connect_timeout(),
            Some(&DEFAULT_CONNECT_TIMEOUT)
        );
        let named = PostgresConfig::parse("host=h application_name=etl").expect("kv");
        assert_eq!(named.connection.get_application_name(), Some("etl"));
        assert!(PostgresConfig::parse("postgres://h:notaport/db").is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let config = PostgresConfig::parse("postgres://des:s3cret@db.example:5432/t").expect("url");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
    }

    #[test]
    fn pool_size_is_at_least_one() {
        let config = PostgresConfig::parse("host=h")
            .expect("kv")
            .with_pool_size(0);
        assert_eq!(config.pool_size(), 1);
    }
}
