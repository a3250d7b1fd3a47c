//! Two processes delivering the same batch, and one pool writing several tables at once.

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::schema::{Naming, SchemaPlan, TableDef};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use des_sinks::postgres::PostgresSink;
use time::OffsetDateTime;
use uuid::Uuid;

use super::target::{fresh, server};

pub(super) fn batch(seq: u64, ids: std::ops::Range<u128>) -> Batch {
    let changes = ids
        .map(|n| {
            let values = vec![Value::Text(format!("n{n}")), Value::Int(seq as i64)];
            Change::Upsert(Row {
                id: Uuid::from_u128(n),
                version: seq as i64,
                values,
            })
        })
        .collect();
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

pub(super) fn table(plan: &SchemaPlan) -> &TableDef {
    plan.table_for("account").expect("planned")
}

#[tokio::test]
async fn a_batch_delivered_twice_at_once_applies_once() {
    let Some(url) = server() else { return };
    let (first, db) = fresh(&url).await;
    let second = PostgresSink::connect(&db.config)
        .await
        .expect("a second process connects");
    let plan = account_plan(160, 2, false);
    first.apply_schema(&plan).await.expect("schema applies");
    for seq in 1..=3 {
        let b = batch(seq, 0..500);
        let (a, b) = tokio::join!(
            first.apply_batch(&plan, table(&plan), &b),
            second.apply_batch(&plan, table(&plan), &b)
        );
        let mut outcomes = [a.expect("first"), b.expect("second")];
        outcomes.sort_by_key(|o| matches!(o, BatchOutcome::Duplicate));
        let applied = BatchOutcome::Applied {
            applied: 500,
            failures: Vec::new(),
        };
        assert_eq!(outcomes, [applied, BatchOutcome::Duplicate], "seq {seq}");
    }
    assert_eq!(
        first
            .watermark(Uuid::nil(), table(&plan))
            .await
            .expect("watermark"),
        3
    );
    let count = db
        .client
        .query_one("SELECT count(*) FROM dbo.des_account", &[])
        .await;
    assert_eq!(count.expect("counted").get::<_, i64>(0), 500);
}

#[tokio::test]
async fn tables_of_several_profiles_are_written_in_parallel() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    let plans: Vec<SchemaPlan> = ["crm", "erp", "hr"]
        .iter()
        .map(|prefix| {
            let mut plan = account_plan(160, 2, false);
            let naming = Naming {
                schema: "dbo".into(),
                prefix: (*prefix).into(),
                write_delete_log: true,
            };
            for t in &mut plan.tables {
                t.name = naming.table_name("account");
            }
            plan.prefix = naming.prefix;
            plan.metadata.clear();
            plan.delete_log = None;
            plan
        })
        .collect();
    for plan in &plans {
        sink.apply_schema(plan).await.expect("schema applies");
    }
    let b = batch(1, 0..1_000);
    // Three tables, a pool of two: the third write waits for a connection.
    let apply = |p: &'static str| {
        let plan = plans.iter().find(|plan| plan.prefix == p).expect("planned");
        sink.apply_batch(plan, table(plan), &b)
    };
    let (crm, erp, hr) = tokio::join!(apply("crm"), apply("erp"), apply("hr"));
    for outcome in [crm, erp, hr] {
        let outcome = outcome.expect("applies");
        assert!(
            matches!(outcome, BatchOutcome::Applied { applied: 1_000, .. }),
            "{outcome:?}"
        );
    }
    for prefix in ["crm", "erp", "hr"] {
        let sql = format!("SELECT count(*) FROM dbo.{prefix}_account");
        let count = db.client.query_one(&sql, &[]).await.expect("counted");
        assert_eq!(count.get::<_, i64>(0), 1_000, "{prefix}");
    }
}
