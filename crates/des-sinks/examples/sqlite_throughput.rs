//! Measures the SQLite sink's write rate for account-like rows (30 columns: text, lookups,
//! money, choices, dates) in 5,000-row batches. Run with
//! `cargo run --release -p des-sinks --example sqlite_throughput [rows]`.

use std::time::Instant;

use des_core::metadata::{AttributeKind as K, AttributeMetadata, EntityMetadata};
use des_core::ports::{BatchOutcome, Sink};
use des_core::schema::{Naming, plan};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use des_sinks::sqlite::{SqliteConfig, SqliteSink};
use time::OffsetDateTime;
use uuid::Uuid;

const BATCH: usize = 5_000;

fn attr(name: &str, kind: K, max_length: Option<i32>, precision: Option<i32>) -> AttributeMetadata {
    AttributeMetadata {
        logical_name: name.into(),
        schema_name: name.into(),
        metadata_id: name.into(),
        kind,
        attribute_of: None,
        is_valid_for_read: true,
        is_valid_odata: true,
        is_primary_id: false,
        column_number: None,
        max_length,
        precision,
        targets: if kind.is_lookup() {
            vec!["contact".into()]
        } else {
            vec![]
        },
        date_time_behavior: None,
        option_set: None,
    }
}

/// 24 attributes; with `Id`, the two sink columns and three `_entitytype` columns, 30 columns.
fn account() -> EntityMetadata {
    let text = |n: &str, len| attr(n, K::String, Some(len), None);
    let attributes = vec![
        attr("accountid", K::Uniqueidentifier, None, None),
        text("name", 160),
        text("accountnumber", 20),
        text("telephone1", 50),
        text("emailaddress1", 100),
        text("address1_city", 80),
        text("address1_line1", 250),
        text("address1_postalcode", 20),
        text("websiteurl", 200),
        attr("description", K::Memo, Some(2000), None),
        attr("statecode", K::State, None, None),
        attr("statuscode", K::Status, None, None),
        attr("industrycode", K::Picklist, None, None),
        attr("donotemail", K::Boolean, None, None),
        attr("primarycontactid", K::Lookup, None, None),
        attr("parentaccountid", K::Lookup, None, None),
        attr("ownerid", K::Owner, None, None),
        attr("revenue", K::Money, None, Some(2)),
        attr("revenue_base", K::Money, None, Some(4)),
        attr("numberofemployees", K::Integer, None, None),
        attr("createdon", K::DateTime, None, None),
        attr("modifiedon", K::DateTime, None, None),
        attr("exchangerate", K::Decimal, None, Some(10)),
        attr("versionnumber", K::BigInt, None, None),
    ];
    EntityMetadata {
        logical_name: "account".into(),
        schema_name: "Account".into(),
        entity_set_name: "accounts".into(),
        primary_id_attribute: "accountid".into(),
        primary_name_attribute: Some("name".into()),
        display_name: None,
        object_type_code: Some(1),
        metadata_id: "account".into(),
        change_tracking_enabled: true,
        is_intersect: false,
        attributes,
    }
}

fn value(attr: &AttributeMetadata, id: Uuid, n: i64) -> Value {
    let now = OffsetDateTime::now_utc();
    match attr.kind {
        K::Uniqueidentifier => Value::Guid(id),
        K::String if attr.max_length < Some(40) => Value::Text(format!("{n}")),
        K::String | K::Memo => Value::Text(format!("{} {n}", attr.logical_name)),
        K::State | K::Status | K::Picklist | K::Integer => Value::Int(n % 7),
        K::Boolean => Value::Bool(n % 2 == 0),
        K::Lookup | K::Owner => Value::Lookup {
            id: Uuid::from_u128(n as u128 % 100),
            target: Some("contact".into()),
        },
        K::Money | K::Decimal => Value::Decimal(format!("{n}.{:02}", n % 100)),
        K::DateTime => Value::DateTime(now),
        _ => Value::Int(n),
    }
}

fn batch(entity: &EntityMetadata, seq: u64, first: i64) -> Batch {
    let changes = (first..first + BATCH as i64)
        .map(|n| {
            let id = Uuid::from_u128(n as u128 + 1);
            let values = entity.attributes.iter().map(|a| value(a, id, n)).collect();
            Change::Upsert(Row {
                id,
                version: n,
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
        kind: BatchKind::Initial,
        columns: entity
            .attributes
            .iter()
            .map(|a| a.logical_name.clone())
            .collect(),
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

/// User and system CPU seconds of `/proc/<path>/stat` (Linux), to see the cost apart from
/// other load on the machine.
fn cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{path}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds of the main thread, which encodes (the async main task runs on it); every
/// other thread's time is the writer's, which moves between blocking-pool threads.
fn main_thread_cpu() -> f64 {
    cpu_seconds(&format!("self/task/{}", std::process::id()))
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SqliteSink::open(&SqliteConfig::new(dir.path().join("bench.db"))).expect("opens");
    let entity = account();
    let naming = Naming {
        schema: "dbo".into(),
        prefix: "bench".into(),
        write_delete_log: true,
    };
    let plan = plan(&naming, std::slice::from_ref(&entity), &[], &[]);
    let table = plan.table_for("account").expect("planned");
    sink.apply_schema(&plan).await.expect("schema");
    // Built on another thread so a profile of this one shows only the sink's work.
    let source = entity.clone();
    let generate = move || {
        (0..rows / BATCH)
            .map(|i| batch(&source, i as u64 + 1, (i * BATCH) as i64))
            .collect()
    };
    let builder = std::thread::Builder::new().name("generate".into());
    let batches: Vec<Batch> = builder
        .spawn(generate)
        .expect("thread starts")
        .join()
        .expect("batches built");
    let (start, cpu_start, main_start) = (Instant::now(), cpu_seconds("self"), main_thread_cpu());
    for b in &batches {
        let outcome = sink.apply_batch(&plan, table, b).await.expect("applies");
        let BatchOutcome::Applied { failures, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            failures.is_empty(),
            "{} failures, first: {:?}",
            failures.len(),
            failures.first()
        );
    }
    let (secs, cpu) = (
        start.elapsed().as_secs_f64(),
        cpu_seconds("self") - cpu_start,
    );
    let encoder = main_thread_cpu() - main_start;
    // Encoding and writing overlap, so on two free cores the busier of the two bounds the rate.
    let busiest = encoder.max(cpu - encoder);
    let written = (batches.len() * BATCH) as f64;
    let columns = table.columns.len();
    eprintln!(
        "{written} rows x {columns} columns in {secs:.2}s: {:.0} rows/s wall, {:.0} rows per CPU \
         second, {:.0} rows/s bound by the busier of encoder and writer",
        written / secs,
        written / cpu,
        written / busiest
    );
}
