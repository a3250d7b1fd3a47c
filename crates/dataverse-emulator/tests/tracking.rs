//! Change tracking: initial reads, delta links, paging during changes and token expiry.

use crate::support::{Env, env, env_with};
use dataverse_emulator::EmulatorConfig;
use serde_json::{Map, Value, json};
use std::time::Duration;
use uuid::Uuid;

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

fn id_of(row: &Value, key: &str) -> Uuid {
    row[key].as_str().expect("id").parse().expect("uuid")
}

/// Reads all pages of a tracked read; returns the rows and the delta link.
async fn tracked(env: &Env, path: &str, page: usize) -> (Vec<Value>, String) {
    let pages = env
        .pages(
            path,
            &format!("odata.track-changes,odata.maxpagesize={page}"),
        )
        .await;
    let link = pages
        .last()
        .and_then(|p| p["@odata.deltaLink"].as_str())
        .expect("delta link on the last page")
        .to_owned();
    assert!(
        pages[..pages.len() - 1]
            .iter()
            .all(|p| p.get("@odata.deltaLink").is_none()),
        "only the last page has a delta link"
    );
    (
        pages
            .iter()
            .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
            .collect(),
        link,
    )
}

#[tokio::test]
async fn delta_returns_updates_deletes_and_recreates() {
    let env = env().await;
    let c = env.emu.control();
    let (rows, link) = tracked(&env, "accounts?$select=name", 50).await;
    let (a, b, r) = (
        id_of(&rows[0], "accountid"),
        id_of(&rows[1], "accountid"),
        id_of(&rows[2], "accountid"),
    );
    c.update("account", a, fields(json!({"name": "Updated"})))
        .expect("update");
    c.delete("account", b).expect("delete b");
    c.delete("account", r).expect("delete r");
    c.create(
        "account",
        fields(json!({"accountid": r.to_string(), "name": "Re-created"})),
    )
    .expect("re-create");
    let new = c
        .create("account", fields(json!({"name": "New"})))
        .expect("create");
    let d = env.get(&link).await;
    let value = d.body["value"].as_array().expect("value").clone();
    let upserts: Vec<Uuid> = value
        .iter()
        .filter(|v| v.get("accountid").is_some())
        .map(|v| id_of(v, "accountid"))
        .collect();
    assert_eq!(upserts, [a, r, new], "upserts by version");
    let deleted: Vec<&Value> = value.iter().filter(|v| v.get("reason").is_some()).collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["id"], b.to_string());
    assert!(
        value.last().and_then(|v| v.get("reason")).is_some(),
        "deletions come last"
    );
    assert!(
        d.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("/$delta"))
    );
    let again = env
        .get(d.body["@odata.deltaLink"].as_str().expect("next delta"))
        .await;
    assert_eq!(again.body["value"], json!([]));
    assert!(again.body["@odata.deltaLink"].is_string());
}

#[tokio::test]
async fn changes_during_paging_reappear_in_first_delta() {
    let env = env().await;
    let c = env.emu.control();
    let prefer = "odata.track-changes,odata.maxpagesize=5";
    let first = env.get_prefer("contacts?$select=fullname", prefer).await;
    let seen = id_of(&first.body["value"][0], "contactid");
    let all = c.rows("contact");
    let unseen: Uuid = all[15]["contactid"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    c.update(
        "contact",
        seen,
        fields(json!({"fullname": "Changed after its page"})),
    )
    .expect("update seen");
    c.update(
        "contact",
        unseen,
        fields(json!({"fullname": "Changed before its page"})),
    )
    .expect("update unseen");
    let created = c
        .create(
            "contact",
            fields(json!({"fullname": "Created while paging"})),
        )
        .expect("create");
    let mut link = first.body["@odata.nextLink"].as_str().map(str::to_owned);
    let mut delta_link = None;
    while let Some(url) = link {
        let p = env.get_prefer(&url, prefer).await;
        assert!(
            p.text.contains("istracking=%22True%22") || p.body.get("@odata.nextLink").is_none()
        );
        link = p.body["@odata.nextLink"].as_str().map(str::to_owned);
        delta_link = p.body["@odata.deltaLink"].as_str().map(str::to_owned);
    }
    let d = env.get(&delta_link.expect("delta link")).await;
    let ids: Vec<Uuid> = d.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|v| id_of(v, "contactid"))
        .collect();
    for id in [seen, unseen, created] {
        assert!(ids.contains(&id), "{id} comes again in the first delta");
    }
}

#[tokio::test]
async fn delta_pages_with_next_link() {
    let env = env().await;
    let c = env.emu.control();
    let (rows, link) = tracked(&env, "leads?$select=subject", 5000).await;
    for row in &rows[..9] {
        c.update(
            "lead",
            id_of(row, "leadid"),
            fields(json!({"subject": "again"})),
        )
        .expect("update");
    }
    for row in &rows[9..12] {
        c.delete("lead", id_of(row, "leadid")).expect("delete");
    }
    let pages = env.pages(&link, "odata.maxpagesize=5").await;
    assert_eq!(pages.len(), 3);
    let entries: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(entries.len(), 12);
    assert!(entries[..9].iter().all(|e| e.get("leadid").is_some()));
    assert!(entries[9..].iter().all(|e| e["reason"] == "deleted"));
    assert!(pages[2]["@odata.deltaLink"].is_string());
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let env = env().await;
    let (_, link) = tracked(&env, "accounts?$select=name", 5000).await;
    assert_eq!(env.get(&link).await.status, 200);
    env.emu.control().expire_change_tokens();
    let r = env.get(&link).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "0x80044352");
    let (_, fresh) = tracked(&env, "accounts?$select=name", 5000).await;
    assert_eq!(
        env.get(&fresh).await.status,
        200,
        "tokens issued after expiry work"
    );
}

#[tokio::test]
async fn tokens_older_than_retention_expire() {
    let config = EmulatorConfig {
        records: 5,
        change_token_retention: Some(Duration::from_secs(3600)),
        ..EmulatorConfig::default()
    };
    let env = env_with(config).await;
    let r = env
        .get("accounts?$select=name&$deltatoken=1%2101%2f01%2f2020%2000%3a00%3a00")
        .await;
    assert_eq!(r.body["error"]["code"], "0x80044352");
}

#[tokio::test]
async fn tracking_rejects_unsupported_options() {
    let env = env().await;
    for (query, option) in [
        ("$filter=name eq 'x'", "filter"),
        ("$orderby=name", "orderby"),
        ("$expand=primarycontactid", "expand"),
        ("$top=2", "top"),
    ] {
        let r = env
            .get_prefer(
                &format!("accounts?$select=name&{query}"),
                "odata.track-changes",
            )
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(
            r.body["error"]["message"],
            format!(
                "The \"${option}\" query parameter isn't supported when Change Tracking is enabled."
            )
        );
    }
    let r = env
        .get_prefer("new_auditnotes?$select=new_name", "odata.track-changes")
        .await;
    assert_eq!(r.status, 400, "untracked table");
}

#[tokio::test]
async fn intersect_table_tracks_associations() {
    let env = env().await;
    let c = env.emu.control();
    let (rows, link) = tracked(&env, "new_project_contactset", 5000).await;
    assert_eq!(rows.len(), 20);
    assert!(rows[0]["new_projectid"].is_string() && rows[0]["contactid"].is_string());
    let project = c.rows("new_project")[3]["new_projectid"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let contact = c
        .create("contact", fields(json!({"fullname": "Linked"})))
        .expect("contact");
    c.associate("new_project_contact", project, contact)
        .expect("associate");
    let d = env.get(&link).await;
    let value = d.body["value"].as_array().expect("value");
    assert_eq!(value.len(), 1);
    assert_eq!(value[0]["contactid"], contact.to_string());
}
