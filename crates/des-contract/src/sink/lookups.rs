//! A lookup's name, yomi-name and type columns (`owneridname`, `owneridyominame`,
//! `owneridtype`): exported beside the lookup and its `_entitytype` as DES did, written from
//! the cells the source fills from the lookup's annotations, and read back as written. A
//! batch read before the columns existed (a payload still queued from an older plan) applies
//! and leaves them null until the next change brings them.

use des_core::metadata::{AttributeKind as K, AttributeMetadata};
use des_core::ports::{BatchOutcome, Sink};
use des_core::schema::{ColumnSource, Naming, SchemaPlan, plan};
use des_core::{Batch, BatchKind, Change, Row, StreamId, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Inspect, attr, parse_id};

const TABLE: &str = "des_account";

/// A column Dataverse keeps beside `lookup`: `AttributeOf` set, no Web API property.
fn part_of(name: &str, kind: K, lookup: &str, max_length: Option<i32>) -> AttributeMetadata {
    AttributeMetadata {
        attribute_of: Some(lookup.into()),
        is_valid_odata: false,
        max_length,
        ..attr(name, kind)
    }
}

/// An account with an owner and the owner's name, yomi-name and type columns.
pub fn owner_plan() -> SchemaPlan {
    let attributes = vec![
        attr("accountid", K::Uniqueidentifier),
        AttributeMetadata {
            max_length: Some(160),
            ..attr("name", K::String)
        },
        AttributeMetadata {
            targets: vec!["systemuser".into(), "team".into()],
            ..attr("ownerid", K::Owner)
        },
        part_of("owneridname", K::String, "ownerid", Some(100)),
        part_of("owneridyominame", K::String, "ownerid", Some(100)),
        part_of("owneridtype", K::EntityName, "ownerid", None),
        attr("versionnumber", K::BigInt),
    ];
    let account = super::account_entity(attributes);
    let naming = Naming {
        schema: "dbo".into(),
        prefix: "des".into(),
        write_delete_log: false,
    };
    plan(&naming, &[account], &[], &[])
}

/// The batch columns a source reads for `plan`, as the engine derives them.
fn read_columns(plan: &SchemaPlan) -> Vec<String> {
    let table = plan.table_for("account").expect("planned");
    table
        .columns
        .iter()
        .filter_map(|c| match &c.source {
            ColumnSource::Attribute(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

fn owned(n: u128, version: i64, owner: (&str, &str), columns: &[String]) -> Change {
    let (name, table) = owner;
    let values = columns
        .iter()
        .map(|c| match c.as_str() {
            "name" => Value::Text(format!("Account {n}")),
            "ownerid" => Value::Lookup {
                id: Uuid::from_u128(0x0E + n),
                target: Some(table.into()),
            },
            "owneridname" => Value::Text(name.into()),
            "owneridtype" => Value::Text(table.into()),
            "versionnumber" => Value::Int(version),
            _ => Value::Null,
        })
        .collect();
    Change::Upsert(Row {
        id: Uuid::from_u128(n),
        version,
        values,
    })
}

fn batch(seq: u64, columns: &[String], changes: Vec<Change>) -> Batch {
    Batch {
        stream: StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        },
        seq,
        kind: BatchKind::Delta,
        columns: columns.to_vec(),
        changes,
        read_at: OffsetDateTime::now_utc(),
    }
}

async fn apply<S: Sink>(sink: &S, plan: &SchemaPlan, batch: Batch) {
    let table = plan.table_for("account").expect("planned");
    match sink
        .apply_batch(plan, table, &batch)
        .await
        .expect("applies")
    {
        BatchOutcome::Applied { failures, .. } => assert!(failures.is_empty(), "{failures:?}"),
        other => panic!("batch {} not applied: {other:?}", batch.seq),
    }
}

/// `[ownerid_entitytype, owneridname, owneridyominame, owneridtype]` of account `n`.
async fn owner_columns<I: Inspect>(inspect: &I, n: u128) -> Vec<Option<String>> {
    let columns = [
        "Id",
        "ownerid_entitytype",
        "owneridname",
        "owneridyominame",
        "owneridtype",
    ];
    let rows = inspect.rows(TABLE, &columns).await;
    let row = rows
        .into_iter()
        .find(|r| parse_id(&r[0]) == Uuid::from_u128(n))
        .expect("the account is there");
    row[1..].to_vec()
}

pub async fn lookup_names_and_types_read_back<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = owner_plan();
    sink.apply_schema(&plan).await.expect("schema applies");
    let columns = read_columns(&plan);
    let old: Vec<String> = ["name", "ownerid", "versionnumber"]
        .map(String::from)
        .to_vec();
    apply(
        &sink,
        &plan,
        batch(1, &old, vec![owned(1, 1, ("-", "team"), &old)]),
    )
    .await;
    let s = |v: &str| Some(v.to_owned());
    let before = [s("team"), None, None, None];
    assert_eq!(owner_columns(&inspect, 1).await, before, "an old payload");
    let changes = vec![
        owned(1, 2, ("Sales Team", "team"), &columns),
        owned(2, 3, ("Nancy O'Brien – 東京", "systemuser"), &columns),
    ];
    apply(&sink, &plan, batch(2, &columns, changes)).await;
    let team = [s("team"), s("Sales Team"), None, s("team")];
    assert_eq!(owner_columns(&inspect, 1).await, team);
    let user = [
        s("systemuser"),
        s("Nancy O'Brien – 東京"),
        None,
        s("systemuser"),
    ];
    assert_eq!(owner_columns(&inspect, 2).await, user);
}
