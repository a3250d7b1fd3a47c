//! A fresh database per test on the SQL Server named by `DES_TEST_MSSQL`, reached with
//! tiberius directly (this crate depends on no workspace crate, so not the sink's `connect`).

use tiberius::Client;
pub use tiberius::Config;
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};
use uuid::Uuid;

/// A signed-in connection.
pub type Connection = Client<Compat<TcpStream>>;

/// `server` (an ADO.NET connection string) parsed.
pub fn server_config(server: &str) -> Config {
    Config::from_ado_string(server).expect("DES_TEST_MSSQL parses")
}

/// `server`'s settings naming database `name` instead.
pub fn database_config(server: &str, name: &str) -> Config {
    let mut config = server_config(server);
    config.database(name);
    config
}

/// `server`'s connection string naming database `name` instead (the last `Database` wins).
pub fn database_connection_string(server: &str, name: &str) -> String {
    format!("{};Database={name}", server.trim_end_matches(';'))
}

/// `[name]`, with `]` doubled.
pub fn quote(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// A connection to `config`, signed in.
pub async fn connect(config: &Config) -> Connection {
    try_connect(config)
        .await
        .expect("test SQL Server reachable")
}

/// A connection to `config`, or why not (for a test that reconnects and carries on).
pub async fn try_connect(config: &Config) -> Result<Connection, tiberius::error::Error> {
    let tcp = TcpStream::connect(config.get_addr()).await?;
    tcp.set_nodelay(true)?;
    Box::pin(Client::connect(config.clone(), tcp.compat_write())).await
}

/// Runs one batch of statements to its end.
pub async fn execute(conn: &mut Connection, sql: &str) -> Result<(), tiberius::error::Error> {
    conn.simple_query(sql).await?.into_results().await?;
    Ok(())
}

/// Creates a new, empty database `<prefix>_<uuid>` on `server` and returns its name.
pub async fn create_database(server: &str, prefix: &str) -> String {
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    let mut admin = connect(&server_config(server)).await;
    execute(&mut admin, &create_statement(&name))
        .await
        .expect("creates database");
    name
}

/// Drops database `name` on `server`, ending its other sessions first (a sink's pooled
/// connections). Returns the server's refusal.
pub async fn drop_database(server: &str, name: &str) -> Result<(), tiberius::error::Error> {
    let mut admin = connect(&server_config(server)).await;
    for sql in drop_statements(name) {
        execute(&mut admin, &sql).await?;
    }
    Ok(())
}

fn create_statement(name: &str) -> String {
    format!("CREATE DATABASE {}", quote(name))
}

fn drop_statements(name: &str) -> [String; 2] {
    let db = quote(name);
    [
        format!("ALTER DATABASE {db} SET SINGLE_USER WITH ROLLBACK IMMEDIATE"),
        format!("DROP DATABASE {db}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_created_and_dropped_by_its_quoted_name() {
        assert_eq!(
            create_statement("des_conv_1]"),
            "CREATE DATABASE [des_conv_1]]]"
        );
        assert_eq!(
            drop_statements("des_conv_1]"),
            [
                "ALTER DATABASE [des_conv_1]]] SET SINGLE_USER WITH ROLLBACK IMMEDIATE".to_owned(),
                "DROP DATABASE [des_conv_1]]]".to_owned()
            ]
        );
    }

    #[test]
    fn a_database_is_named_in_the_connection_string() {
        assert_eq!(
            database_connection_string("Server=tcp:h,1433;User ID=u;", "d"),
            "Server=tcp:h,1433;User ID=u;Database=d"
        );
    }
}
