//! The SQL target: `sqlite:<path>`, `postgres://...` (or `postgresql://...`) and
//! `mssql:<ADO.NET connection string>`. The part after the kind is the target's secret: it
//! reaches the engine through the local secret store (`local:target`), never the profile, and
//! is never printed (only server and database are).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, bail};
use des_core::Secret;
use des_core::ports::Sink;
use des_core::profile::DestinationType;
use des_engine::EngineError;
use des_sinks::Opening;
use des_sinks::mssql::{MssqlConfig, MssqlSink};
use des_sinks::postgres::{PostgresConfig, PostgresSink};

/// The environment variable that may name the target instead of `--target`: a password in a
/// flag shows in `ps` and shell history.
pub const TARGET_ENV: &str = "DES_TARGET";

/// Where replicated rows go.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// `sqlite:<path>`
    Sqlite(PathBuf),
    /// `postgres://user:password@host:port/db?...`: the URL is the connection string.
    Postgres(String),
    /// `mssql:Server=tcp:host,1433;Database=db;User ID=u;Password=p;...`
    Mssql(String),
}

impl FromStr for Target {
    type Err = anyhow::Error;

    fn from_str(spec: &str) -> anyhow::Result<Self> {
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            PostgresConfig::parse(spec)?;
            return Ok(Self::Postgres(spec.to_owned()));
        }
        let Some((kind, rest)) = spec.split_once(':') else {
            bail!("a target looks like sqlite:<path>, postgres://... or mssql:<connection string>");
        };
        match kind {
            "sqlite" if !rest.is_empty() => Ok(Self::Sqlite(PathBuf::from(rest))),
            "sqlite" => bail!("the target needs a file path after 'sqlite:'"),
            "mssql" => {
                MssqlConfig::parse(rest)?;
                Ok(Self::Mssql(rest.to_owned()))
            }
            // The kind alone: the rest may hold a password.
            other => bail!(
                "target kind '{other}' is not supported (sqlite:<path>, postgres://..., mssql:<connection string>)"
            ),
        }
    }
}

/// Names the database without credentials.
impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres(url) => f.write_str(&postgres_shown(url)),
            Self::Mssql(ado) => write!(f, "mssql:{}", mssql_shown(ado)),
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({self})")
    }
}

/// `postgres://user@host:port/db`: the URL without password and options.
fn postgres_shown(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "postgres://(unreadable URL)".into();
    };
    let _ = parsed.set_password(None);
    parsed.set_query(None);
    parsed.to_string()
}

/// `Server=...;Database=...`: only the keys that name the database.
fn mssql_shown(ado: &str) -> String {
    let shown = [
        "server",
        "data source",
        "address",
        "database",
        "initial catalog",
    ];
    ado.split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| shown.contains(&k.trim().to_ascii_lowercase().as_str()))
        .map(|(k, v)| format!("{}={}", k.trim(), v.trim()))
        .collect::<Vec<_>>()
        .join(";")
}

impl Target {
    pub fn destination_type(&self) -> DestinationType {
        match self {
            Self::Sqlite(_) => DestinationType::Sqlite,
            Self::Postgres(_) => DestinationType::PostgreSql,
            Self::Mssql(_) => DestinationType::SqlAzure,
        }
    }

    /// What `local:target` resolves to: the path or connection string, without the kind.
    pub fn secret(&self) -> Secret {
        match self {
            Self::Sqlite(path) => Secret::new(path.display().to_string()),
            Self::Postgres(url) => Secret::new(url.clone()),
            Self::Mssql(ado) => Secret::new(ado.clone()),
        }
    }

    /// Opens the sink; a SQLite file (and its folder) is created, servers are reached later.
    pub fn open(&self) -> anyhow::Result<Arc<dyn Sink>> {
        open_sink(self.destination_type(), &self.secret())
            .with_context(|| format!("cannot open target {self}"))
    }

    /// Opens the sink and makes sure a server answers, so a wrong address fails at start.
    pub async fn connect(&self) -> anyhow::Result<()> {
        let reached = match self {
            Self::Sqlite(_) => return self.open().map(drop),
            Self::Postgres(url) => PostgresSink::connect(&PostgresConfig::parse(url)?)
                .await
                .map(drop),
            Self::Mssql(ado) => MssqlSink::connect(&MssqlConfig::parse(ado)?)
                .await
                .map(drop),
        };
        reached.with_context(|| format!("cannot reach target {self}"))
    }
}

/// The engine's sink factory: a destination type and its resolved secret make a sink; a
/// SQLite file's folder is made when missing.
pub fn open_sink(kind: DestinationType, secret: &Secret) -> Result<Arc<dyn Sink>, EngineError> {
    let opening = Opening {
        create_sqlite_folder: true,
        ..Opening::default()
    };
    Ok(opening.open(kind, secret)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_and_refuses_the_rest() {
        assert_eq!(
            "sqlite:./x/e.db".parse::<Target>().unwrap(),
            Target::Sqlite("./x/e.db".into())
        );
        assert!("sqlite:".parse::<Target>().is_err());
        let pg = "postgres://des:pw@db.example:5432/t"
            .parse::<Target>()
            .unwrap();
        assert_eq!(pg.destination_type(), DestinationType::PostgreSql);
        let ms = "mssql:Server=tcp:sql.example,1433;Database=t;User ID=u;Password=pw"
            .parse::<Target>()
            .unwrap();
        assert_eq!(ms.destination_type(), DestinationType::SqlAzure);
        assert_eq!(
            ms.secret().expose(),
            "Server=tcp:sql.example,1433;Database=t;User ID=u;Password=pw"
        );
        let err = "oracle://u:pw@h/db"
            .parse::<Target>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not supported") && !err.contains("pw"),
            "{err}"
        );
        assert!("e.db".parse::<Target>().is_err());
    }

    #[test]
    fn shown_targets_carry_no_password() {
        let pg: Target = "postgres://des:s3cret@db.example:5432/t?sslmode=disable"
            .parse()
            .unwrap();
        let ms: Target = "mssql:Server=sql.example;Database=t;User ID=u;Password=s3cret"
            .parse()
            .unwrap();
        for shown in [pg.to_string(), format!("{pg:?}"), ms.to_string()] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("example"), "{shown}");
        }
    }
}
