//! A lookup's name and type columns read from the emulator over HTTP: the client asks for
//! the annotations, the emulator serves them as the service does, and each row carries the
//! referenced row's primary name and table beside the lookup.

use std::collections::HashMap;

use des_core::ports::PageRequest;
use des_core::{Change, Value};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::support::{env, names, read_to_end};

const COLUMNS: &[&str] = &[
    "name",
    "ownerid",
    "owneridname",
    "owneridyominame",
    "owneridtype",
    "createdby",
    "createdbyname",
];

fn id(row: &Map<String, Json>, key: &str) -> Uuid {
    row[key].as_str().and_then(|s| s.parse().ok()).expect(key)
}

/// `id → (primary name, table)` of every user and team of the emulated organisation.
fn principals(env: &crate::support::Env) -> HashMap<Uuid, (String, &'static str)> {
    let control = env.emulator.control();
    let mut names = HashMap::new();
    for (table, key, name) in [
        ("systemuser", "systemuserid", "fullname"),
        ("team", "teamid", "name"),
    ] {
        for row in control.rows(table) {
            let text = row[name].as_str().unwrap_or_default().to_owned();
            names.insert(id(&row, key), (text, table));
        }
    }
    names
}

#[tokio::test]
async fn owner_and_creator_names_and_the_owner_type_come_with_each_row() {
    let env = env(30, 10).await;
    let select = names(COLUMNS);
    let start = PageRequest::Start {
        entity_set: "accounts".to_owned(),
        select: select.clone(),
    };
    let (pages, _) = read_to_end(&env.client, start, &select).await;
    let rows: HashMap<Uuid, Vec<Value>> = pages
        .iter()
        .flat_map(|p| &p.changes)
        .filter_map(|c| match c {
            Change::Upsert(row) => Some((row.id, row.values.clone())),
            Change::Delete(_) => None,
        })
        .collect();
    let principals = principals(&env);
    let source = env.emulator.control().rows("account");
    assert!(source.len() >= 30, "{} accounts", source.len());
    for account in &source {
        let values = &rows[&id(account, "accountid")];
        let (owner, table) = &principals[&id(account, "_ownerid_value")];
        let (creator, _) = &principals[&id(account, "_createdby_value")];
        assert_eq!(values[2], Value::Text(owner.clone()), "owneridname");
        assert_eq!(values[3], Value::Null, "no annotation carries a yomi name");
        assert_eq!(values[4], Value::Text((*table).to_owned()), "owneridtype");
        assert_eq!(values[6], Value::Text(creator.clone()), "createdbyname");
    }
}

/// The name and type columns' metadata is discovered over HTTP like any column's (their
/// lengths through the `StringAttributeMetadata` cast), so the planned table types them as
/// Dataverse does.
#[tokio::test]
async fn planned_name_and_type_columns_take_their_types_from_discovered_metadata() {
    use des_core::ports::Source;
    use des_core::schema::{Naming, SqlType, plan_entity_table};
    let env = env(5, 10).await;
    let naming = Naming {
        schema: "dbo".into(),
        prefix: String::new(),
        write_delete_log: false,
    };
    let text = |n| SqlType::Text { max_len: n };
    let cases = [
        ("account", "owneridname", text(Some(100))),
        ("account", "owneridyominame", text(Some(100))),
        ("account", "owneridtype", text(Some(4000))),
        ("account", "createdbyname", text(Some(100))),
        ("contact", "parentcustomeridname", text(Some(160))),
        ("contact", "parentcustomeridyominame", text(Some(450))),
        ("contact", "parentcustomeridtype", text(Some(4000))),
    ];
    for (entity, column, expected) in cases {
        let metadata = env.client.entity_metadata(entity).await.expect("metadata");
        let table = plan_entity_table(&naming, &metadata);
        let planned = table.column(column).map(|c| c.ty);
        assert_eq!(planned, Some(expected), "{entity}.{column}");
    }
}
