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

impl des_contract::sink::Refuse for super::target::Database {
    async fn refuse_name(&self, name: &str) {
        let name = name.replace('\'', "''");
        // SQL Server has no BEFORE triggers: an AFTER trigger's THROW dooms the statement's
        // transaction, which is why the sink isolates by re-applying parts (`mssql/parts.rs`).
        let sql = format!(
            "CREATE TRIGGER [dbo].[refuse] ON [dbo].[des_account] AFTER INSERT, UPDATE AS \
             IF EXISTS (SELECT 1 FROM inserted WHERE [name] = N'{name}') \
             THROW 50000, 'refused by policy', 1;"
        );
        self.execute(&sql).await;
    }
}

/// Record isolation against a real SQL Server trigger; conditional like the test above (no
/// SQL Server runs where this project is built: the part plan is unit-tested in
/// `mssql/isolate.rs`).
#[tokio::test]
async fn mssql_isolates_records_a_trigger_refuses() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    des_contract::sink::target_refusals_are_isolated(sink, db).await;
}
