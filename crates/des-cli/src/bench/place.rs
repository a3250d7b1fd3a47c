//! Where the bench writes: fresh SQLite files in a temp folder (the default), or fresh
//! schemas on a PostgreSQL server (`--target postgres://...`, dropped afterwards). A
//! [`Reader`] looks at what landed there the way a report would.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use des_core::schema::SchemaPlan;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use uuid::Uuid;

use crate::target::Target;

/// The kind of target the bench measures.
pub enum Place {
    Sqlite(PathBuf),
    Postgres(String),
}

/// One phase's target: where its profile points and the schema its tables go in.
pub struct Phase {
    pub target: Target,
    pub schema: String,
}

impl Place {
    /// `None`: SQLite files under `dir`. PostgreSQL is the only server the bench reads.
    pub fn new(target: Option<Target>, dir: &Path) -> anyhow::Result<Self> {
        match target {
            None => Ok(Self::Sqlite(dir.to_owned())),
            Some(Target::Postgres(url)) => Ok(Self::Postgres(url)),
            Some(other) => bail!(
                "des bench measures SQLite (the default, in a temp folder) or postgres://...; not {other}"
            ),
        }
    }

    /// The target's name in the report: `sqlite` or `postgresql`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgresql",
        }
    }

    /// A fresh target for the phase named `name` (alphanumeric).
    pub fn phase(&self, name: &str) -> Phase {
        match self {
            Self::Sqlite(dir) => Phase {
                target: Target::Sqlite(dir.join(name).join("target.db")),
                schema: "dbo".into(),
            },
            Self::Postgres(url) => Phase {
                target: Target::Postgres(url.clone()),
                schema: format!(
                    "desbench{name}{}",
                    &Uuid::new_v4().simple().to_string()[..8]
                ),
            },
        }
    }

    /// The quoted table of `entity`; SQLite tables have no schema part.
    pub fn table_sql(&self, plan: &SchemaPlan, entity: &str) -> anyhow::Result<String> {
        let table = plan.table_for(entity).context("no table planned")?;
        Ok(match self {
            Self::Sqlite(_) => quote(&table.name),
            Self::Postgres(_) => format!("{}.{}", quote(&plan.schema), quote(&table.name)),
        })
    }

    pub async fn reader(&self, phase: &Phase) -> anyhow::Result<Reader> {
        match (self, &phase.target) {
            (Self::Sqlite(_), Target::Sqlite(db)) => Ok(Reader::Sqlite(open_read_only(db)?)),
            (Self::Postgres(url), _) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .context("cannot read the PostgreSQL target")?;
                tokio::spawn(connection);
                Ok(Reader::Postgres(client))
            }
            _ => bail!("the phase's target is not the bench's"),
        }
    }

    /// Drops the schemas the phases made (PostgreSQL); temp files go with their folder.
    pub async fn clean_up(&self, phases: &[&Phase]) {
        let Self::Postgres(_) = self else { return };
        let Some(first) = phases.first() else { return };
        let Ok(Reader::Postgres(client)) = self.reader(first).await else {
            return;
        };
        for phase in phases {
            let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote(&phase.schema));
            if let Err(error) = client.batch_execute(&drop).await {
                tracing::warn!(%error, schema = %phase.schema, "Cannot drop a bench schema.");
            }
        }
    }
}

/// A read-only look at a target.
pub enum Reader {
    Sqlite(Connection),
    Postgres(tokio_postgres::Client),
}

impl Reader {
    /// Rows in `table` (quoted).
    pub async fn count(&self, table: &str) -> anyhow::Result<u64> {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = match self {
            Self::Sqlite(conn) => conn.query_row(&sql, [], |r| r.get(0))?,
            Self::Postgres(client) => client.query_one(&sql, &[]).await?.get(0),
        };
        Ok(n as u64)
    }

    /// Up to `n` ids of `table`, as text.
    pub async fn sample_ids(&self, table: &str, n: usize) -> anyhow::Result<Vec<String>> {
        let sql = format!("SELECT \"Id\" FROM {table} LIMIT {n}");
        match self {
            Self::Sqlite(conn) => {
                let mut stmt = conn.prepare(&sql)?;
                let ids = stmt.query_map([], |row| row.get::<_, String>(0))?;
                Ok(ids.collect::<Result<_, _>>()?)
            }
            Self::Postgres(client) => {
                let rows = client.query(&sql, &[]).await?;
                Ok(rows
                    .iter()
                    .map(|r| r.get::<_, Uuid>(0).to_string())
                    .collect())
            }
        }
    }

    /// The text in `column` of the row `id`, when there is one.
    pub async fn text(
        &self,
        table: &str,
        column: &str,
        id: &str,
    ) -> anyhow::Result<Option<String>> {
        match self {
            Self::Sqlite(conn) => {
                let sql = format!("SELECT {column} FROM {table} WHERE \"Id\" = ?1");
                let value: Option<Option<String>> = conn
                    .prepare_cached(&sql)?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                Ok(value.flatten())
            }
            Self::Postgres(client) => {
                let sql = format!("SELECT {column}::text FROM {table} WHERE \"Id\" = $1");
                let id: Uuid = id.parse()?;
                let row = client.query_opt(&sql, &[&id]).await?;
                Ok(row.and_then(|r| r.get::<_, Option<String>>(0)))
            }
        }
    }
}

fn open_read_only(db: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags)
        .with_context(|| format!("cannot open {}", db.display()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}
