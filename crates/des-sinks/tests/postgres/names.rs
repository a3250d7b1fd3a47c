//! Names from metadata and the profile are quoted everywhere, quotes included.

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, RetryOutcome, Sink};
use des_core::schema::SchemaPlan;
use des_core::{Batch, BatchKind, Change, RetryChange, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::target::{fresh, server};

const SCHEMA: &str = "Sales \"EU\"";

/// The contract's account plan moved to an awkward schema.
fn odd_plan() -> SchemaPlan {
    let mut plan = account_plan(160, 2, true);
    plan.schema = SCHEMA.into();
    let metadata = plan.metadata.iter_mut().map(|m| &mut m.table);
    for t in plan
        .tables
        .iter_mut()
        .chain(metadata)
        .chain(plan.delete_log.as_mut())
    {
        t.schema = SCHEMA.into();
    }
    plan
}

fn change(n: u128, version: i64) -> Change {
    let values = vec![Value::Text("it's \"quoted\"".into()), Value::Int(version)];
    Change::Upsert(Row {
        id: Uuid::from_u128(n),
        version,
        values,
    })
}

fn batch(seq: u64, changes: Vec<Change>) -> Batch {
    Batch {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        seq,
        kind: BatchKind::Delta,
        columns: vec!["name".into(), "versionnumber".into()],
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn an_odd_schema_name_works_end_to_end() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    let plan = odd_plan();
    sink.apply_schema(&plan).await.expect("schema applies");
    sink.apply_schema(&plan).await.expect("and again");
    let table = plan.table_for("account").expect("planned");
    let batches = [
        batch(1, vec![change(1, 1), change(2, 2)]),
        batch(2, vec![Change::Delete(Uuid::from_u128(1))]),
    ];
    for (b, expected) in batches.iter().zip([2, 1]) {
        let outcome = sink.apply_batch(&plan, table, b).await.expect("applies");
        assert!(matches!(outcome, BatchOutcome::Applied { applied, .. } if applied == expected));
    }
    let retry = RetryChange {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        origin_seq: 1,
        kind: BatchKind::Delta,
        columns: vec!["name".into(), "versionnumber".into()],
        change: change(1, 1),
        attempts: 1,
        read_at: OffsetDateTime::now_utc(),
    };
    let outcome = sink
        .apply_retry(&plan, table, &retry)
        .await
        .expect("retry runs");
    assert_eq!(outcome, RetryOutcome::Superseded);
    assert_eq!(
        sink.watermark(Uuid::nil(), table).await.expect("watermark"),
        2
    );
    let rows = db
        .client
        .query(
            "SELECT \"name\" FROM \"Sales \"\"EU\"\"\".\"des_account\"",
            &[],
        )
        .await
        .expect("the table is where the plan says");
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["it's \"quoted\""]);
    let log = "SELECT count(*) FROM \"Sales \"\"EU\"\"\".\"des_DeleteLog\"";
    let logged = db
        .client
        .query_one(log, &[])
        .await
        .expect("DeleteLog exists");
    assert_eq!(logged.get::<_, i64>(0), 1);
}
