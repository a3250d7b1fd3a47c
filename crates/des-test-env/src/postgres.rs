//! A fresh database per test on the PostgreSQL server named by `DES_TEST_PG`.

use std::str::FromStr;

use tokio_postgres::{Client, Config, NoTls};
use uuid::Uuid;

/// A connection to `config`, its connection task spawned on the current runtime.
pub async fn connect(config: &Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.expect("test server reachable");
    tokio::spawn(connection);
    client
}

/// `server` (a URL or a key-value connection string) parsed.
pub fn server_config(server: &str) -> Config {
    Config::from_str(server).expect("DES_TEST_PG parses")
}

/// `name` as a quoted identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates a new, empty database `<prefix>_<uuid>` on `server` and returns its name.
pub async fn create_database(server: &str, prefix: &str) -> String {
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    connect(&server_config(server))
        .await
        .batch_execute(&format!("CREATE DATABASE {}", quote(&name)))
        .await
        .expect("creates database");
    name
}

/// `server`'s settings naming database `name` instead.
pub fn database_config(server: &str, name: &str) -> Config {
    let mut config = server_config(server);
    config.dbname(name);
    config
}

/// Drops database `name` on `server`, closing its sessions. Returns the server's refusal.
pub async fn drop_database(server: &str, name: &str) -> Result<(), tokio_postgres::Error> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote(name));
    connect(&server_config(server))
        .await
        .batch_execute(&sql)
        .await
}
