//! The read side outside change tracking: `$filter`, `$orderby`, `$top`, `$count=true` and
//! `$expand` of single-valued navigation properties, held against the rows themselves.

use crate::support::{Env, env_with};
use dataverse_emulator::EmulatorConfig;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

async fn fixture() -> Env {
    let env = env_with(EmulatorConfig {
        records: 40,
        ..EmulatorConfig::default()
    })
    .await;
    for (name, staff, revenue) in [
        ("Q Alpha", 10, 100.25),
        ("Q Beta", 20, 100.75),
        ("q gamma", 30, 5.0),
    ] {
        let fields = json!({"name": name, "numberofemployees": staff, "revenue": revenue});
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        env.emu
            .control()
            .create("account", fields)
            .expect("created");
    }
    env
}

/// The `name`s a filtered read returns, in the order served.
async fn names(env: &Env, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    for page in env.pages(query, "odata.maxpagesize=7").await {
        for row in page["value"].as_array().expect("rows") {
            out.push(row["name"].as_str().unwrap_or("").to_owned());
        }
    }
    out
}

#[tokio::test]
async fn filter_comparisons_and_logic_select_the_right_rows() {
    let env = fixture().await;
    let q = |f: &str| format!("accounts?$select=name&$filter={f}");
    let cases: &[(&str, &[&str])] = &[
        (
            "startswith(name,'q ') and numberofemployees ge 20",
            &["Q Beta", "q gamma"],
        ),
        ("contains(name,'LPHA')", &["Q Alpha"]),
        ("endswith(name,'beta')", &["Q Beta"]),
        ("name eq 'q alpha'", &["Q Alpha"]),
        (
            "startswith(name,'Q ') and not (numberofemployees lt 20)",
            &["Q Beta", "q gamma"],
        ),
        (
            "(numberofemployees eq 10 or numberofemployees eq 30) and startswith(name,'Q ')",
            &["Q Alpha", "q gamma"],
        ),
        (
            "startswith(name,'Q ') and numberofemployees ne 20 and numberofemployees le 10",
            &["Q Alpha"],
        ),
        ("startswith(name,'Q ') and revenue gt 100.5", &["Q Beta"]),
        (
            "startswith(name,'Q ') and telephone1 eq null and numberofemployees gt 25",
            &["q gamma"],
        ),
    ];
    for (filter, want) in cases {
        let mut got = names(&env, &q(filter)).await;
        got.sort();
        assert_eq!(got, *want, "{filter}");
    }
}

#[tokio::test]
async fn filter_agrees_with_the_rows_over_a_whole_table() {
    let env = fixture().await;
    let rows = env.emu.control().rows("account");
    let staff = |r: &Map<String, Value>| r["numberofemployees"].as_i64().unwrap_or(-1);
    let mut want: Vec<String> = rows
        .iter()
        .filter(|r| staff(r) > 100_000 || r["telephone1"].is_null())
        .map(|r| r["name"].as_str().unwrap_or("").to_owned())
        .collect();
    want.sort();
    let mut got = names(
        &env,
        "accounts?$select=name&$filter=numberofemployees gt 100000 or telephone1 eq null",
    )
    .await;
    got.sort();
    assert_eq!(got, want);
    assert!(
        !got.is_empty() && got.len() < rows.len(),
        "a real selection"
    );
}

#[tokio::test]
async fn bad_filters_get_the_service_error() {
    let env = fixture().await;
    let r = env.get("accounts?$filter=name eq").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["code"], "0x80060888");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Syntax error at position")),
        "{}",
        r.text
    );
    let r = env.get("accounts?$filter=nope eq 1").await;
    assert_eq!(
        r.body["error"]["message"],
        "Could not find a property named 'nope' on type 'Microsoft.Dynamics.CRM.account'."
    );
}

#[tokio::test]
async fn orderby_sorts_across_pages_and_top_and_count_apply() {
    let env = fixture().await;
    let rows = env.emu.control().rows("account");
    let mut want: Vec<(i64, String)> = rows
        .iter()
        .map(|r| {
            let staff = r["numberofemployees"].as_i64().unwrap_or(-1);
            (-staff, r["name"].as_str().unwrap_or("").to_lowercase())
        })
        .collect();
    want.sort();
    let got = names(
        &env,
        "accounts?$select=name,numberofemployees&$orderby=numberofemployees desc,name asc",
    )
    .await;
    let want: Vec<String> = want.into_iter().map(|(_, n)| n).collect();
    let got_lower: Vec<String> = got.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(got_lower, want, "sorted across every page, each row once");

    let top = env
        .get("accounts?$select=name&$orderby=numberofemployees&$top=2")
        .await;
    assert_eq!(top.body["value"].as_array().map(Vec::len), Some(2));
    assert!(top.body.get("@odata.nextLink").is_none());
    let counted = env
        .get("accounts?$select=name&$filter=startswith(name,'q ')&$count=true")
        .await;
    assert_eq!(counted.body["@odata.count"], 3);
}

#[tokio::test]
async fn expand_brings_the_related_row_or_null() {
    let env = fixture().await;
    let contacts: HashMap<String, Value> = env
        .emu
        .control()
        .rows("contact")
        .into_iter()
        .map(|c| {
            (
                c["contactid"].as_str().unwrap_or("").to_owned(),
                c["fullname"].clone(),
            )
        })
        .collect();
    let r = env
        .get("accounts?$select=name,_primarycontactid_value&$expand=primarycontactid($select=fullname)")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let context = r.body["@odata.context"].as_str().expect("context");
    assert!(context.ends_with("accounts(name,_primarycontactid_value,primarycontactid(fullname))"));
    let (mut linked, mut empty) = (0, 0);
    for row in r.body["value"].as_array().expect("rows") {
        match row["_primarycontactid_value"].as_str() {
            Some(id) => {
                let contact = &row["primarycontactid"];
                assert_eq!(contact["contactid"], id);
                assert_eq!(contact["fullname"], contacts[id]);
                assert!(contact["@odata.etag"].is_string());
                linked += 1;
            }
            None => {
                assert!(row["primarycontactid"].is_null());
                empty += 1;
            }
        }
    }
    assert!(linked > 0 && empty > 0, "{linked} linked, {empty} empty");

    // One navigation property per target of a polymorphic lookup; the other target is null.
    let r = env
        .get("contacts?$select=_parentcustomerid_value&$expand=parentcustomerid_account($select=name),parentcustomerid_contact($select=fullname)")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    for row in r.body["value"].as_array().expect("rows") {
        let set = [
            !row["parentcustomerid_account"].is_null(),
            !row["parentcustomerid_contact"].is_null(),
        ];
        let has_parent = row["_parentcustomerid_value"].is_string();
        assert_eq!(
            set.iter().filter(|s| **s).count(),
            usize::from(has_parent),
            "{row}"
        );
    }
}

#[tokio::test]
async fn expand_refuses_what_it_cannot_answer() {
    let env = fixture().await;
    let r = env.get("new_projects?$expand=new_project_contact").await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["code"].as_str()),
        (400, Some("0x80060888"))
    );
    let r = env.get("accounts?$expand=nosuchnav").await;
    assert_eq!(r.status, 400);
    let r = env
        .get("accounts?$expand=primarycontactid($filter=fullname eq 'x')")
        .await;
    assert_eq!(r.status, 400);
    let id = env.emu.control().rows("account")[0]["accountid"]
        .as_str()
        .expect("id")
        .to_owned();
    let one = env
        .get(&format!(
            "accounts({id})?$select=name&$expand=transactioncurrencyid($select=isocurrencycode)"
        ))
        .await;
    assert_eq!(one.body["transactioncurrencyid"]["isocurrencycode"], "USD");
}
