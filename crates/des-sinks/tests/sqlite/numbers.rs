//! Decimal and money columns in SQLite are numbers: comparisons, `ORDER BY`, `SUM` and `AVG`
//! work as a SQLite user expects, and values a float cannot hold keep their exact text.

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::target::fresh;

const COLUMNS: [&str; 3] = ["name", "revenue", "versionnumber"];

fn batch(revenues: &[&str]) -> Batch {
    let changes = revenues
        .iter()
        .enumerate()
        .map(|(i, revenue)| {
            Change::Upsert(Row {
                id: Uuid::from_u128(i as u128 + 1),
                version: 1,
                values: vec![
                    Value::Text(format!("account {i}")),
                    Value::Decimal((*revenue).into()),
                    Value::Int(1),
                ],
            })
        })
        .collect();
    Batch {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        seq: 1,
        kind: BatchKind::Initial,
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

/// Writes `revenues` through the sink and answers `sql` over a reader's connection.
async fn query(revenues: &[&str], sql: &str) -> Vec<Vec<Option<String>>> {
    let (sink, file) = fresh();
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    let table = plan.table_for("account").expect("planned");
    let outcome = sink.apply_batch(&plan, table, &batch(revenues)).await;
    match outcome.expect("applies") {
        BatchOutcome::Applied { applied, failures } => {
            assert_eq!((applied, failures.len()), (revenues.len(), 0));
        }
        other => panic!("batch 1 not applied: {other:?}"),
    }
    file.read_sql(sql)
}

fn texts(rows: Vec<Vec<Option<String>>>) -> Vec<String> {
    rows.into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
}

/// The figures: text comparison found 1 of the 4 larger values and sorted
/// `10895804` before `2159933`.
const REVENUES: [&str; 6] = [
    "10895804",
    "2159933",
    "3000000.01",
    "4500000.5",
    "25000000",
    "999999.99",
];

#[tokio::test]
async fn comparisons_and_order_by_are_numeric() {
    let larger = query(
        &REVENUES,
        "SELECT \"revenue\" FROM \"des_account\" WHERE \"revenue\" > 3000000 ORDER BY \"revenue\"",
    )
    .await;
    assert_eq!(
        texts(larger),
        ["3000000.01", "4500000.5", "10895804", "25000000"]
    );
    let ordered = query(
        &REVENUES,
        "SELECT \"revenue\" FROM \"des_account\" ORDER BY \"revenue\" DESC LIMIT 2",
    )
    .await;
    assert_eq!(texts(ordered), ["25000000", "10895804"]);
}

#[tokio::test]
async fn sum_and_avg_add_numbers() {
    let rows = query(
        &["1000.25", "-250.25", "0.01", "9999999999999.99"],
        "SELECT printf('%.2f', SUM(\"revenue\")), printf('%.2f', AVG(\"revenue\")), \
         typeof(SUM(\"revenue\")) FROM \"des_account\"",
    )
    .await;
    assert_eq!(
        rows[0],
        [
            Some("10000000000750.00".into()),
            Some("2500000000187.50".into()),
            Some("real".into())
        ]
    );
}

#[tokio::test]
async fn values_a_float_cannot_hold_keep_their_exact_text() {
    let huge = format!("{}.99", "9".repeat(36)); // decimal(38,2)'s largest value
    let negative = "-12345678901234567.89";
    let small = "0.01";
    let rows = query(
        &[&huge, negative, small],
        "SELECT COALESCE(\"revenue_exact\", \"revenue\"), typeof(\"revenue\") IN ('integer', 'real'), \
         \"revenue_exact\" IS NULL FROM \"des_account\" ORDER BY \"revenue\"",
    )
    .await;
    let as_strings = |r: &Vec<Option<String>>| -> Vec<String> {
        r.iter().map(|c| c.clone().unwrap_or_default()).collect()
    };
    let rows: Vec<Vec<String>> = rows.iter().map(as_strings).collect();
    assert_eq!(
        rows[0],
        [negative, "1", "0"],
        "a number, exact text kept beside"
    );
    assert_eq!(rows[1], [small, "1", "1"], "a float holds 0.01: no copy");
    assert_eq!(rows[2], [huge.as_str(), "1", "0"], "38 digits, exactly");
}
