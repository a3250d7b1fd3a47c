//! The [`Sink`] contract: ordered, exactly-once batches, no stale overwrite, no resurrection,
//! resync sweeps, per-record failures, additive schema evolution, and engine state that
//! belongs to one profile.
//!
//! Every case gets a fresh, empty target from the factory, with an [`Inspect`] handle that
//! reads the target back. Values read back are text, so cases compare ids as GUIDs and
//! numbers as integers, whatever the dialect prints.

use std::future::Future;

use des_core::metadata::{AttributeKind as K, AttributeMetadata, EntityMetadata};
use des_core::metadata::{LocalizedLabel, OptionMetadata, OptionSetMetadata};
use des_core::ports::{BatchOutcome, RetryOutcome, Sink};
use des_core::schema::{Naming, SchemaPlan, TableDef, plan};
use des_core::{Batch, BatchKind, Change, ChangeType, RetryChange, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::case::Suite;

mod lookups;
mod profiles;
mod refusal;
pub use lookups::{lookup_names_and_types_read_back, owner_plan};
pub use profiles::{
    each_profile_has_its_own_state, empty_batch, identity_tokens_are_kept_per_profile,
    moved_state_is_only_the_first_profiles,
};
pub use refusal::{Refuse, target_refusals_are_isolated};

/// The profile whose state the cases write; `profiles.rs` adds a second one.
const PROFILE: Uuid = Uuid::nil();

/// Reads a target back.
pub trait Inspect: Send + Sync + 'static {
    /// The given columns of every row of `table`, in any order; each cell as text, `None` for
    /// NULL.
    fn rows(
        &self,
        table: &str,
        columns: &[&str],
    ) -> impl Future<Output = Vec<Vec<Option<String>>>> + Send;
}

/// Runs every case, each against a fresh `(sink, inspect)` from `make`.
pub async fn run_all<F, Fut, S, I>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = (S, I)>,
    S: Sink + 'static,
    I: Inspect,
{
    let mut suite = Suite::new("Sink");
    macro_rules! case {
        ($name:ident) => {{
            let (sink, inspect) = make().await;
            suite.case(stringify!($name), $name(sink, inspect)).await;
        }};
    }
    case!(schema_create_is_idempotent);
    case!(evolution_adds_and_widens);
    case!(ordered_batches_apply);
    case!(duplicate_batch_is_a_no_op);
    case!(out_of_order_batch_is_a_no_op);
    case!(no_stale_overwrite);
    case!(delete_writes_delete_log);
    case!(older_retry_does_not_resurrect);
    case!(recreate_in_a_later_batch);
    case!(resync_sweeps_unseen_rows);
    case!(record_failure_is_isolated);
    case!(metadata_rows_are_replaced);
    case!(lookup_names_and_types_read_back);
    case!(each_profile_has_its_own_state);
    case!(identity_tokens_are_kept_per_profile);
    suite.finish();
}

const COLUMNS: [&str; 5] = [
    "name",
    "industrycode",
    "primarycontactid",
    "revenue",
    "versionnumber",
];

/// An attribute as metadata discovery gives it, readable and with no extras; the suites
/// and the sinks' own tests build their entities from it.
pub fn attr(name: &str, kind: K) -> AttributeMetadata {
    AttributeMetadata {
        logical_name: name.into(),
        schema_name: name.into(),
        metadata_id: format!("md-{name}"),
        kind,
        attribute_of: None,
        is_valid_for_read: true,
        is_valid_odata: true,
        is_primary_id: false,
        column_number: None,
        max_length: None,
        precision: None,
        targets: Vec::new(),
        date_time_behavior: None,
        option_set: None,
    }
}

fn industry(options: i32) -> OptionSetMetadata {
    let option = |value| OptionMetadata {
        value,
        labels: vec![LocalizedLabel {
            label: format!("Industry {value}"),
            language_code: 1033,
        }],
        user_localized_label: None,
        state: None,
    };
    OptionSetMetadata {
        name: "account_industrycode".into(),
        is_global: false,
        options: (1..=options).map(option).collect(),
    }
}

/// The `account` entity as Dataverse describes it, with `attributes`.
pub fn account_entity(attributes: Vec<AttributeMetadata>) -> EntityMetadata {
    EntityMetadata {
        logical_name: "account".into(),
        schema_name: "Account".into(),
        entity_set_name: "accounts".into(),
        primary_id_attribute: "accountid".into(),
        primary_name_attribute: Some("name".into()),
        display_name: None,
        object_type_code: Some(1),
        metadata_id: "md-account".into(),
        change_tracking_enabled: true,
        is_intersect: false,
        attributes,
    }
}

/// An account plan: `name` of `name_len`, `industrycode` with `options` options, and a
/// `new_score` column when `score` is set.
pub fn account_plan(name_len: i32, options: i32, score: bool) -> SchemaPlan {
    let mut attributes = vec![
        attr("accountid", K::Uniqueidentifier),
        AttributeMetadata {
            max_length: Some(name_len),
            ..attr("name", K::String)
        },
        AttributeMetadata {
            option_set: Some(industry(options)),
            ..attr("industrycode", K::Picklist)
        },
        AttributeMetadata {
            targets: vec!["contact".into()],
            ..attr("primarycontactid", K::Lookup)
        },
        AttributeMetadata {
            precision: Some(2),
            ..attr("revenue", K::Money)
        },
        attr("versionnumber", K::BigInt),
    ];
    if score {
        attributes.push(attr("new_score", K::Integer));
    }
    let account = account_entity(attributes);
    let naming = Naming {
        schema: "dbo".into(),
        prefix: "des".into(),
        write_delete_log: true,
    };
    plan(&naming, &[account], &[], &[])
}

fn base_plan() -> SchemaPlan {
    account_plan(160, 2, false)
}

fn table(plan: &SchemaPlan) -> &TableDef {
    plan.table_for("account").expect("account is planned")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x1000_0000_0000_0000_0000_0000_0000_0000 + n)
}

fn contact() -> Uuid {
    Uuid::from_u128(0xC0)
}

fn upsert(n: u128, version: i64, name: &str) -> Change {
    let values = vec![
        Value::Text(name.into()),
        Value::Int(2),
        Value::Lookup {
            id: contact(),
            target: Some("contact".into()),
        },
        Value::Decimal("1234.5".into()),
        Value::Int(version),
    ];
    Change::Upsert(Row {
        id: id(n),
        version,
        values,
    })
}

fn batch(seq: u64, kind: BatchKind, changes: Vec<Change>) -> Batch {
    Batch {
        stream: StreamId {
            profile_id: PROFILE,
            entity: "account".into(),
        },
        seq,
        kind,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

fn retry(origin_seq: u64, change: Change) -> RetryChange {
    RetryChange {
        stream: StreamId {
            profile_id: PROFILE,
            entity: "account".into(),
        },
        origin_seq,
        kind: BatchKind::Delta,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        change,
        attempts: 1,
        read_at: OffsetDateTime::now_utc(),
    }
}

async fn setup<S: Sink>(sink: &S) -> SchemaPlan {
    let plan = base_plan();
    sink.apply_schema(&plan).await.expect("schema applies");
    plan
}

async fn apply<S: Sink>(sink: &S, plan: &SchemaPlan, b: Batch) -> BatchOutcome {
    sink.apply_batch(plan, table(plan), &b)
        .await
        .expect("batch applies")
}

fn applied(n: usize) -> BatchOutcome {
    BatchOutcome::Applied {
        applied: n,
        failures: Vec::new(),
    }
}

/// `(id, name, versionnumber)` of every account row, by id.
async fn accounts<I: Inspect>(inspect: &I) -> Vec<(Uuid, Option<String>, Option<i64>)> {
    let rows = inspect
        .rows("des_account", &["Id", "name", "versionnumber"])
        .await;
    let mut rows: Vec<_> = rows
        .into_iter()
        .map(|r| {
            (
                parse_id(&r[0]),
                r[1].clone(),
                r[2].as_deref().map(parse_int),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn parse_id(cell: &Option<String>) -> Uuid {
    cell.as_deref()
        .and_then(|s| s.parse().ok())
        .expect("a GUID id")
}

fn parse_int(cell: &str) -> i64 {
    cell.parse().expect("an integer")
}

fn account(n: u128, name: &str, version: i64) -> (Uuid, Option<String>, Option<i64>) {
    (id(n), Some(name.into()), Some(version))
}

pub async fn schema_create_is_idempotent<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let before = sink.has_table(table(&base_plan())).await;
    assert!(!before.expect("has_table"), "a fresh target has no table");
    let plan = setup(&sink).await;
    assert!(sink.has_table(table(&plan)).await.expect("has_table"));
    sink.apply_schema(&plan)
        .await
        .expect("second apply is a no-op");
    assert_eq!(accounts(&inspect).await, []);
    let options = inspect.rows("des_OptionSetMetadata", &["Option"]).await;
    assert_eq!(options.len(), 2, "metadata rows are not duplicated");
    assert_eq!(inspect.rows("des_DeleteLog", &["Id"]).await.len(), 0);
    assert_eq!(
        sink.watermark(PROFILE, table(&plan))
            .await
            .expect("watermark"),
        0
    );
}

pub async fn evolution_adds_and_widens<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let long = "x".repeat(200);
    let outcome = apply(
        &sink,
        &plan,
        batch(1, BatchKind::Delta, vec![upsert(1, 1, &long)]),
    )
    .await;
    let BatchOutcome::Applied { failures, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        failures[0].reason,
        "String length in source longer than destination schema for [name, 160]"
    );
    let wider = account_plan(300, 2, true);
    sink.apply_schema(&wider).await.expect("evolves");
    let mut b = batch(2, BatchKind::Delta, vec![upsert(1, 2, &long)]);
    b.columns.push("new_score".into());
    let Change::Upsert(row) = &mut b.changes[0] else {
        unreachable!()
    };
    row.values.push(Value::Int(7));
    assert_eq!(apply(&sink, &wider, b).await, applied(1));
    assert_eq!(accounts(&inspect).await, [account(1, &long, 2)]);
    let score = inspect.rows("des_account", &["new_score"]).await;
    assert_eq!(score, [[Some("7".to_owned())]]);
}

async fn sink_times<I: Inspect>(inspect: &I) -> Vec<Option<String>> {
    let rows = inspect
        .rows("des_account", &["Id", "SinkCreatedOn", "SinkModifiedOn"])
        .await;
    let first = rows
        .into_iter()
        .find(|r| parse_id(&r[0]) == id(1))
        .expect("row 1");
    first[1..].to_vec()
}

pub async fn ordered_batches_apply<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let one = |seq, kind, change| batch(seq, kind, vec![change]);
    let first = one(1, BatchKind::Initial, upsert(1, 1, "a"));
    assert_eq!(apply(&sink, &plan, first).await, applied(1));
    let created = sink_times(&inspect).await;
    assert!(
        created.iter().all(Option::is_some),
        "sink times are set: {created:?}"
    );
    let second = one(2, BatchKind::Initial, upsert(2, 2, "b"));
    assert_eq!(apply(&sink, &plan, second).await, applied(1));
    let third = one(3, BatchKind::Delta, upsert(1, 3, "a2"));
    assert_eq!(apply(&sink, &plan, third).await, applied(1));
    assert_eq!(
        sink.watermark(PROFILE, table(&plan))
            .await
            .expect("watermark"),
        3
    );
    let expected = [account(1, "a2", 3), account(2, "b", 2)];
    assert_eq!(accounts(&inspect).await, expected);
    let updated = sink_times(&inspect).await;
    assert_eq!(updated[0], created[0], "an update keeps SinkCreatedOn");
    assert!(updated[1].is_some(), "an update sets SinkModifiedOn");
    let lookup_columns = ["primarycontactid", "primarycontactid_entitytype"];
    let lookup = inspect.rows("des_account", &lookup_columns).await;
    assert_eq!(parse_id(&lookup[0][0]), contact());
    assert_eq!(lookup[0][1].as_deref(), Some("contact"));
}

pub async fn duplicate_batch_is_a_no_op<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    apply(
        &sink,
        &plan,
        batch(1, BatchKind::Delta, vec![upsert(1, 1, "a")]),
    )
    .await;
    let again = batch(
        1,
        BatchKind::Delta,
        vec![upsert(1, 5, "changed"), upsert(2, 5, "new")],
    );
    assert_eq!(apply(&sink, &plan, again).await, BatchOutcome::Duplicate);
    assert_eq!(accounts(&inspect).await, [account(1, "a", 1)]);
}

pub async fn out_of_order_batch_is_a_no_op<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let early = batch(2, BatchKind::Delta, vec![upsert(2, 2, "b")]);
    assert_eq!(
        apply(&sink, &plan, early.clone()).await,
        BatchOutcome::OutOfOrder { watermark: 0 }
    );
    assert_eq!(accounts(&inspect).await, []);
    apply(
        &sink,
        &plan,
        batch(1, BatchKind::Delta, vec![upsert(1, 1, "a")]),
    )
    .await;
    assert_eq!(apply(&sink, &plan, early).await, applied(1));
    assert_eq!(
        accounts(&inspect).await,
        [account(1, "a", 1), account(2, "b", 2)]
    );
}

pub async fn no_stale_overwrite<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    apply(
        &sink,
        &plan,
        batch(1, BatchKind::Delta, vec![upsert(1, 10, "new")]),
    )
    .await;
    apply(
        &sink,
        &plan,
        batch(2, BatchKind::Delta, vec![upsert(1, 5, "old")]),
    )
    .await;
    assert_eq!(accounts(&inspect).await, [account(1, "new", 10)]);
    let stale = sink
        .apply_retry(&plan, table(&plan), &retry(1, upsert(1, 9, "old")))
        .await;
    assert_eq!(stale.expect("retry"), RetryOutcome::Superseded);
    let fresh = sink
        .apply_retry(&plan, table(&plan), &retry(2, upsert(1, 11, "newer")))
        .await;
    assert_eq!(fresh.expect("retry"), RetryOutcome::Applied);
    assert_eq!(accounts(&inspect).await, [account(1, "newer", 11)]);
}

async fn delete_log<I: Inspect>(inspect: &I) -> Vec<(String, Uuid, Option<i64>)> {
    let rows = inspect
        .rows(
            "des_DeleteLog",
            &["EntityName", "RecordId", "VersionNumber"],
        )
        .await;
    let row = |r: Vec<Option<String>>| {
        (
            r[0].clone().unwrap_or_default(),
            parse_id(&r[1]),
            r[2].as_deref().map(parse_int),
        )
    };
    let mut rows: Vec<_> = rows.into_iter().map(row).collect();
    rows.sort();
    rows
}

pub async fn delete_writes_delete_log<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    apply(
        &sink,
        &plan,
        batch(
            1,
            BatchKind::Delta,
            vec![upsert(1, 7, "a"), upsert(2, 8, "b")],
        ),
    )
    .await;
    assert_eq!(
        apply(
            &sink,
            &plan,
            batch(2, BatchKind::Delta, vec![Change::Delete(id(1))])
        )
        .await,
        applied(1)
    );
    assert_eq!(accounts(&inspect).await, [account(2, "b", 8)]);
    assert_eq!(
        delete_log(&inspect).await,
        [("account".to_owned(), id(1), Some(7))]
    );
}

pub async fn older_retry_does_not_resurrect<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    apply(
        &sink,
        &plan,
        batch(1, BatchKind::Delta, vec![upsert(1, 1, "a")]),
    )
    .await;
    apply(
        &sink,
        &plan,
        batch(
            2,
            BatchKind::Delta,
            vec![upsert(2, 2, "b"), Change::Delete(id(1))],
        ),
    )
    .await;
    for origin in [1, 2] {
        let late = sink
            .apply_retry(&plan, table(&plan), &retry(origin, upsert(1, 3, "zombie")))
            .await;
        assert_eq!(
            late.expect("retry"),
            RetryOutcome::Superseded,
            "origin {origin}"
        );
    }
    assert_eq!(accounts(&inspect).await, [account(2, "b", 2)]);
}

pub async fn recreate_in_a_later_batch<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    apply(
        &sink,
        &plan,
        batch(1, BatchKind::Delta, vec![upsert(1, 1, "a")]),
    )
    .await;
    apply(
        &sink,
        &plan,
        batch(2, BatchKind::Delta, vec![Change::Delete(id(1))]),
    )
    .await;
    assert_eq!(
        apply(
            &sink,
            &plan,
            batch(3, BatchKind::Delta, vec![upsert(1, 4, "again")])
        )
        .await,
        applied(1)
    );
    assert_eq!(accounts(&inspect).await, [account(1, "again", 4)]);
    let newer = sink
        .apply_retry(&plan, table(&plan), &retry(3, upsert(1, 5, "retried")))
        .await;
    assert_eq!(
        newer.expect("retry"),
        RetryOutcome::Applied,
        "the tombstone was lifted"
    );
    assert_eq!(accounts(&inspect).await, [account(1, "retried", 5)]);
}

pub async fn resync_sweeps_unseen_rows<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let initial = vec![upsert(1, 1, "a"), upsert(2, 2, "b"), upsert(3, 3, "c")];
    apply(&sink, &plan, batch(1, BatchKind::Initial, initial)).await;
    let resync = BatchKind::Resync { first_seq: 2 };
    apply(
        &sink,
        &plan,
        batch(2, resync, vec![upsert(1, 1, "a"), upsert(3, 5, "c2")]),
    )
    .await;
    apply(&sink, &plan, batch(3, resync, vec![upsert(4, 6, "d")])).await;
    let done = batch(4, BatchKind::ResyncComplete { first_seq: 2 }, vec![]);
    assert_eq!(apply(&sink, &plan, done).await, applied(0));
    assert_eq!(
        accounts(&inspect).await,
        [account(1, "a", 1), account(3, "c2", 5), account(4, "d", 6)]
    );
    assert_eq!(
        delete_log(&inspect).await,
        [("account".to_owned(), id(2), Some(2))]
    );
    let late = sink
        .apply_retry(&plan, table(&plan), &retry(1, upsert(2, 9, "zombie")))
        .await;
    assert_eq!(late.expect("retry"), RetryOutcome::Superseded);
    let again = BatchKind::Resync { first_seq: 5 };
    apply(&sink, &plan, batch(5, again, vec![upsert(1, 1, "a")])).await;
    apply(
        &sink,
        &plan,
        batch(6, BatchKind::ResyncComplete { first_seq: 5 }, vec![]),
    )
    .await;
    assert_eq!(
        accounts(&inspect).await,
        [account(1, "a", 1)],
        "a second resync forgets the first"
    );
}

pub async fn record_failure_is_isolated<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let mut bad = upsert(2, 2, "b");
    if let Change::Upsert(row) = &mut bad {
        row.values[3] = Value::Decimal("1e40".into());
    }
    let outcome = apply(
        &sink,
        &plan,
        batch(
            1,
            BatchKind::Delta,
            vec![upsert(1, 1, "a"), bad, upsert(3, 3, "c")],
        ),
    )
    .await;
    let BatchOutcome::Applied { applied, failures } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(applied, 2);
    assert_eq!(
        (failures.len(), failures[0].id, failures[0].change_type),
        (1, id(2), ChangeType::New)
    );
    assert!(
        failures[0].reason.contains("[revenue"),
        "{}",
        failures[0].reason
    );
    assert!(
        !failures[0].reason.contains("1e40"),
        "reasons never carry values"
    );
    assert_eq!(
        accounts(&inspect).await,
        [account(1, "a", 1), account(3, "c", 3)]
    );
    assert_eq!(
        sink.watermark(PROFILE, table(&plan))
            .await
            .expect("watermark"),
        1
    );
}

pub async fn metadata_rows_are_replaced<S: Sink, I: Inspect>(sink: S, inspect: I) {
    setup(&sink).await;
    sink.apply_schema(&account_plan(160, 3, false))
        .await
        .expect("schema applies");
    let mut options: Vec<Option<String>> = inspect
        .rows("des_OptionSetMetadata", &["Option", "LocalizedLabel"])
        .await
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    options.sort();
    let expected = ["Industry 1", "Industry 2", "Industry 3"].map(|s| Some(s.to_owned()));
    assert_eq!(options, expected);
    let attributes = inspect
        .rows("des_AttributeMetadata", &["AttributeName"])
        .await;
    assert_eq!(
        attributes.len(),
        6,
        "one row per exported attribute, not duplicated"
    );
}
