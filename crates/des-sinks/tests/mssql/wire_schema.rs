//! Schema changes, permission checks and every column type, against the loopback TDS
//! stand-in (see `wire.rs`).

use des_contract::sink::account_plan;
use des_core::ports::{BatchOutcome, Sink};
use des_core::{Change, Row, Value};
use uuid::Uuid;

use super::tds::{Request, StandIn};
use super::wire::{batch, sink, statements};

#[tokio::test]
async fn schema_apply_is_one_transaction_creating_tables_and_loading_metadata() {
    let stand_in = StandIn::start(0).await;
    let sink = sink(&stand_in).await;
    let plan = account_plan(160, 2, false);
    let before = stand_in.requests().len();
    sink.apply_schema(&plan).await.expect("applies");
    let requests = stand_in.requests()[before..].to_vec();
    assert_eq!(requests.first(), Some(&Request::Transaction));
    assert_eq!(requests.last(), Some(&Request::Transaction));
    let batches: Vec<&str> = requests
        .iter()
        .filter_map(|r| match r {
            Request::Batch(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        batches.contains(&"CREATE SCHEMA [dbo]"),
        "the stand-in has no schema"
    );
    let created = batches
        .iter()
        .filter(|t| t.starts_with("CREATE TABLE [dbo]."))
        .count();
    let planned = plan.tables.len() + plan.metadata.len() + 1;
    assert_eq!(created, planned, "every planned table, DeleteLog included");
    let filled = plan.metadata.iter().filter(|m| !m.rows.is_empty()).count();
    let bulk = requests.iter().filter(|r| **r == Request::BulkRows).count();
    assert_eq!(bulk, filled, "one bulk load per metadata table with rows");
}

#[tokio::test]
async fn permissions_are_reported_one_by_one() {
    let stand_in = StandIn::start(0).await;
    let sink = sink(&stand_in).await;
    let checks = sink
        .check_permissions(&account_plan(160, 2, false))
        .await
        .expect("checks");
    let names: Vec<&str> = checks.iter().map(|c| c.permission.as_str()).collect();
    assert_eq!(names.len(), 18, "{names:?}");
    assert_eq!(names[0], "CREATE TABLE");
    assert!(names.contains(&"ALTER ANY USER"));
    assert!(names.contains(&"REFERENCES ON SCHEMA"));
    assert!(names.contains(&"INSERT ON SCHEMA des_state"));
    assert!(checks.iter().all(|c| c.granted && c.detail.is_none()));
}

/// One value of every kind DES exported, for the realistic account.
fn every_kind() -> Vec<(&'static str, Value)> {
    let id = Uuid::from_u128(0xA1);
    let created = time::macros::datetime!(2024-03-01 12:34:56.789 UTC);
    vec![
        ("accountid", Value::Guid(id)),
        ("name", Value::Text("Contoso".into())),
        ("description", Value::Text("long text ".repeat(500))),
        ("exchangerate", Value::Decimal("1.0000000000".into())),
        ("address1_latitude", Value::Float(47.64)),
        ("numberofemployees", Value::Int(120)),
        ("createdon", Value::DateTime(created)),
        ("owneridtype", Value::Text("systemuser".into())),
        ("owneridname", Value::Text("Nancy Davolio".into())),
        ("donotemail", Value::Bool(true)),
        (
            "ownerid",
            Value::Lookup {
                id: Uuid::from_u128(0xB2),
                target: Some("systemuser".into()),
            },
        ),
        ("statecode", Value::Int(0)),
        ("revenue", Value::Decimal("20000.0000".into())),
        ("versionnumber", Value::Int(77)),
    ]
}

#[tokio::test]
async fn every_column_type_encodes_against_sql_server_metadata() {
    let stand_in = StandIn::start(0).await;
    let sink = sink(&stand_in).await;
    let plan = super::fixture::realistic_plan();
    let table = plan.table_for("account").expect("planned");
    let (columns, values): (Vec<&str>, Vec<Value>) = every_kind().into_iter().unzip();
    let mut b = batch(1, Vec::new());
    b.columns = columns.iter().map(|c| c.to_string()).collect();
    b.changes = vec![Change::Upsert(Row {
        id: Uuid::from_u128(0xA1),
        version: 77,
        values,
    })];
    let outcome = sink.apply_batch(&plan, table, &b).await.expect("applies");
    assert_eq!(
        outcome,
        BatchOutcome::Applied {
            applied: 1,
            failures: Vec::new()
        }
    );
    let stage = statements(&stand_in.requests())
        .into_iter()
        .find(|s| s.starts_with("INSERT BULK #DesStage"))
        .map(str::to_owned)
        .expect("the upsert was bulk-loaded");
    for declared in [
        "datetime",
        "bit",
        "decimal(38,10)",
        "decimal(38,5)",
        "nvarchar(max)",
    ] {
        assert!(stage.contains(declared), "{declared} in {stage}");
    }
}
