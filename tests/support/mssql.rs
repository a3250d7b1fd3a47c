//! A fresh SQL Server database per harness, and a reader that returns its rows normalised
//! the way [`crate::compare`] normalises SQLite cells. No SQL Server can run on the machines
//! this project is built on: this runs only when `DES_TEST_MSSQL` names a server; the
//! statements and the normalisation are unit-tested in `mssql/tests.rs`, creating and dropping
//! the database in `des_test_env::mssql`.

use std::sync::Arc;

use des_core::ports::Sink;
use des_core::schema::{SqlType, TableDef};
use des_sinks::mssql::{MssqlConfig, MssqlSink};
use des_test_env::mssql::{
    Config, Connection, connect, create_database, database_config, drop_database, quote,
    try_connect,
};
use tokio::sync::Mutex;

use crate::compare::{Cell, TargetRows, keyed_by_id, normal_text};

/// A database created for one run, with a reading connection of its own.
pub struct MssqlDatabase {
    pub name: String,
    /// The server's ADO.NET connection string.
    server: String,
    /// The sink's settings.
    config: MssqlConfig,
    /// The reading connection's settings.
    reader_config: Config,
    reader: Mutex<Connection>,
}

/// One row as the server's text of each column (`None` for NULL), in column order.
pub type TextRow = Vec<Option<String>>;

/// Every row of the first result set, each column read as text.
async fn read_text(conn: &mut Connection, sql: String) -> Result<Vec<TextRow>, String> {
    let stream = conn.simple_query(sql).await.map_err(|e| e.to_string())?;
    let rows = stream
        .into_first_result()
        .await
        .map_err(|e| e.to_string())?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    row.try_get::<&str, _>(i)
                        .map(|text| text.map(str::to_owned))
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
        .collect()
}

impl MssqlDatabase {
    /// Creates `des_conv_<uuid>` on the server the ADO.NET connection string names.
    pub async fn create(connection_string: &str) -> Self {
        let name = create_database(connection_string, "des_conv").await;
        // The sink's own settings otherwise (pool size, timeouts): the test exercises the
        // sink as deployed.
        let config = MssqlConfig::parse(connection_string)
            .expect("DES_TEST_MSSQL parses")
            .with_database(&name);
        let reader_config = database_config(connection_string, &name);
        Self {
            reader: Mutex::new(connect(&reader_config).await),
            name,
            server: connection_string.to_owned(),
            config,
            reader_config,
        }
    }

    /// A new real sink on this database, as a (re)started process opens it; it has answered
    /// once, so an unreachable server fails here rather than as a divergence.
    pub async fn open_sink(&self) -> Arc<dyn Sink> {
        let sink = Box::pin(MssqlSink::connect(&self.config))
            .await
            .expect("SQL Server target reachable");
        Arc::new(sink)
    }

    /// Every row of `table` by lower-case `Id`.
    pub async fn rows(&self, table: &TableDef) -> Result<TargetRows, String> {
        let mut reader = self.reader.lock().await;
        match read_text(&mut reader, select_rows(table)).await {
            Ok(rows) => target_rows(table, rows),
            Err(e) => {
                // A failed read (a deadlock victim next to the sink's MERGE, a dropped
                // session) may leave the connection mid-response: the next poll of
                // `Harness::converged` reads on a fresh one.
                if let Ok(fresh) = try_connect(&self.reader_config).await {
                    *reader = fresh;
                }
                Err(e)
            }
        }
    }

    /// Drops the database (ending the sink's sessions first), so a shared server does not
    /// fill up.
    pub async fn drop_database(self) {
        drop(self.reader);
        if let Err(error) = drop_database(&self.server, &self.name).await {
            tracing::warn!(database = %self.name, %error, "Could not drop test database.");
        }
    }
}

/// Every column of `table` as text, converted by the server.
pub fn select_rows(table: &TableDef) -> String {
    let list: Vec<String> = table
        .columns
        .iter()
        .map(|c| select(c.ty, &c.name))
        .collect();
    format!(
        "SELECT {} FROM {}.{}",
        list.join(", "),
        quote(&table.schema),
        quote(&table.name)
    )
}

/// A column read as text; `datetime` as ISO 8601 (style 126) marked UTC, which is what the
/// sink stores (a null stays null: `NULL + N'Z'` is null). The rest converts exactly:
/// `uniqueidentifier` upper-case, `bit` as `1`/`0`, `decimal` with all its scale digits.
fn select(ty: SqlType, name: &str) -> String {
    match ty {
        SqlType::DateTime => format!("CONVERT(nvarchar(30), {}, 126) + N'Z'", quote(name)),
        _ => format!("CONVERT(nvarchar(max), {})", quote(name)),
    }
}

/// The rows [`select_rows`] read, by lower-case `Id`, each cell normalised per column type.
pub fn target_rows(table: &TableDef, rows: Vec<TextRow>) -> Result<TargetRows, String> {
    let cells = rows.into_iter().map(|row| {
        table
            .columns
            .iter()
            .zip(row)
            .map(|(c, text)| cell(c.ty, text.as_deref()))
            .collect()
    });
    keyed_by_id(table, cells)
}

/// SQL Server's text of a value, normalised like the other targets' cells: ids lowered,
/// instants as milliseconds, the rest as the server wrote it (decimals are compared within
/// their scale by [`crate::compare`], so trailing zeros do not matter).
pub fn cell(ty: SqlType, text: Option<&str>) -> Cell {
    text.map(|text| normal_text(ty, text))
}

#[cfg(test)]
#[path = "mssql/tests.rs"]
mod tests;
