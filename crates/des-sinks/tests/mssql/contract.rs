use super::target::{fresh, server};

/// The full sink contract suite against a real SQL Server. No SQL Server can run on the
/// machines this project is built on, so this one test is conditional: it runs when
/// `DES_TEST_MSSQL` holds an ADO.NET connection string (each case gets a fresh database),
/// and otherwise prints a line saying it did not run. `docs/mssql.md` shows how to run it
/// against SQL Server in a container.
#[tokio::test]
async fn mssql_keeps_the_sink_contract() {
    let Some(url) = server() else { return };
    Box::pin(des_contract::sink::run_all(|| fresh(&url))).await;
}
