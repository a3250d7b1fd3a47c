//! A read-only look at what landed in a bench target, the way a report would read it, and
//! the clean-up of the schemas a server run made.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use des_sinks::mssql::Connection as MssqlConnection;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::dialect::{Dialect, tsql_drop_table, tsql_tables_in_schema};

/// One connection to the target.
pub enum Reader {
    Sqlite(Connection),
    Postgres(tokio_postgres::Client),
    /// A TDS connection serves one request at a time; boxed, it is large.
    Mssql(Box<Mutex<MssqlConnection>>),
}

impl Reader {
    pub fn open_sqlite(db: &Path) -> anyhow::Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(db, flags)
            .with_context(|| format!("cannot open {}", db.display()))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(Self::Sqlite(conn))
    }

    fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
            Self::Mssql(_) => Dialect::Tsql,
        }
    }

    /// Rows in `table` (quoted).
    pub async fn count(&self, table: &str) -> anyhow::Result<u64> {
        let sql = self.dialect().count(table);
        let n: i64 = match self {
            Self::Sqlite(conn) => conn.query_row(&sql, [], |r| r.get(0))?,
            Self::Postgres(client) => client.query_one(&sql, &[]).await?.get(0),
            Self::Mssql(conn) => {
                let mut conn = conn.lock().await;
                let row = conn.query(sql, &[]).await?.into_row().await?;
                let row = row.context("COUNT_BIG gave no row")?;
                row.get::<i64, _>(0).context("COUNT_BIG gave NULL")?
            }
        };
        Ok(n as u64)
    }

    /// Up to `n` ids of `table`, as lowercase text.
    pub async fn sample_ids(&self, table: &str, n: usize) -> anyhow::Result<Vec<String>> {
        let sql = self.dialect().sample_ids(table, n);
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
            Self::Mssql(conn) => {
                let mut conn = conn.lock().await;
                let rows = conn.query(sql, &[]).await?.into_first_result().await?;
                let ids = rows.iter().filter_map(|r| r.get::<Uuid, _>(0));
                Ok(ids.map(|id| id.to_string()).collect())
            }
        }
    }

    /// The text in `column` (quoted) of the row `id`, when there is one.
    pub async fn text(
        &self,
        table: &str,
        column: &str,
        id: &str,
    ) -> anyhow::Result<Option<String>> {
        let sql = self.dialect().text(table, column);
        match self {
            Self::Sqlite(conn) => {
                let value: Option<Option<String>> = conn
                    .prepare_cached(&sql)?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                Ok(value.flatten())
            }
            Self::Postgres(client) => {
                let id: Uuid = id.parse()?;
                let row = client.query_opt(&sql, &[&id]).await?;
                Ok(row.and_then(|r| r.get::<_, Option<String>>(0)))
            }
            Self::Mssql(conn) => {
                let id: Uuid = id.parse()?;
                let mut conn = conn.lock().await;
                let row = conn.query(sql, &[&id]).await?.into_row().await?;
                Ok(row.and_then(|r| r.get::<&str, _>(0).map(str::to_owned)))
            }
        }
    }

    /// Drops a schema a bench phase wrote to, with its tables.
    pub async fn drop_schema(&self, schema: &str) -> anyhow::Result<()> {
        let Some(drop) = self.dialect().drop_schema(schema) else {
            return Ok(());
        };
        match self {
            Self::Sqlite(_) => Ok(()),
            Self::Postgres(client) => Ok(client.batch_execute(&drop).await?),
            Self::Mssql(conn) => drop_tsql_schema(&mut *conn.lock().await, schema, &drop).await,
        }
    }
}

/// SQL Server has no `DROP SCHEMA ... CASCADE`: the schema's tables go first.
async fn drop_tsql_schema(
    conn: &mut MssqlConnection,
    schema: &str,
    drop: &str,
) -> anyhow::Result<()> {
    let rows = conn
        .query(tsql_tables_in_schema(), &[&schema])
        .await?
        .into_first_result()
        .await?;
    let tables: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get::<&str, _>(0).map(str::to_owned))
        .collect();
    for table in tables {
        batch(conn, &tsql_drop_table(schema, &table)).await?;
    }
    batch(conn, drop).await
}

/// A statement without parameters as a plain batch (`DROP SCHEMA` must open its batch).
async fn batch(conn: &mut MssqlConnection, sql: &str) -> anyhow::Result<()> {
    conn.simple_query(sql).await?.into_results().await?;
    Ok(())
}
