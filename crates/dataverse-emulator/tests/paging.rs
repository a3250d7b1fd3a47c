//! Plain paging: nextLink/skiptoken, $count, $top, $filter and single reads.

use crate::support::{env, env_with};
use dataverse_emulator::EmulatorConfig;
use std::collections::HashSet;

#[tokio::test]
async fn paging_returns_every_row_once() {
    let env = env_with(EmulatorConfig {
        records: 23,
        ..EmulatorConfig::default()
    })
    .await;
    let pages = env
        .pages("accounts?$select=name,revenue", "odata.maxpagesize=5")
        .await;
    assert_eq!(pages.len(), 5);
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p["value"].as_array().cloned().unwrap_or_default())
        .map(|r| r["accountid"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(ids.len(), 23);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 23);
    assert_eq!(env.emu.control().rows("account").len(), 23);
    let link = pages[0]["@odata.nextLink"].as_str().expect("link");
    assert!(
        link.contains("$select=name,revenue&$skiptoken=%3Ccookie%20pagenumber=%222%22"),
        "{link}"
    );
    assert!(link.contains("istracking=%22False%22"), "{link}");
}

#[tokio::test]
async fn count_plain_text_and_annotation() {
    let env = env().await;
    let r = env.get("contacts/$count").await;
    assert_eq!(r.text, "20");
    let r = env
        .get("contacts?$select=fullname&$count=true&$top=2")
        .await;
    assert_eq!(r.body["@odata.count"], 20);
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(2));
    assert!(r.body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn single_row_and_filter() {
    let env = env().await;
    let first = env
        .get("contacts?$select=fullname,emailaddress1&$top=1")
        .await
        .body["value"][0]
        .clone();
    let id = first["contactid"].as_str().expect("id");
    let one = env.get(&format!("contacts({id})?$select=fullname")).await;
    assert_eq!(one.body["fullname"], first["fullname"]);
    let filtered = env
        .get(&format!(
            "contacts?$select=fullname&$filter=emailaddress1 eq '{}'",
            first["emailaddress1"].as_str().expect("email")
        ))
        .await;
    assert_eq!(filtered.body["value"].as_array().map(Vec::len), Some(1));
    let missing = env
        .get("contacts(00000000-0000-0000-0000-000000000009)")
        .await;
    assert_eq!(missing.status, 404);
    let bad = env.get("contacts?$select=nosuchcolumn").await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn wire_types_for_every_kind() {
    let env = env().await;
    let r = env.get("accounts?$top=3").await;
    let row = &r.body["value"][0];
    for k in [
        "_ownerid_value",
        "_transactioncurrencyid_value",
        "revenue_base",
        "new_tags",
        "entityimage_url",
        "versionnumber",
        "statecode",
        "creditonhold",
        "new_rating",
    ] {
        assert!(row.get(k).is_some(), "{k} present");
    }
    assert!(
        row.get("owneridtype").is_none(),
        "non-OData columns stay hidden"
    );
    assert_eq!(
        row["versionnumber"].as_i64().map(|v| format!("W/\"{v}\"")),
        row["@odata.etag"].as_str().map(str::to_owned)
    );
    assert!(
        row["new_foundedon"].as_str().is_some_and(|d| d.len() == 10),
        "DateOnly"
    );
    assert!(
        r.text.contains("\"exchangerate\":1.0000000000"),
        "decimal precision 10"
    );
}
