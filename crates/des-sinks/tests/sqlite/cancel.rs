//! A batch whose caller goes away mid-way writes nothing: the writer thread sees the encoder
//! gone before the end marker and rolls back.

use std::time::Duration;

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::target::fresh;

fn batch(seq: u64, rows: std::ops::Range<u128>) -> Batch {
    let row = |n: u128| {
        let values = vec![Value::Text(format!("account {n}")), Value::Int(1)];
        Change::Upsert(Row {
            id: Uuid::from_u128(n + 1),
            version: 1,
            values,
        })
    };
    Batch {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        seq,
        kind: BatchKind::Initial,
        columns: vec!["name".into(), "versionnumber".into()],
        changes: rows.map(row).collect(),
        read_at: OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn an_abandoned_batch_is_rolled_back_and_can_be_applied_again() {
    let (sink, file) = fresh();
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    sink.apply_schema(&plan).await.expect("schema applies");
    let first = sink.apply_batch(&plan, table, &batch(1, 0..1)).await;
    assert!(matches!(
        first,
        Ok(BatchOutcome::Applied { applied: 1, .. })
    ));

    // Another connection holds the write lock, so the batch's writer waits at its BEGIN and
    // takes no chunk: the caller fills the two chunks the writer may have waiting, blocks on
    // the third of four, and is dropped there, mid-batch, whatever the machine's timing.
    let holder = rusqlite::Connection::open(&file.path).expect("opens");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("takes the write lock");
    let big = batch(2, 1..2_001);
    let abandoned = tokio::time::timeout(Duration::ZERO, sink.apply_batch(&plan, table, &big));
    assert!(
        abandoned.await.is_err(),
        "the call was cut off before it finished"
    );
    holder.execute_batch("ROLLBACK").expect("lets the lock go");

    assert_eq!(
        sink.watermark(Uuid::nil(), table).await.expect("watermark"),
        1
    );
    assert_eq!(
        file.read("des_account", &["Id"]).len(),
        1,
        "no row of the abandoned batch"
    );
    let again = sink.apply_batch(&plan, table, &big).await.expect("applies");
    assert_eq!(
        again,
        BatchOutcome::Applied {
            applied: 2_000,
            failures: Vec::new()
        }
    );
    assert_eq!(file.read("des_account", &["Id"]).len(), 2_001);
}
