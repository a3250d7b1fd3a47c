//! Repeated batches through one session add no rows to the system catalogs: the staging
//! table is made once per session, not once per batch.

use std::time::{Duration, Instant};

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::schema::SchemaPlan;
use des_sinks::postgres::{PostgresConfig, PostgresSink};

use super::concurrency::{batch, table};
use super::target::{Database, fresh_database, server};

/// Rows inserted, updated or deleted in the catalogs a table's creation or drop writes.
const CATALOG_WRITES: &str = "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint \
     FROM pg_stat_sys_tables WHERE schemaname = 'pg_catalog' \
     AND relname IN ('pg_class', 'pg_attribute', 'pg_type', 'pg_depend')";

const OTHER_SESSIONS: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE datname = current_database() AND pid <> pg_backend_pid() \
     AND backend_type = 'client backend'";

/// The database's catalog writes so far, once every other session has ended: a session
/// reports its counts at the latest when it exits (its temporary tables dropped first).
async fn catalog_writes(db: &Database) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let row = db.client.query_one(OTHER_SESSIONS, &[]).await;
        let others: i64 = row.expect("sessions listed").get(0);
        if others == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{others} sessions still open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let row = db.client.query_one(CATALOG_WRITES, &[]).await;
    row.expect("statistics read").get(0)
}

/// Applies batches `seqs` through a sink of one connection, then closes it.
async fn apply(config: &PostgresConfig, plan: &SchemaPlan, seqs: std::ops::RangeInclusive<u64>) {
    let sink = PostgresSink::connect(config).await.expect("sink connects");
    for seq in seqs {
        let ids = u128::from(seq) * 100..u128::from(seq) * 100 + 100;
        let outcome = sink.apply_batch(plan, table(plan), &batch(seq, ids)).await;
        assert!(
            matches!(outcome, Ok(BatchOutcome::Applied { applied: 100, .. })),
            "batch {seq}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn twenty_batches_write_the_catalogs_no_more_than_one() {
    let Some(url) = server() else { return };
    let db = fresh_database(&url).await;
    let config = db.config.clone().with_pool_size(1);
    let plan = account_plan(160, 2, false);
    let sink = PostgresSink::connect(&config).await.expect("sink connects");
    sink.apply_schema(&plan).await.expect("schema applies");
    drop(sink);
    let before = catalog_writes(&db).await;
    apply(&config, &plan, 1..=1).await;
    let one = catalog_writes(&db).await - before;
    apply(&config, &plan, 2..=21).await;
    let twenty = catalog_writes(&db).await - before - one;
    assert!(
        one > 0,
        "the measure sees the session's staging table made and dropped"
    );
    assert!(
        twenty <= one,
        "20 batches wrote {twenty} catalog rows, 1 batch {one}"
    );
}
