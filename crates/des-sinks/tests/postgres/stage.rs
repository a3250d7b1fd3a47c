//! The session's staging table: created once per connection and layout, reused by every
//! batch (no catalog write per batch), never leaking rows out of a rolled-back batch, and at
//! most a few per session.

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::schema::{ColumnDef, ColumnSource, Naming, SchemaPlan, SqlType};
use des_core::{Batch, Change, Value};
use des_sinks::postgres::PostgresSink;

use super::concurrency::{batch, table};
use super::target::{Database, fresh, fresh_database, server};

/// The OIDs of the temporary staging tables that exist on the server right now.
async fn stage_tables(db: &Database) -> Vec<u32> {
    let sql = "SELECT oid FROM pg_class \
               WHERE relname LIKE 'DesStage\\_%' AND relpersistence = 't' ORDER BY oid";
    let rows = db.client.query(sql, &[]).await.expect("catalog reads");
    rows.iter().map(|r| r.get::<_, u32>(0)).collect()
}

/// A fresh database with the account table and batch 1 (rows `ids`) applied.
async fn first_batch(
    url: &str,
    ids: std::ops::Range<u128>,
) -> (PostgresSink, Database, SchemaPlan) {
    let (sink, db) = fresh(url).await;
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    sink.apply_batch(&plan, table(&plan), &batch(1, ids))
        .await
        .expect("batch 1");
    (sink, db, plan)
}

#[tokio::test]
async fn batches_reuse_one_staging_table_per_session() {
    let Some(url) = server() else { return };
    let (sink, db, plan) = first_batch(&url, 0..100).await;
    let first = stage_tables(&db).await;
    assert_eq!(first.len(), 1, "one staging table after the first batch");
    for seq in 2..=20 {
        let ids = u128::from(seq) * 100..u128::from(seq) * 100 + 100;
        let outcome = sink
            .apply_batch(&plan, table(&plan), &batch(seq, ids))
            .await;
        assert!(matches!(
            outcome,
            Ok(BatchOutcome::Applied { applied: 100, .. })
        ));
    }
    assert_eq!(
        stage_tables(&db).await,
        first,
        "the same table served every batch"
    );
    let staged = db
        .client
        .query_one("SELECT count(*) FROM dbo.des_account", &[])
        .await
        .expect("counted");
    assert_eq!(staged.get::<_, i64>(0), 2000);
}

#[tokio::test]
async fn rows_staged_by_a_failed_batch_do_not_reach_the_next_one() {
    let Some(url) = server() else { return };
    let (sink, db, plan) = first_batch(&url, 0..10).await;
    // The target fails one row of batch 2 after its rows were staged, with a target-class
    // error (a record-class refusal would be isolated): the whole transaction rolls back on
    // the same session.
    db.client
        .batch_execute(
            "CREATE FUNCTION dbo.refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.name = 'n15' THEN RAISE EXCEPTION 'refused' \
             USING ERRCODE = 'insufficient_privilege'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER refuse BEFORE INSERT ON dbo.des_account \
             FOR EACH ROW EXECUTE FUNCTION dbo.refuse()",
        )
        .await
        .expect("trigger created");
    let failed = sink
        .apply_batch(&plan, table(&plan), &batch(2, 10..20))
        .await;
    assert!(failed.is_err(), "batch 2 was refused: {failed:?}");
    db.client
        .batch_execute("DROP TRIGGER refuse ON dbo.des_account")
        .await
        .expect("trigger dropped");
    let outcome = sink
        .apply_batch(&plan, table(&plan), &batch(2, 20..25))
        .await;
    assert!(matches!(
        outcome,
        Ok(BatchOutcome::Applied { applied: 5, .. })
    ));
    let rows = db
        .client
        .query("SELECT name FROM dbo.des_account ORDER BY name", &[])
        .await
        .expect("read");
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    let mut want: Vec<String> = (0..10).chain(20..25).map(|n| format!("n{n}")).collect();
    want.sort();
    assert_eq!(names, want, "only batches 1 and 2 (second try) landed");
}

/// The account plan as table `p<n>_account` with one more text column `x<n>`: each such
/// table stages a layout of its own.
fn plan_with_own_layout(n: usize) -> SchemaPlan {
    let mut plan = account_plan(160, 2, false);
    let naming = Naming {
        schema: "dbo".into(),
        prefix: format!("p{n}"),
        write_delete_log: false,
    };
    for t in &mut plan.tables {
        t.name = naming.table_name("account");
        t.columns.push(ColumnDef {
            name: format!("x{n}"),
            ty: SqlType::Text { max_len: None },
            nullable: true,
            source: ColumnSource::Attribute(format!("x{n}")),
        });
    }
    plan.prefix = naming.prefix;
    plan.metadata.clear();
    plan.delete_log = None;
    plan
}

fn batch_with_own_layout(n: usize, seq: u64, ids: std::ops::Range<u128>) -> Batch {
    let mut b = batch(seq, ids);
    b.columns.push(format!("x{n}"));
    for change in &mut b.changes {
        if let Change::Upsert(row) = change {
            row.values.push(Value::Text(format!("x{n}")));
        }
    }
    b
}

#[tokio::test]
async fn a_session_keeps_four_staging_tables_and_drops_the_least_recently_used() {
    let Some(url) = server() else { return };
    let db = fresh_database(&url).await;
    let config = db.config.clone().with_pool_size(1);
    let sink = PostgresSink::connect(&config).await.expect("sink connects");
    let plans: Vec<SchemaPlan> = (0..6).map(plan_with_own_layout).collect();
    for plan in &plans {
        sink.apply_schema(plan).await.expect("schema applies");
    }
    for (n, plan) in plans.iter().enumerate() {
        let outcome = sink
            .apply_batch(plan, table(plan), &batch_with_own_layout(n, 1, 0..10))
            .await;
        assert!(
            matches!(outcome, Ok(BatchOutcome::Applied { applied: 10, .. })),
            "table {n}: {outcome:?}"
        );
        assert_eq!(
            stage_tables(&db).await.len(),
            (n + 1).min(4),
            "after table {n}"
        );
    }
    // The first table's stage made room for the fifth: it is made again, in place of the
    // second's.
    let again = batch_with_own_layout(0, 2, 10..20);
    let outcome = sink.apply_batch(&plans[0], table(&plans[0]), &again).await;
    assert!(
        matches!(outcome, Ok(BatchOutcome::Applied { applied: 10, .. })),
        "{outcome:?}"
    );
    assert_eq!(stage_tables(&db).await.len(), 4);
    let rows = db
        .client
        .query_one("SELECT count(*), min(x0) FROM dbo.p0_account", &[])
        .await
        .expect("counted");
    assert_eq!(rows.get::<_, i64>(0), 20);
    assert_eq!(rows.get::<_, Option<String>>(1).as_deref(), Some("x0"));
}

#[tokio::test]
async fn rows_staged_by_a_committed_batch_do_not_reach_the_next_one() {
    let Some(url) = server() else { return };
    let (sink, db, plan) = first_batch(&url, 0..10).await;
    let mut delete = batch(2, 0..0);
    delete.changes = vec![Change::Delete(uuid::Uuid::from_u128(3))];
    sink.apply_batch(&plan, table(&plan), &delete)
        .await
        .expect("batch 2 deletes record 3");
    sink.apply_batch(&plan, table(&plan), &batch(3, 20..22))
        .await
        .expect("batch 3");
    let rows = db
        .client
        .query("SELECT name FROM dbo.des_account WHERE name = 'n3'", &[])
        .await
        .expect("read");
    assert!(rows.is_empty(), "batch 1's staged record 3 came back");
}
