//! The write path at the protocol level, against the loopback TDS stand-in: a batch is one
//! transaction whose statement count does not grow with its size, temp tables are created by
//! plain batches (inside `sp_executesql` they would vanish when the call returns), the bulk
//! rows encode against SQL Server's column metadata, and a duplicate writes nothing.

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, RetryOutcome, Sink};
use des_core::{Batch, BatchKind, Change, ChangeType, RetryChange, Row, StreamId, Value};
use des_sinks::mssql::{MssqlConfig, MssqlSink};
use time::OffsetDateTime;
use uuid::Uuid;

use super::tds::{Request, StandIn};

const COLUMNS: [&str; 5] = [
    "name",
    "industrycode",
    "primarycontactid",
    "revenue",
    "versionnumber",
];

pub(super) fn upsert(n: u128, name: &str) -> Change {
    let version = i64::try_from(n).expect("small");
    Change::Upsert(Row {
        id: Uuid::from_u128(n),
        version,
        values: vec![
            Value::Text(name.into()),
            Value::Int(2),
            Value::Lookup {
                id: Uuid::from_u128(0xC0),
                target: Some("contact".into()),
            },
            Value::Decimal("1234.5".into()),
            Value::Int(version),
        ],
    })
}

pub(super) fn batch(seq: u64, changes: Vec<Change>) -> Batch {
    Batch {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        seq,
        kind: BatchKind::Delta,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

pub(super) async fn sink(stand_in: &StandIn) -> MssqlSink {
    let text = format!(
        "Server=tcp:127.0.0.1,{};Database=des;User ID=des;Password=x;Encrypt=DANGER_PLAINTEXT",
        stand_in.port
    );
    let config = MssqlConfig::parse(&text).expect("parses");
    let sink = Box::pin(MssqlSink::connect(&config))
        .await
        .expect("the stand-in takes the login");
    // The first call of a profile prepares its state (`state_is_prepared_once_per_profile`);
    // the cases below look at the requests of the calls after it.
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    sink.watermark(Uuid::nil(), table).await.expect("prepares");
    sink
}

/// The requests of one `apply_batch` call.
async fn apply(stand_in: &StandIn, sink: &MssqlSink, b: &Batch) -> (BatchOutcome, Vec<Request>) {
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    let before = stand_in.requests().len();
    let outcome = sink.apply_batch(&plan, table, b).await.expect("applies");
    (outcome, stand_in.requests()[before..].to_vec())
}

pub(super) fn statements(requests: &[Request]) -> Vec<&str> {
    requests
        .iter()
        .filter_map(|r| match r {
            Request::Batch(t) | Request::Rpc(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// Every request as sent, the driver's own bulk statements included, one per block.
fn transcript(requests: &[Request]) -> String {
    let line = |r: &Request| match r {
        Request::Batch(t) => format!("-- batch\n{t}"),
        Request::Rpc(t) => format!("-- sp_executesql\n{t}"),
        Request::Transaction => "-- transaction manager (begin, commit or rollback)".to_owned(),
        Request::BulkRows => "-- bulk-load rows".to_owned(),
    };
    requests
        .iter()
        .map(|r| format!("{}\nGO\n", line(r)))
        .collect()
}

#[tokio::test]
async fn a_batch_is_one_transaction_of_fixed_size() {
    let stand_in = StandIn::start(0).await;
    let sink = sink(&stand_in).await;
    let mut changes = vec![upsert(1, "a"), upsert(2, &"x".repeat(161)), upsert(3, "c")];
    changes.push(Change::Delete(Uuid::from_u128(9)));
    let (outcome, small) = apply(&stand_in, &sink, &batch(1, changes)).await;
    let BatchOutcome::Applied { applied, failures } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(applied, 3);
    assert_eq!(
        (failures[0].id, failures[0].change_type),
        (Uuid::from_u128(2), ChangeType::New)
    );
    assert_eq!(small.first(), Some(&Request::Transaction), "begins first");
    assert_eq!(small.last(), Some(&Request::Transaction), "commits last");
    let bulk = small.iter().filter(|r| **r == Request::BulkRows).count();
    assert_eq!(bulk, 2, "the keys and the upserts, each one bulk load");
    let temp_ddl = |t: &str| t.starts_with("CREATE TABLE #") || t.starts_with("DROP TABLE");
    let by_rpc = small
        .iter()
        .any(|r| matches!(r, Request::Rpc(t) if temp_ddl(t)));
    assert!(!by_rpc, "temp tables are made by plain batches");
    let by_batch = small
        .iter()
        .filter(|r| matches!(r, Request::Batch(t) if t.starts_with("CREATE TABLE #")))
        .count();
    assert_eq!(by_batch, 3, "#DesKeys, #DesGone, #DesStage");
    let sent = statements(&small);
    super::golden::check("wire_batch", &transcript(&small)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        sent.iter()
            .any(|s| s.starts_with("MERGE [dbo].[des_account]"))
    );
    assert!(
        sent.iter()
            .any(|s| s.starts_with("DELETE FROM [dbo].[des_account] OUTPUT"))
    );
    assert!(
        sent.last()
            .is_some_and(|s| s.starts_with("UPDATE [des_state].[Watermark]")),
        "the watermark moves last, in the same transaction"
    );
    let mut many: Vec<Change> = (10..310).map(|n| upsert(n, "n")).collect();
    many.push(upsert(2, &"x".repeat(161)));
    many.push(Change::Delete(Uuid::from_u128(9)));
    let (_, large) = apply(&stand_in, &sink, &batch(1, many)).await;
    assert_eq!(
        large.len(),
        small.len(),
        "300 upserts take as many requests as 3"
    );
}

#[tokio::test]
async fn a_duplicate_batch_rolls_back_without_writing() {
    let stand_in = StandIn::start(5).await;
    let sink = sink(&stand_in).await;
    let (outcome, requests) = apply(&stand_in, &sink, &batch(3, vec![upsert(1, "a")])).await;
    assert_eq!(outcome, BatchOutcome::Duplicate);
    let sent = statements(&requests);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].contains("WITH (UPDLOCK, HOLDLOCK)"), "{}", sent[1]);
    assert_eq!(requests.last(), Some(&Request::Transaction), "rolled back");
    assert!(!requests.contains(&Request::BulkRows));
}

#[tokio::test]
async fn a_retry_checks_tombstone_and_version_then_writes_in_one_transaction() {
    let stand_in = StandIn::start(0).await;
    let sink = sink(&stand_in).await;
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    let b = batch(4, vec![upsert(1, "a")]);
    let retry = RetryChange {
        stream: b.stream.clone(),
        origin_seq: 4,
        kind: BatchKind::Delta,
        columns: b.columns.clone(),
        change: b.changes[0].clone(),
        attempts: 1,
        read_at: b.read_at,
    };
    let before = stand_in.requests().len();
    let outcome = sink
        .apply_retry(&plan, table, &retry)
        .await
        .expect("retries");
    assert_eq!(outcome, RetryOutcome::Applied);
    let requests = stand_in.requests()[before..].to_vec();
    let sent = statements(&requests);
    let position = |prefix: &str| sent.iter().position(|s| s.starts_with(prefix));
    let tombstone = position("SELECT [Seq] FROM [des_state].[Tombstone]").expect("tombstone read");
    let version = position("SELECT [versionnumber]").expect("version read");
    let merge = position("MERGE [dbo].[des_account]").expect("upsert");
    assert!(tombstone < version && version < merge, "{sent:?}");
    assert_eq!(
        requests.iter().filter(|r| **r == Request::BulkRows).count(),
        1
    );
    assert_eq!(requests.last(), Some(&Request::Transaction), "committed");
}

#[tokio::test]
async fn state_is_prepared_once_per_profile_in_one_transaction() {
    let stand_in = StandIn::start(0).await;
    let sink = sink(&stand_in).await; // prepared the nil profile
    let plan = account_plan(160, 2, false);
    let table = plan.table_for("account").expect("planned");
    let profile = Uuid::from_u128(0xB);
    let before = stand_in.requests().len();
    sink.watermark(profile, table).await.expect("reads");
    let first = stand_in.requests()[before..].to_vec();
    assert_eq!(first.first(), Some(&Request::Transaction), "begins first");
    assert_eq!(
        first.get(first.len() - 2),
        Some(&Request::Transaction),
        "commits, then reads the watermark"
    );
    let sent = statements(&first);
    assert!(
        sent.iter()
            .any(|s| s.starts_with("CREATE SCHEMA [des_state]")),
        "{sent:?}"
    );
    let moved = sent
        .iter()
        .position(|s| s.starts_with("IF OBJECT_ID(N'[dbo].[des_DesWatermark]', N'U') IS NOT NULL"))
        .expect("the old layout's state is moved");
    assert!(
        sent[moved].contains("CAST('00000000-0000-0000-0000-00000000000b' AS uniqueidentifier)")
    );
    assert!(
        sent.last()
            .is_some_and(|s| s.starts_with("SELECT [Seq] FROM [des_state].[Watermark]"))
    );
    let before = stand_in.requests().len();
    sink.watermark(profile, table).await.expect("reads");
    let again = statements(&stand_in.requests()[before..]).len();
    assert_eq!(again, 1, "prepared once: the second read is one statement");
}
