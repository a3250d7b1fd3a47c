//! A fresh database on the SQL Server named by `DES_TEST_MSSQL` (`des_test_env::mssql`), for
//! the blocking tests that run the `des` binary.

use des_test_env::mssql::{
    Connection, connect, create_database, database_connection_string, drop_database, quote,
    server_config,
};

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
    server: String,
    name: String,
    runtime: tokio::runtime::Runtime,
    admin: Connection,
}

impl Database {
    pub fn create(server: &str) -> Self {
        let runtime = super::current_thread_runtime();
        let name = runtime.block_on(create_database(server, "des_cli"));
        let admin = runtime.block_on(connect(&server_config(server)));
        Self {
            connection_string: database_connection_string(server, &name),
            server: server.to_owned(),
            name,
            runtime,
            admin,
        }
    }

    /// Schemas in the database whose name starts with `prefix` (letters only).
    pub fn schemas_starting(&mut self, prefix: &str) -> i64 {
        let sql = format!(
            "SELECT COUNT_BIG(*) FROM {}.sys.schemas WHERE [name] LIKE N'{prefix}%'",
            quote(&self.name)
        );
        let row = self.runtime.block_on(async {
            let stream = self.admin.simple_query(sql).await?;
            stream.into_row().await
        });
        let row = row.expect("counts schemas").expect("one row");
        row.get::<i64, _>(0).expect("a count")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let dropped = self
            .runtime
            .block_on(drop_database(&self.server, &self.name));
        if let Err(error) = dropped {
            eprintln!("could not drop test database {}: {error}", self.name);
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
