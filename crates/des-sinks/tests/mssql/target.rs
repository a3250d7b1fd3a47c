//! A fresh database per case on the server named by `DES_TEST_MSSQL`, and a reader for it.

use des_contract::sink::Inspect;
use des_sinks::mssql::{MssqlConfig, MssqlSink};
use des_test_env::mssql::{Connection, connect, create_database, database_config, execute, quote};
use tokio::sync::Mutex;

/// The server's ADO.NET connection string, or `None` (with a line saying so) when unset
/// (`des_test_env::mssql_server`).
pub fn server() -> Option<String> {
    des_test_env::mssql_server("the SQL Server sink contract suite")
}

/// Reads the fresh database back, every cell converted to text by the server.
pub struct Database {
    conn: Mutex<Connection>,
}

impl Database {
    /// Runs one batch of statements on the fresh database.
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.conn.lock().await;
        execute(&mut conn, sql).await.expect("statement runs");
    }
}

impl Inspect for Database {
    async fn rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| format!("CONVERT(nvarchar(max), {})", quote(c)))
            .collect();
        let sql = format!("SELECT {} FROM [dbo].{}", cells.join(", "), quote(table));
        let mut conn = self.conn.lock().await;
        let rows = conn
            .simple_query(sql)
            .await
            .expect("query runs")
            .into_first_result()
            .await
            .expect("rows");
        rows.iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| r.get::<&str, _>(i).map(str::to_owned))
                    .collect()
            })
            .collect()
    }
}

pub async fn fresh(url: &str) -> (MssqlSink, Database) {
    let name = create_database(url, "des_test").await;
    let config = MssqlConfig::parse(url)
        .expect("parses")
        .with_database(&name)
        .with_pool_size(2);
    let sink = MssqlSink::connect(&config).await.expect("sink connects");
    let db = Database {
        conn: Mutex::new(Box::pin(connect(&database_config(url, &name))).await),
    };
    (sink, db)
}
