//! A fresh database per case on the cluster named by `DES_TEST_PG`, and a reader for it.

use des_contract::sink::Inspect;
use des_sinks::postgres::{PostgresConfig, PostgresSink};
use des_test_env::postgres::{connect, create_database, database_config};
use tokio_postgres::Client;

/// The schema the contract suite's plans use.
const SCHEMA: &str = "dbo";

/// The server to test against (`des_test_env::postgres_server`: unset is an error, so CI
/// never skips silently; `skip` skips).
pub fn server() -> Option<String> {
    des_test_env::postgres_server("the PostgreSQL sink tests")
}

/// A new, empty database: its sink, its reader and its connection settings.
pub struct Database {
    pub client: Client,
    pub config: PostgresConfig,
}

pub async fn fresh_database(url: &str) -> Database {
    let name = create_database(url, "des_test").await;
    let reader = database_config(url, &name);
    let config = PostgresConfig::parse(url)
        .expect("parses")
        .with_database(&name)
        .with_pool_size(2);
    Database {
        client: connect(&reader).await,
        config,
    }
}

pub async fn fresh(url: &str) -> (PostgresSink, Database) {
    let db = fresh_database(url).await;
    let sink = PostgresSink::connect(&db.config)
        .await
        .expect("sink connects");
    (sink, db)
}

impl Database {
    /// The given columns of every row of `"dbo"."table"`, as text.
    pub async fn read(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let list: Vec<String> = columns
            .iter()
            .map(|c| format!("{}::text", quote(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {}.{}",
            list.join(", "),
            quote(SCHEMA),
            quote(table)
        );
        let rows = self
            .client
            .query(&sql, &[])
            .await
            .expect("table and columns exist");
        rows.iter()
            .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
            .collect()
    }
}

impl Inspect for Database {
    async fn rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        self.read(table, columns).await
    }
}
