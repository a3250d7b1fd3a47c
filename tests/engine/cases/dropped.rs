//! A table dropped while the engine runs (issue: "a dropped table is never recreated; its
//! applies fail forever while the status says 0 failures"): the next write that fails for
//! the missing table makes the applier apply the stream's plan again and resync the stream,
//! with a note saying why, and every row comes back. Dropped between runs, the start-up
//! check finds it gone (its watermark is not: the engine keeps it apart) and resyncs the
//! stream. On SQLite and PostgreSQL.

use des_core::schema::TableDef;
use des_engine::Mode;

use super::{CONVERGE, ids, name_field};
use des_tests::harness::{Harness, Options};
use des_tests::target::{TargetDb, TargetKind, postgres_server};

async fn drop_table(target: &TargetDb, table: &TableDef) {
    let name = format!("\"{}\"", table.name);
    match target {
        TargetDb::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).expect("target opens");
            conn.busy_timeout(std::time::Duration::from_secs(30))
                .expect("busy timeout");
            conn.execute_batch(&format!("DROP TABLE {name}"))
                .expect("drop");
        }
        TargetDb::Postgres(db) => {
            // Its `_Labeled` view goes with it, as an operator's `DROP ... CASCADE` takes it.
            let sql = format!("DROP TABLE \"{}\".{name} CASCADE", table.schema);
            db.execute(&sql).await.expect("drop");
        }
        TargetDb::Mssql(_) => panic!("not run on SQL Server here"),
    }
}

async fn a_dropped_table_is_recreated_and_refilled(target: TargetKind) {
    let options = Options {
        records: 15,
        entities: vec!["account".into()],
        target,
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");

    // The operator drops the table while the engine runs; changes keep coming.
    let (table, _) = harness.table("account").await;
    drop_table(&harness.target, &table).await;
    let control = harness.emulator.control();
    let accounts = ids(&harness, "account");
    control
        .update("account", accounts[2], name_field("account", "Renamed"))
        .unwrap();
    control
        .create("account", name_field("account", "Created"))
        .unwrap();
    control.delete("account", accounts[4]).unwrap();

    harness
        .converged(CONVERGE)
        .await
        .expect("every row is back and the changes applied");
    let repairs = runtime.take_repairs();
    assert!(!repairs.is_empty(), "no repair was noted");
    for repair in &repairs {
        assert!(
            repair.starts_with("account: a write failed for a missing table or column"),
            "{repair}"
        );
        assert!(repair.contains("resyncing"), "{repair}");
    }
    let status = des_engine::admin::status(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    assert_eq!(status[0].hint, None, "the stream did not wait: {status:?}");
    assert!(harness.failure_lines().await.is_empty(), "nothing was lost");
    runtime.shutdown().await;
    harness.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_dropped_while_running_is_recreated_and_refilled_on_sqlite() {
    a_dropped_table_is_recreated_and_refilled(TargetKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_dropped_while_running_is_recreated_and_refilled_on_postgresql() {
    let Some(url) = postgres_server() else { return };
    a_dropped_table_is_recreated_and_refilled(TargetKind::Postgres(url)).await;
}

async fn a_table_dropped_between_runs_is_recreated_and_refilled(target: TargetKind) {
    let options = Options {
        records: 15,
        entities: vec!["account".into()],
        target,
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");
    runtime.shutdown().await;

    let (table, _) = harness.table("account").await;
    drop_table(&harness.target, &table).await;
    let repairs = des_engine::check::check_profile(&harness.ports, &harness.profile)
        .await
        .expect("checked");
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert!(repairs[0].recreated, "{:?}", repairs[0]);
    assert_eq!(
        repairs[0].to_string(),
        "account: its table was gone from the target; recreated, resyncing"
    );
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("the resync refills the recreated table");
    runtime.shutdown().await;
    let again = des_engine::check::check_profile(&harness.ports, &harness.profile).await;
    assert_eq!(again.expect("checked"), vec![], "nothing to repair twice");
    harness.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_dropped_between_runs_is_recreated_and_refilled_on_sqlite() {
    a_table_dropped_between_runs_is_recreated_and_refilled(TargetKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_dropped_between_runs_is_recreated_and_refilled_on_postgresql() {
    let Some(url) = postgres_server() else { return };
    a_table_dropped_between_runs_is_recreated_and_refilled(TargetKind::Postgres(url)).await;
}

/// A missing table the plan cannot bring back (a trigger of the owner's writes to a table of
/// its own that is gone): one repair, then the stream waits for its operator with the
/// reason as its hint, and resumes once the owner fixes it. No repair loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_the_plan_cannot_heal_waits_for_the_operator_after_one_repair() {
    let options = Options {
        records: 5,
        entities: vec!["account".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");
    let owner = rusqlite::Connection::open(harness.target_db()).unwrap();
    owner
        .execute_batch(
            r#"CREATE TRIGGER "audit" BEFORE INSERT ON "crm_account"
               BEGIN INSERT INTO "audit_log_gone" VALUES (NEW."Id"); END;"#,
        )
        .unwrap();
    let control = harness.emulator.control();
    control
        .create("account", name_field("account", "Audited"))
        .unwrap();
    let hint = async || {
        let status = des_engine::admin::status(&harness.ports, harness.profile.id).await;
        status.ok().and_then(|s| s[0].hint.clone())
    };
    let waits = des_tests::harness::wait_until(CONVERGE, || async { hint().await.is_some() }).await;
    assert!(waits, "the stream waits for its operator");
    let said = hint().await.unwrap_or_default();
    assert!(said.contains("audit_log_gone"), "{said}");
    let repairs = runtime.take_repairs();
    assert_eq!(repairs.len(), 1, "one repair, then a wait: {repairs:?}");

    owner.execute_batch(r#"DROP TRIGGER "audit""#).unwrap();
    harness
        .converged(CONVERGE)
        .await
        .expect("resumes once the owner fixed it");
    assert_eq!(hint().await, None);
    assert!(runtime.take_repairs().is_empty(), "no repair loop");
    runtime.shutdown().await;
}
