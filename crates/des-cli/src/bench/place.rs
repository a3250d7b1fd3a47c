//! Where the bench writes: fresh SQLite files in a temp folder (the default), or fresh
//! schemas on a PostgreSQL or SQL Server database (`--target postgres://...` or
//! `--target mssql:<connection string>`, dropped afterwards).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use des_core::schema::SchemaPlan;
use des_sinks::mssql::MssqlConfig;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::dialect::Dialect;
use super::reader::Reader;
use crate::target::Target;

/// The kind of target the bench measures.
pub enum Place {
    Sqlite(PathBuf),
    Postgres(String),
    /// An ADO.NET connection string; the phases' schemas go in its database.
    Mssql(String),
}

/// One phase's target: where its profile points and the schema its tables go in.
pub struct Phase {
    pub target: Target,
    pub schema: String,
}

impl Place {
    /// `None`: SQLite files under `dir`. The servers are those the bench can read back.
    pub fn new(target: Option<Target>, dir: &Path) -> anyhow::Result<Self> {
        match target {
            None => Ok(Self::Sqlite(dir.to_owned())),
            Some(Target::Postgres(url)) => Ok(Self::Postgres(url)),
            Some(Target::Mssql(ado)) => Ok(Self::Mssql(ado)),
            Some(other) => bail!(
                "des bench measures SQLite (the default, in a temp folder), postgres://... or \
                 mssql:<connection string>; not {other}"
            ),
        }
    }

    /// The target's name in the report: `sqlite`, `postgresql` or `sqlserver`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgresql",
            Self::Mssql(_) => "sqlserver",
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
            Self::Mssql(_) => Dialect::Tsql,
        }
    }

    /// Makes sure a server answers before anything is measured, so a wrong address or
    /// login fails in seconds, naming the server (never the password).
    pub async fn reach(&self) -> anyhow::Result<()> {
        match self.server() {
            Some(target) => Box::pin(target.connect()).await,
            None => Ok(()),
        }
    }

    fn server(&self) -> Option<Target> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(url) => Some(Target::Postgres(url.clone())),
            Self::Mssql(ado) => Some(Target::Mssql(ado.clone())),
        }
    }

    /// Counts a local PostgreSQL server's CPU (its main process and backends) with this
    /// process's from now on, found through a backend's process; false when the server is
    /// not a process of this machine (or not PostgreSQL), whose CPU then is not counted.
    pub async fn count_server_cpu(&self) -> bool {
        let Self::Postgres(url) = self else {
            return false;
        };
        let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await
        else {
            return false;
        };
        let task = tokio::spawn(connection);
        let backend = client.query_one("SELECT pg_backend_pid()", &[]).await;
        let server = backend
            .ok()
            .and_then(|row| u32::try_from(row.get::<_, i32>(0)).ok())
            .and_then(crate::cpu::postgres_server_of);
        drop(client);
        let _ = task.await;
        server.map(crate::cpu::count_tree).is_some()
    }

    /// A fresh target for the phase named `name` (alphanumeric).
    pub fn phase(&self, name: &str) -> Phase {
        match self {
            Self::Sqlite(dir) => Phase {
                target: Target::Sqlite(dir.join(name).join("target.db")),
                schema: "dbo".into(),
            },
            Self::Postgres(url) => fresh_schema(Target::Postgres(url.clone()), name),
            Self::Mssql(ado) => fresh_schema(Target::Mssql(ado.clone()), name),
        }
    }

    /// The quoted table of `entity`.
    pub fn table_sql(&self, plan: &SchemaPlan, entity: &str) -> anyhow::Result<String> {
        let table = plan.table_for(entity).context("no table planned")?;
        Ok(self.dialect().table(&plan.schema, &table.name))
    }

    pub async fn reader(&self, phase: &Phase) -> anyhow::Result<Reader> {
        match (self, &phase.target) {
            (Self::Sqlite(_), Target::Sqlite(db)) => Reader::open_sqlite(db),
            (Self::Postgres(url), _) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .context("cannot read the PostgreSQL target")?;
                tokio::spawn(connection);
                Ok(Reader::Postgres(client))
            }
            (Self::Mssql(ado), _) => {
                let config = MssqlConfig::parse(ado)?;
                let conn = Box::pin(des_sinks::mssql::connect(&config))
                    .await
                    .context("cannot read the SQL Server target")?;
                Ok(Reader::Mssql(Box::new(Mutex::new(conn))))
            }
            _ => bail!("the phase's target is not the bench's"),
        }
    }

    /// Drops the schemas the phases made on a server; temp files go with their folder.
    pub async fn clean_up(&self, phases: &[&Phase]) {
        let (Some(_), Some(first)) = (self.server(), phases.first()) else {
            return;
        };
        let reader = match self.reader(first).await {
            Ok(reader) => reader,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "Cannot drop the bench schemas.");
                return;
            }
        };
        for phase in phases {
            if let Err(error) = reader.drop_schema(&phase.schema).await {
                let error = format!("{error:#}");
                tracing::warn!(%error, schema = %phase.schema, "Cannot drop a bench schema.");
            }
        }
    }
}

/// `desbench<phase><8 hex>` on the server, made by the sink when it applies its schema.
fn fresh_schema(target: Target, name: &str) -> Phase {
    let hex = Uuid::new_v4().simple().to_string();
    Phase {
        target,
        schema: format!("desbench{name}{}", &hex[..8]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADO: &str = "Server=tcp:sql.example,1433;Database=bench;User ID=u;Password=s3cret";

    #[test]
    fn sql_server_targets_are_accepted_and_named_sqlserver() {
        let place = Place::new(Some(Target::Mssql(ADO.into())), Path::new("/tmp")).unwrap();
        assert_eq!(place.label(), "sqlserver");
        assert_eq!(place.dialect(), Dialect::Tsql);
        let (sink, e2e) = (place.phase("sink"), place.phase("e2e"));
        assert_eq!(sink.target, Target::Mssql(ADO.into()));
        assert!(sink.schema.starts_with("desbenchsink"), "{}", sink.schema);
        assert_eq!(e2e.schema.len(), "desbenche2e".len() + 8);
        assert_ne!(sink.schema, place.phase("sink").schema, "fresh per phase");
    }

    #[test]
    fn an_explicit_sqlite_target_is_refused_and_the_default_uses_temp_files() {
        let sqlite = Target::Sqlite("x.db".into());
        let err = Place::new(Some(sqlite), Path::new("/tmp")).err().unwrap();
        assert!(err.to_string().contains("mssql:"), "{err}");
        let place = Place::new(None, Path::new("/tmp/b")).unwrap();
        assert_eq!(place.label(), "sqlite");
        let phase = place.phase("e2e");
        assert_eq!(phase.target, Target::Sqlite("/tmp/b/e2e/target.db".into()));
    }
}
