//! A fresh database per case on the server named by `DES_TEST_MSSQL`, and a reader for it.

use des_contract::sink::Inspect;
use des_sinks::mssql::{MssqlConfig, MssqlSink};
use tiberius::{Client, Config};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};
use uuid::Uuid;

type Conn = Client<Compat<TcpStream>>;

/// The server's ADO.NET connection string, or `None` (with a line saying so) when unset
/// (`des_test_env::mssql_server`).
pub fn server() -> Option<String> {
    des_test_env::mssql_server("the SQL Server sink contract suite")
}

async fn connect(config: Config) -> Conn {
    let tcp = TcpStream::connect(config.get_addr())
        .await
        .expect("test server reachable");
    tcp.set_nodelay(true).expect("nodelay");
    Box::pin(Client::connect(config, tcp.compat_write()))
        .await
        .expect("signs in")
}

/// Reads the fresh database back, every cell converted to text by the server.
pub struct Database {
    conn: Mutex<Conn>,
}

impl Database {
    /// Runs one batch of statements on the fresh database.
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.conn.lock().await;
        conn.simple_query(sql.to_owned())
            .await
            .expect("statement runs")
            .into_results()
            .await
            .expect("statement done");
    }
}

impl Inspect for Database {
    async fn rows(&self, table: &str, columns: &[&str]) -> Vec<Vec<Option<String>>> {
        let quote = |n: &str| format!("[{}]", n.replace(']', "]]"));
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
    let admin_config = Config::from_ado_string(url).expect("DES_TEST_MSSQL parses");
    let mut admin = Box::pin(connect(admin_config.clone())).await;
    let name = format!("des_test_{}", Uuid::new_v4().simple());
    admin
        .simple_query(format!("CREATE DATABASE [{name}]"))
        .await
        .expect("creates database")
        .into_results()
        .await
        .expect("created");
    let mut reader = admin_config;
    reader.database(&name);
    let config = MssqlConfig::parse(url)
        .expect("parses")
        .with_database(&name)
        .with_pool_size(2);
    let sink = MssqlSink::connect(&config).await.expect("sink connects");
    let db = Database {
        conn: Mutex::new(Box::pin(connect(reader)).await),
    };
    (sink, db)
}
