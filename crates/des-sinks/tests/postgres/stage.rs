//! The session's staging table: created once per connection and layout, reused by every
//! batch (no catalog write per batch), and never leaking rows out of a rolled-back batch.

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};

use super::concurrency::{batch, table};
use super::target::{Database, fresh, server};

/// The OIDs of the temporary staging tables that exist on the server right now.
async fn stage_tables(db: &Database) -> Vec<u32> {
    let sql = "SELECT oid FROM pg_class \
               WHERE relname LIKE 'DesStage\\_%' AND relpersistence = 't' ORDER BY oid";
    let rows = db.client.query(sql, &[]).await.expect("catalog reads");
    rows.iter().map(|r| r.get::<_, u32>(0)).collect()
}

#[tokio::test]
async fn batches_reuse_one_staging_table_per_session() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    sink.apply_batch(&plan, table(&plan), &batch(1, 0..100))
        .await
        .expect("batch 1");
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
    let (sink, db) = fresh(&url).await;
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    sink.apply_batch(&plan, table(&plan), &batch(1, 0..10))
        .await
        .expect("batch 1");
    // The target refuses one row of batch 2 after its rows were staged: the whole
    // transaction rolls back on the same session.
    db.client
        .batch_execute(
            "CREATE FUNCTION dbo.refuse() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN IF NEW.name = 'n15' THEN RAISE EXCEPTION 'refused'; END IF; \
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
