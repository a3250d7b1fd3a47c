//! A fresh database on the SQL Server named by `DES_TEST_MSSQL`, reached through the sink's
//! own `des_sinks::mssql::connect`.

use des_sinks::mssql::{Connection, MssqlConfig, connect};
use uuid::Uuid;

/// The server's ADO.NET connection string, or `None` with a line saying the SQL Server cases
/// did not run: no SQL Server can run on the build machines, so, as for the sink's contract
/// suite, unset means "not run", said out loud (`des_test_env::mssql_server`; `scripts/test`
/// prints a NOTE too).
pub fn server() -> Option<String> {
    des_test_env::mssql_server("`des bench` against SQL Server")
}

/// A new, empty database, dropped again when the test ends.
pub struct Database {
    /// The server's connection string naming the new database.
    pub connection_string: String,
    name: String,
    runtime: tokio::runtime::Runtime,
    admin: Connection,
}

impl Database {
    pub fn create(server: &str) -> Self {
        let runtime = super::current_thread_runtime();
        let config = MssqlConfig::parse(server).expect("DES_TEST_MSSQL parses");
        let admin = runtime
            .block_on(Box::pin(connect(&config)))
            .expect("the test server is reachable");
        let name = format!("des_cli_{}", Uuid::new_v4().simple());
        let mut db = Self {
            connection_string: format!("{};Database={name}", server.trim_end_matches(';')),
            name,
            runtime,
            admin,
        };
        db.execute(&format!("CREATE DATABASE [{}]", db.name));
        db
    }

    /// Schemas in the database whose name starts with `prefix` (letters only).
    pub fn schemas_starting(&mut self, prefix: &str) -> i64 {
        let sql = format!(
            "SELECT COUNT_BIG(*) FROM [{}].sys.schemas WHERE [name] LIKE N'{prefix}%'",
            self.name
        );
        let row = self.runtime.block_on(async {
            let stream = self.admin.simple_query(sql).await?;
            stream.into_row().await
        });
        let row = row.expect("counts schemas").expect("one row");
        row.get::<i64, _>(0).expect("a count")
    }

    fn execute(&mut self, sql: &str) {
        self.runtime
            .block_on(async {
                let stream = self.admin.simple_query(sql).await?;
                stream.into_results().await
            })
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let name = &self.name;
        let drop = format!(
            "ALTER DATABASE [{name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{name}]"
        );
        let dropped = self.runtime.block_on(async {
            let stream = self.admin.simple_query(drop).await?;
            stream.into_results().await
        });
        if let Err(error) = dropped {
            eprintln!("could not drop test database {name}: {error}");
        }
    }
}

/// The `Password` (or `Pwd`) of an ADO.NET connection string, to check it is never printed.
pub fn password(connection_string: &str) -> Option<String> {
    connection_string
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| matches!(k.trim().to_ascii_lowercase().as_str(), "password" | "pwd"))
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}
