//! The system columns every table has, in metadata and data, and the columns Dataverse
//! computes on writes (`fullname`, owner parts, `_base` money, who and when).

use crate::support::{Env, env};
use serde_json::{Value, json};

const AUDIT: &[&str] = &[
    "createdon",
    "createdby",
    "modifiedon",
    "modifiedby",
    "versionnumber",
];
const OWNER: &[&str] = &["ownerid", "owninguser", "owningteam", "owningbusinessunit"];

async fn create(env: &Env, set: &str, body: Value) -> String {
    let r = env.send(env.http.post(env.url(set)).json(&body)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let location = r.headers["odata-entityid"].to_str().expect("header");
    location
        .rsplit('(')
        .next()
        .expect("id")
        .trim_end_matches(')')
        .to_owned()
}

#[tokio::test]
async fn every_table_has_the_system_columns_in_metadata_and_data() {
    let env = env().await;
    let tables = env
        .get("EntityDefinitions?$select=LogicalName,EntitySetName,OwnershipType,IsIntersect&$expand=Attributes($select=LogicalName)")
        .await;
    for t in tables.body["value"].as_array().expect("tables") {
        if t["IsIntersect"] == true {
            continue;
        }
        let name = t["LogicalName"].as_str().expect("name");
        let columns: Vec<&str> = t["Attributes"]
            .as_array()
            .expect("attributes")
            .iter()
            .filter_map(|a| a["LogicalName"].as_str())
            .collect();
        let owned = t["OwnershipType"] == "UserOwned";
        for c in AUDIT.iter().chain(if owned { OWNER } else { &[] }) {
            assert!(columns.contains(c), "{name} has no {c}");
        }
        let set = t["EntitySetName"].as_str().expect("set");
        let rows = env.get(&format!("{set}?$top=5")).await;
        for row in rows.body["value"].as_array().expect("rows") {
            let at = |c: &str| row[c].as_str().unwrap_or_default().to_owned();
            assert!(!at("createdon").is_empty(), "{name}: {row}");
            assert!(at("modifiedon") >= at("createdon"), "{name}: {row}");
            assert!(row.get("_modifiedby_value").is_some(), "{name}: {row}");
            if owned {
                let owner = row["_ownerid_value"].clone();
                let parts = [&row["_owninguser_value"], &row["_owningteam_value"]];
                assert_eq!(
                    parts.iter().filter(|p| **p == &owner).count(),
                    1,
                    "{name}: the owner is its user or its team: {row}"
                );
            }
        }
    }
}

#[tokio::test]
async fn computed_columns_follow_writes() {
    let env = env().await;
    let me = env.get("WhoAmI").await.body["UserId"].clone();
    let id = create(
        &env,
        "contacts",
        json!({"firstname": "Ada", "lastname": "Lovelace", "annualincome": 1000}),
    )
    .await;
    let url = format!("contacts({id})");
    let row = env.get(&url).await.body;
    assert_eq!(row["fullname"], "Ada Lovelace");
    assert_eq!(row["annualincome_base"], row["annualincome"]);
    assert!(row["_transactioncurrencyid_value"].is_string(), "{row}");
    for c in [
        "_createdby_value",
        "_modifiedby_value",
        "_ownerid_value",
        "_owninguser_value",
    ] {
        assert_eq!(row[c], me, "{c}");
    }
    assert!(row["_owningteam_value"].is_null());
    assert!(row["_owningbusinessunit_value"].is_string());

    let team = env.get("teams?$select=name&$top=1").await.body["value"][0]["teamid"].clone();
    let team = team.as_str().expect("a team");
    let r = env
        .send(env.http.patch(env.url(&url)).json(&json!({
            "lastname": "Byron",
            "ownerid@odata.bind": format!("/teams({team})"),
        })))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let after = env.get(&url).await.body;
    assert_eq!(after["fullname"], "Ada Byron");
    assert_eq!(after["_owningteam_value"], team);
    assert!(after["_owninguser_value"].is_null());
    assert!(after["modifiedon"].as_str() >= row["createdon"].as_str());
    assert_eq!(after["createdon"], row["createdon"], "creation is kept");
}
