//! A fresh PostgreSQL database per harness, and a reader that returns its rows normalised
//! the way [`crate::compare`] normalises SQLite cells.

use std::sync::Arc;

use des_core::ports::Sink;
use des_core::schema::{SqlType, TableDef};
use des_sinks::postgres::{PostgresConfig, PostgresSink};
use des_test_env::postgres::{connect, create_database, database_config, drop_database, quote};
use tokio_postgres::Client;

use crate::compare::{Cell, TargetRows, keyed_by_id, normal_text};

/// A database created for one run, with a reading connection of its own.
pub struct PgDatabase {
    pub name: String,
    server: String,
    config: PostgresConfig,
    reader: Client,
}

impl PgDatabase {
    /// Creates `des_conv_<uuid>` on the server at `url`.
    pub async fn create(url: &str) -> Self {
        let name = create_database(url, "des_conv").await;
        let reader = database_config(url, &name);
        let config = PostgresConfig::parse(url)
            .expect("DES_TEST_PG parses")
            .with_database(&name);
        Self {
            reader: connect(&reader).await,
            name,
            server: url.to_owned(),
            config,
        }
    }

    /// A new real sink on this database; it connects on first use, like a restarted process.
    pub async fn open_sink(&self) -> Arc<dyn Sink> {
        Arc::new(
            PostgresSink::connect(&self.config)
                .await
                .expect("PostgreSQL target reachable"),
        )
    }

    /// Runs statements on the reading connection (tests set up the target with it).
    pub async fn execute(&self, sql: &str) -> Result<(), String> {
        let detail = |e: tokio_postgres::Error| match e.as_db_error() {
            Some(db) => db.message().to_owned(),
            None => e.to_string(),
        };
        self.reader.batch_execute(sql).await.map_err(detail)
    }

    /// The reading connection, for steps that change the database as an operator would.
    pub fn reader(&self) -> &Client {
        &self.reader
    }

    /// Every row of `table` by lower-case `Id`.
    pub async fn rows(&self, table: &TableDef) -> Result<TargetRows, String> {
        let list: Vec<String> = table
            .columns
            .iter()
            .map(|c| select(c.ty, &c.name))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}.{}",
            list.join(", "),
            quote(&table.schema),
            quote(&table.name)
        );
        let rows = self
            .reader
            .query(&sql, &[])
            .await
            .map_err(|e| e.to_string())?;
        let cells = rows.iter().map(|row| {
            table
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| cell(c.ty, row.get(i)))
                .collect()
        });
        keyed_by_id(table, cells)
    }

    /// Drops the database (closing the sink's sessions), so a shared server does not fill up.
    pub async fn drop_database(self) {
        drop(self.reader);
        if let Err(e) = drop_database(&self.server, &self.name).await {
            tracing::warn!(database = %self.name, error = %e, "Could not drop test database.");
        }
    }
}

/// A column read as text; instants as RFC 3339 in UTC, whatever the session's `DateStyle`.
fn select(ty: SqlType, name: &str) -> String {
    match ty {
        SqlType::DateTime => format!(
            "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            quote(name)
        ),
        _ => format!("{}::text", quote(name)),
    }
}

/// PostgreSQL's text of a value, normalised as the SQLite comparison normalises its cells:
/// booleans as `1`/`0` (SQLite stores them as integers), the rest per column type.
fn cell(ty: SqlType, text: Option<String>) -> Cell {
    let text = text?;
    Some(match (ty, text.as_str()) {
        (SqlType::Bit, "true") => "1".to_owned(),
        (SqlType::Bit, "false") => "0".to_owned(),
        _ => normal_text(ty, &text),
    })
}
