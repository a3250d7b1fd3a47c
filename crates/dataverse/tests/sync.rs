//! Change-tracked reads: initial sync over several pages, deltas, resume, expiry.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dataverse::CachedToken;
use des_core::ports::{NextLink, PageRequest, Source, SourceError};
use des_core::{Change, Row, Value};
use serde_json::{Map, json};
use uuid::Uuid;

use crate::support::{client, config, credentials, env, names, read_to_end};

const COLUMNS: &[&str] = &[
    "name",
    "revenue",
    "numberofemployees",
    "creditonhold",
    "new_rating",
    "new_foundedon",
    "primarycontactid",
    "ownerid",
    "statuscode",
    "new_tags",
    "modifiedon",
];

fn start(select: &[String]) -> PageRequest {
    PageRequest::Start {
        entity_set: "accounts".to_owned(),
        select: select.to_vec(),
    }
}

fn source_ids(env: &crate::support::Env) -> HashSet<Uuid> {
    env.emulator
        .control()
        .rows("account")
        .iter()
        .map(|r| {
            r["accountid"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .expect("id")
        })
        .collect()
}

/// Applies changes in order, as a sink would.
fn apply(table: &mut HashMap<Uuid, Row>, changes: &[Change]) {
    for change in changes {
        match change {
            Change::Upsert(row) => {
                table.insert(row.id, row.clone());
            }
            Change::Delete(id) => {
                table.remove(id);
            }
        }
    }
}

async fn initial(
    env: &crate::support::Env,
    select: &[String],
) -> (HashMap<Uuid, Row>, String, usize) {
    let (pages, delta) = read_to_end(&env.client, start(select), select).await;
    let mut table = HashMap::new();
    for page in &pages {
        apply(&mut table, &page.changes);
    }
    (table, delta, pages.len())
}

fn fields(value: serde_json::Value) -> Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[tokio::test]
async fn initial_sync_reads_every_row_across_pages_and_ends_with_a_delta_link() {
    let env = env(50, 7).await;
    let select = names(COLUMNS);
    let (pages, delta) = read_to_end(&env.client, start(&select), &select).await;
    let expected = source_ids(&env);
    assert!(
        expected.len() >= 50,
        "sample has {} accounts",
        expected.len()
    );
    assert_eq!(pages.len(), expected.len().div_ceil(7), "pages of 7");
    let (last, rest) = pages.split_last().expect("pages");
    assert!(
        rest.iter()
            .all(|p| matches!(p.next, NextLink::More(_)) && p.changes.len() == 7)
    );
    assert!(!last.changes.is_empty() && matches!(last.next, NextLink::Done(_)));
    assert!(delta.contains("$deltatoken="), "{delta}");
    let ids: Vec<Uuid> = pages
        .iter()
        .flat_map(|p| p.changes.iter().map(Change::id))
        .collect();
    assert_eq!(ids.len(), expected.len(), "no duplicates across pages");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected);
}

#[tokio::test]
async fn row_values_follow_select_order_and_match_the_source() {
    let env = env(20, 100).await;
    let select = names(COLUMNS);
    let (table, _, _) = initial(&env, &select).await;
    for source in env.emulator.control().rows("account") {
        let id = Uuid::parse_str(source["accountid"].as_str().expect("id")).expect("uuid");
        let row = &table[&id];
        assert!(row.version > 0);
        assert_eq!(row.values.len(), COLUMNS.len());
        assert_eq!(
            row.values[0],
            Value::Text(source["name"].as_str().expect("name").to_owned())
        );
        match (&row.values[1], source["revenue"].as_f64()) {
            (Value::Decimal(text), Some(number)) => {
                assert_eq!(text.parse::<f64>().ok(), Some(number))
            }
            (Value::Null, None) => {}
            other => panic!("revenue: {other:?}"),
        }
        assert!(matches!(row.values[2], Value::Int(_) | Value::Null));
        assert!(matches!(row.values[3], Value::Bool(_) | Value::Null));
        assert!(matches!(row.values[4], Value::Float(_) | Value::Null));
        assert!(
            matches!(row.values[5], Value::Date(_) | Value::Null),
            "DateOnly reads as a date"
        );
        match (&row.values[6], source["_primarycontactid_value"].as_str()) {
            (Value::Lookup { id, target }, Some(expected)) => {
                assert_eq!(id.to_string(), expected);
                assert_eq!(target.as_deref(), Some("contact"));
            }
            (Value::Null, None) => {}
            other => panic!("primarycontactid: {other:?}"),
        }
        let Value::Lookup {
            target: Some(owner_kind),
            ..
        } = &row.values[7]
        else {
            panic!("owner lookup with target: {:?}", row.values[7]);
        };
        assert!(owner_kind == "systemuser" || owner_kind == "team");
        assert!(matches!(row.values[8], Value::Int(_)));
        assert!(
            matches!(row.values[9], Value::Text(_) | Value::Null),
            "multi-select is text"
        );
        assert!(matches!(row.values[10], Value::DateTime(_)));
    }
}

#[tokio::test]
async fn delta_brings_updates_and_deletes_then_recreates() {
    let env = env(20, 100).await;
    let select = names(&["name"]);
    let (mut table, delta, _) = initial(&env, &select).await;
    let control = env.emulator.control();
    let ids: Vec<Uuid> = table.keys().copied().collect();
    let (updated, deleted) = (ids[0], ids[1]);
    let old_version = table[&updated].version;
    control
        .update("account", updated, fields(json!({"name": "Renamed"})))
        .expect("update");
    control.delete("account", deleted).expect("delete");
    let created = control
        .create("account", fields(json!({"name": "Brand new"})))
        .expect("create");

    let (pages, delta) =
        read_to_end(&env.client, PageRequest::Follow { link: delta }, &select).await;
    let changes: Vec<Change> = pages.into_iter().flat_map(|p| p.changes).collect();
    let upserted = |id: Uuid| {
        changes.iter().find_map(|c| match c {
            Change::Upsert(row) if row.id == id => Some(row.clone()),
            _ => None,
        })
    };
    let renamed = upserted(updated).expect("update in delta");
    assert_eq!(renamed.values, vec![Value::Text("Renamed".to_owned())]);
    assert!(renamed.version > old_version, "versions grow");
    assert!(upserted(created).is_some(), "create in delta");
    assert!(
        changes.contains(&Change::Delete(deleted)),
        "delete in delta"
    );
    let first_delete = changes.iter().position(|c| matches!(c, Change::Delete(_)));
    let last_upsert = changes.iter().rposition(|c| matches!(c, Change::Upsert(_)));
    assert!(first_delete > last_upsert, "upserts come before deletes");
    apply(&mut table, &changes);
    assert_eq!(
        table.keys().copied().collect::<HashSet<_>>(),
        source_ids(&env)
    );

    let recreate = fields(json!({"accountid": deleted.to_string(), "name": "Back again"}));
    control
        .create("account", recreate)
        .expect("re-create with the same id");
    let (pages, _) = read_to_end(&env.client, PageRequest::Follow { link: delta }, &select).await;
    let changes: Vec<Change> = pages.into_iter().flat_map(|p| p.changes).collect();
    assert!(
        changes
            .iter()
            .any(|c| matches!(c, Change::Upsert(r) if r.id == deleted)),
        "re-create is an upsert"
    );
    apply(&mut table, &changes);
    assert_eq!(
        table.keys().copied().collect::<HashSet<_>>(),
        source_ids(&env)
    );
}

#[tokio::test]
async fn quiet_delta_returns_no_changes_and_a_link() {
    let env = env(10, 100).await;
    let select = names(&["name"]);
    let (_, delta, _) = initial(&env, &select).await;
    let page = env
        .client
        .read_page(&PageRequest::Follow { link: delta }, &select)
        .await
        .expect("page");
    assert!(page.changes.is_empty());
    let NextLink::Done(link) = page.next else {
        panic!("a quiet delta ends with a delta link")
    };
    assert!(link.contains("$deltatoken="));
}

#[tokio::test]
async fn a_saved_next_link_resumes_in_a_new_client() {
    let env = env(30, 8).await;
    let select = names(&["name", "revenue"]);
    let first = env
        .client
        .read_page(&start(&select), &select)
        .await
        .expect("page 1");
    let NextLink::More(link) = first.next.clone() else {
        panic!("more pages expected")
    };
    // A restarted process: new client, new token cache, nothing but the saved link.
    let tokens = Arc::new(CachedToken::new(credentials(&env.emulator)));
    let restarted = client(config(&env.emulator, 8), tokens);
    let (rest, _) = read_to_end(&restarted, PageRequest::Follow { link }, &select).await;
    let mut ids: Vec<Uuid> = first.changes.iter().map(Change::id).collect();
    ids.extend(rest.iter().flat_map(|p| p.changes.iter().map(Change::id)));
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no row read twice");
    assert_eq!(unique, source_ids(&env));
}

#[tokio::test]
async fn expired_change_token_asks_for_a_resync() {
    let env = env(10, 100).await;
    let select = names(&["name"]);
    let (_, delta, _) = initial(&env, &select).await;
    env.emulator.control().expire_change_tokens();
    match env
        .client
        .read_page(&PageRequest::Follow { link: delta }, &select)
        .await
    {
        Err(SourceError::ExpiredToken { message }) => assert!(!message.is_empty()),
        other => panic!("expected an expired token, got {other:?}"),
    }
}

#[tokio::test]
async fn read_with_caller_metadata_needs_no_cache() {
    let env = env(10, 100).await;
    let metadata = env
        .client
        .entity_metadata("new_project")
        .await
        .expect("metadata");
    let select: Vec<String> = metadata
        .readable_attributes()
        .map(|a| a.logical_name.clone())
        .collect();
    let fresh = client(
        config(&env.emulator, 100),
        Arc::new(CachedToken::new(credentials(&env.emulator))),
    );
    let request = PageRequest::Start {
        entity_set: "new_projects".to_owned(),
        select: select.clone(),
    };
    let page = fresh
        .read_page_with(&metadata, &request, &select)
        .await
        .expect("page");
    let rows = env.emulator.control().rows("new_project").len();
    assert_eq!(page.changes.len(), rows);
    assert!(matches!(page.next, NextLink::Done(_)));
    let Change::Upsert(row) = &page.changes[0] else {
        panic!("upsert")
    };
    assert_eq!(
        row.values.len(),
        select.len(),
        "every readable column has a value"
    );
}

#[tokio::test]
async fn intersect_entity_reads_like_any_other() {
    let env = env(10, 100).await;
    let select = names(&["new_projectid", "contactid"]);
    let request = PageRequest::Start {
        entity_set: "new_project_contactset".to_owned(),
        select: select.clone(),
    };
    let (pages, _) = read_to_end(&env.client, request, &select).await;
    let rows = pages.iter().map(|p| p.changes.len()).sum::<usize>();
    assert_eq!(
        rows,
        env.emulator.control().rows("new_project_contact").len()
    );
    assert!(rows > 0, "the sample links some projects and contacts");
}
