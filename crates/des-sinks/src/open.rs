//! Opening a target from a profile's destination type and its secret: the one place that
//! knows which sink serves which kind, for `des run` and the Functions apps alike.

use std::path::PathBuf;
use std::sync::Arc;

use des_core::Secret;
use des_core::ports::{AccessTokenSource, Sink, SinkError};
use des_core::profile::DestinationType;

use crate::mssql::{MssqlConfig, MssqlSink};
use crate::postgres::{PostgresConfig, PostgresSink};
use crate::sqlite::{SqliteConfig, SqliteSink};

/// Signs in to SQL Server for a connection string that carries no credentials.
pub type SqlTokens = dyn Fn() -> Result<Arc<dyn AccessTokenSource>, String> + Send + Sync;

/// How a deployment opens targets.
#[derive(Default)]
pub struct Opening {
    /// Create a SQLite file's missing folder (`des run`, whose data folder it owns). Off, a
    /// missing folder fails the open: the Functions apps' file share is mounted, not made.
    pub create_sqlite_folder: bool,
    /// The service's own identity for SQL Server; without it a string with no credentials
    /// fails when the sink signs in.
    pub sql_tokens: Option<Box<SqlTokens>>,
}

impl Opening {
    /// Opens the sink. Servers are reached later, at the first call. A secret that cannot
    /// be used is the profile's configuration, not an unreachable target; the parsers'
    /// messages name the problem, never the password.
    pub fn open(&self, kind: DestinationType, secret: &Secret) -> Result<Arc<dyn Sink>, SinkError> {
        match kind {
            DestinationType::Sqlite => self.open_sqlite(secret),
            DestinationType::PostgreSql => {
                let config = PostgresConfig::parse(secret.expose()).map_err(|e| invalid(&e))?;
                Ok(Arc::new(PostgresSink::new(&config)))
            }
            DestinationType::SqlAzure => self.open_mssql(secret),
        }
    }

    /// A secret may hold the target as written on the command line (`sqlite:<path>`).
    fn open_sqlite(&self, secret: &Secret) -> Result<Arc<dyn Sink>, SinkError> {
        let text = secret.expose();
        let path = PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text));
        let folder = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(folder) = folder.filter(|_| self.create_sqlite_folder) {
            std::fs::create_dir_all(folder).map_err(|e| invalid(&e))?;
        }
        Ok(Arc::new(SqliteSink::open(&SqliteConfig::new(&path))?))
    }

    fn open_mssql(&self, secret: &Secret) -> Result<Arc<dyn Sink>, SinkError> {
        let mut config = MssqlConfig::parse(secret.expose()).map_err(|e| invalid(&e))?;
        if let (None, Some(tokens)) = (config.auth(), &self.sql_tokens) {
            config = config.with_token_source(tokens().map_err(|e| invalid(&e))?);
        }
        Ok(Arc::new(MssqlSink::new(&config)))
    }
}

fn invalid(error: &dyn std::fmt::Display) -> SinkError {
    SinkError::Configuration(format!("target connection string: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_secret_may_name_its_kind_and_an_absolute_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("export.db");
        let secret = Secret::new(format!("sqlite:{}", path.display()));
        let opening = Opening {
            create_sqlite_folder: true,
            ..Opening::default()
        };
        opening
            .open(DestinationType::Sqlite, &secret)
            .expect("opened");
        assert!(path.exists(), "the file is at the absolute path");
        assert!(
            !std::path::Path::new("sqlite:").exists(),
            "no ./sqlite: folder"
        );
    }

    #[test]
    fn a_missing_folder_is_made_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("export.db");
        let secret = Secret::new(path.display().to_string());
        let refused = Opening::default().open(DestinationType::Sqlite, &secret);
        assert!(refused.is_err(), "the folder is not made");
        assert!(!path.exists());
    }

    #[test]
    fn an_unusable_connection_string_is_configuration_and_hides_its_password() {
        for (kind, text) in [
            (
                DestinationType::PostgreSql,
                "postgres://des:s3cret@db:notaport/t",
            ),
            (
                DestinationType::SqlAzure,
                "Server=tcp:db,1433;Password=s3cret;Nonsense",
            ),
        ] {
            let Err(error) = Opening::default().open(kind, &Secret::new(text.to_owned())) else {
                panic!("{kind:?} opened");
            };
            assert!(matches!(error, SinkError::Configuration(_)), "{error:?}");
            assert!(!error.to_string().contains("s3cret"), "{error}");
        }
    }
}
