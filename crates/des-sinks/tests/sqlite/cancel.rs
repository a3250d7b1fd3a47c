//! A batch whose caller goes away mid-way writes nothing: the writer thread sees the encoder
//! gone before the end marker and rolls back.

use std::time::Duration;

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::target::fresh;

fn big_batch() -> Batch {
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
        seq: 1,
        kind: BatchKind::Initial,
        columns: vec!["name".into(), "versionnumber".into()],
        changes: (0..2_000).map(row).collect(),
        read_at: OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn an_abandoned_batch_is_rolled_back_and_can_be_applied_again() {
    let (sink, file) = fresh();
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    sink.apply_schema(&plan).await.expect("schema applies");
    let batch = big_batch();
    // The first poll encodes one chunk and yields, so a zero timeout drops the call mid-batch.
    let abandoned = tokio::time::timeout(Duration::ZERO, sink.apply_batch(&plan, table, &batch));
    assert!(
        abandoned.await.is_err(),
        "the call was cut off before it finished"
    );
    assert_eq!(
        sink.watermark(Uuid::nil(), table).await.expect("watermark"),
        0
    );
    assert!(
        file.read("des_account", &["Id"]).is_empty(),
        "no row of the abandoned batch"
    );
    let again = sink
        .apply_batch(&plan, table, &batch)
        .await
        .expect("applies");
    assert_eq!(
        again,
        BatchOutcome::Applied {
            applied: 2_000,
            failures: Vec::new()
        }
    );
    assert_eq!(file.read("des_account", &["Id"]).len(), 2_000);
}
