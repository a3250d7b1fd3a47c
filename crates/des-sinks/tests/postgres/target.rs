//! A fresh database per case on the cluster named by `DES_TEST_PG`, and a reader for it.

use std::str::FromStr;

use des_contract::sink::Inspect;
use des_sinks::postgres::{PostgresConfig, PostgresSink};
use tokio_postgres::{Client, Config, NoTls};
use uuid::Uuid;

const ENV: &str = "DES_TEST_PG";
/// The schema the contract suite's plans use.
const SCHEMA: &str = "dbo";

/// The server to test against. Unset is an error, so CI never skips silently; `skip` skips.
pub fn server() -> Option<String> {
    match std::env::var(ENV) {
        Ok(value) if value == "skip" => None,
        Ok(value) => Some(value),
        Err(_) => panic!(
            "{ENV} is not set: the PostgreSQL sink tests need a server. Start a private one with \
             `export $(scripts/pg start /tmp/des-pg)` (stop it with `scripts/pg stop /tmp/des-pg`), \
             or set {ENV}=skip to skip these tests explicitly"
        ),
    }
}

pub async fn connect(config: &Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.expect("test server reachable");
    tokio::spawn(connection);
    client
}

/// A new, empty database: its sink, its reader and its connection settings.
pub struct Database {
    pub client: Client,
    pub config: PostgresConfig,
}

pub async fn fresh_database(url: &str) -> Database {
    let admin = connect(&Config::from_str(url).expect("DES_TEST_PG parses")).await;
    let name = format!("des_test_{}", Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("creates database");
    let mut reader = Config::from_str(url).expect("parses");
    reader.dbname(&name);
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
