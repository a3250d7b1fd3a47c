//! Data responses and error bodies compared with the documentation samples.

use crate::support::{Env, assert_same_keys, env, keys, normalize, sample};
use serde_json::{Value, json};

fn versionless(s: &str) -> String {
    s.replace("/v9.0/", "/v9.2/").replace("/v9.1/", "/v9.2/")
}

fn norm(env: &Env, v: &Value, key: &str) -> String {
    versionless(&normalize(
        v[key].as_str().unwrap_or(""),
        &env.emu.base_url(),
    ))
}

/// `<version>%21MM%2fdd%2fyyyy%20HH%3amm%3ass` with the digits replaced by `9`.
fn token_shape(link: &str) -> String {
    let (head, token) = link.split_once("$deltatoken=").expect("delta token");
    let t: String = token
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    let t = t.trim_start_matches('9');
    format!("{head}$deltatoken=N{t}")
}

#[tokio::test]
async fn shape_nextlink_pages() {
    let env = env().await;
    let first = env
        .get_prefer("contacts?$select=fullname", "odata.maxpagesize=2")
        .await;
    let s1 = sample("nextlink-page.json");
    assert_same_keys(&s1, &first.body, "page");
    assert_same_keys(&s1["value"][0], &first.body["value"][0], "row");
    assert_eq!(
        norm(&env, &first.body, "@odata.context"),
        norm(&env, &s1, "@odata.context")
    );
    assert_eq!(
        norm(&env, &first.body, "@odata.nextLink"),
        norm(&env, &s1, "@odata.nextLink")
    );
    let link = first.body["@odata.nextLink"]
        .as_str()
        .expect("next")
        .to_owned();
    let second = env.get_prefer(&link, "odata.maxpagesize=2").await;
    let s2 = sample("nextlink-page-2.json");
    assert_same_keys(&s2, &second.body, "page 2");
    assert_eq!(
        norm(&env, &second.body, "@odata.nextLink"),
        norm(&env, &s2, "@odata.nextLink")
    );
    assert_eq!(first.headers["preference-applied"], "odata.maxpagesize=2");
}

#[tokio::test]
async fn shape_nextlink_page_count() {
    let env = env().await;
    let r = env
        .get_prefer("accounts?$select=name&$count=true", "odata.maxpagesize=3")
        .await;
    let s = sample("nextlink-page-count.json");
    assert_same_keys(&s, &r.body, "page");
    assert_same_keys(&s["value"][0], &r.body["value"][0], "row");
    assert_eq!(r.body["@odata.count"], 20);
    let sample_link =
        norm(&env, &s, "@odata.nextLink").replace("&$filter=contains(name,'sample')", "");
    assert_eq!(norm(&env, &r.body, "@odata.nextLink"), sample_link);
}

#[tokio::test]
async fn shape_delta_initial_and_changes() {
    let env = env().await;
    let r = env
        .get_prefer(
            "accounts?$select=name,telephone1,fax",
            "odata.track-changes",
        )
        .await;
    let s = sample("delta-initial.json");
    assert_same_keys(&s, &r.body, "initial");
    let row = &r.body["value"][0];
    assert_eq!(
        keys(row),
        ["@odata.etag", "name", "telephone1", "fax", "accountid"]
    );
    assert_eq!(r.headers["preference-applied"], "odata.track-changes");
    let link = r.body["@odata.deltaLink"]
        .as_str()
        .expect("delta link")
        .to_owned();
    let sample_link = versionless(
        &s["@odata.deltaLink"]
            .as_str()
            .expect("sample")
            .replace("accountnumber,", ""),
    );
    assert_eq!(
        token_shape(&normalize(&link, &env.emu.base_url())),
        token_shape(&sample_link)
    );

    let ids: Vec<uuid::Uuid> = r.body["value"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|v| v["accountid"].as_str().expect("id").parse().expect("uuid"))
        .collect();
    let c = env.emu.control();
    c.update(
        "account",
        ids[0],
        json!({"telephone1": "555000"})
            .as_object()
            .cloned()
            .expect("map"),
    )
    .expect("update");
    c.delete("account", ids[1]).expect("delete");
    let d = env.get(&link).await;
    let s = sample("delta-changes.json");
    assert_same_keys(&s, &d.body, "delta");
    assert_same_keys(&s["value"][0], &d.body["value"][0], "upsert");
    assert_same_keys(&s["value"][1], &d.body["value"][1], "deleted");
    assert_eq!(
        norm(&env, &d.body["value"][1], "@odata.context"),
        norm(&env, &s["value"][1], "@odata.context")
    );
    let ctx = |v: &Value| {
        v["@odata.context"]
            .as_str()
            .and_then(|c| c.split_once("$metadata#"))
            .map(|(_, t)| t.to_owned())
    };
    assert_eq!(ctx(&d.body), ctx(&s));
    assert_eq!(d.body["value"][1]["id"], ids[1].to_string());
}

#[tokio::test]
async fn shape_formatted_values() {
    let env = env().await;
    let prefer = "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"";
    let r = env
        .get_prefer(
            "accounts?$select=name,revenue,_primarycontactid_value,customertypecode,modifiedon",
            prefer,
        )
        .await;
    let s = sample("formatted-values.json");
    let row = r.body["value"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| !r["_primarycontactid_value"].is_null())
        .expect("row with contact")
        .clone();
    assert_same_keys(&s["value"][0], &row, "formatted row");
    let revenue = r
        .text
        .split("\"revenue\":")
        .nth(1)
        .expect("revenue")
        .split(',')
        .next()
        .expect("literal");
    assert!(
        revenue.split_once('.').is_some_and(|(_, f)| f.len() == 4),
        "exact literal with precision 4: {revenue}"
    );
    assert!(
        row["revenue@OData.Community.Display.V1.FormattedValue"]
            .as_str()
            .is_some_and(|f| f.starts_with('$'))
    );
    assert!(
        row["modifiedon"]
            .as_str()
            .is_some_and(|m| m.len() == 20 && m.ends_with('Z'))
    );
}

#[tokio::test]
async fn shape_lookup_annotations() {
    let env = env().await;
    let c = env.emu.control();
    let team = env.get("teams?$select=teamid").await.body["value"][0]["teamid"]
        .as_str()
        .expect("team")
        .to_owned();
    let account: uuid::Uuid = env.get("accounts?$select=name").await.body["value"][0]["accountid"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    c.update(
        "account",
        account,
        json!({"ownerid@odata.bind": format!("/teams({team})")})
            .as_object()
            .cloned()
            .expect("map"),
    )
    .expect("owner");
    let prefer = "odata.include-annotations=\"Microsoft.Dynamics.CRM.associatednavigationproperty,Microsoft.Dynamics.CRM.lookuplogicalname\"";
    let r = env
        .get_prefer("accounts?$select=name,_ownerid_value", prefer)
        .await;
    let s = sample("lookup-annotations.json");
    assert_same_keys(&s, &r.body, "page");
    let rows = r.body["value"].as_array().expect("rows");
    assert_same_keys(&s["value"][0], &rows[0], "row");
    let logical: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"].as_str())
        .collect();
    assert!(
        logical.contains(&"team") && logical.contains(&"systemuser"),
        "{logical:?}"
    );
    assert_eq!(
        norm(&env, &r.body, "@odata.context"),
        norm(&env, &s, "@odata.context")
    );
}

#[tokio::test]
async fn shape_customer_lookup_annotations() {
    let env = env().await;
    let c = env.emu.control();
    let contact = env.get("contacts?$select=fullname").await.body["value"][0]["contactid"]
        .as_str()
        .expect("contact")
        .to_owned();
    let opp: uuid::Uuid =
        env.get("opportunities?$select=name").await.body["value"][0]["opportunityid"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
    c.update(
        "opportunity",
        opp,
        json!({"customerid_contact@odata.bind": format!("/contacts({contact})")})
            .as_object()
            .cloned()
            .expect("map"),
    )
    .expect("customer");
    let r = env
        .get_prefer(
            &format!("opportunities({opp})?$select=name,_customerid_value"),
            "odata.include-annotations=\"*\"",
        )
        .await;
    let s = sample("lookup-customer-annotations.json");
    let customer_keys = |v: &Value| {
        keys(v)
            .into_iter()
            .filter(|k| k.starts_with("_customerid_value"))
            .collect::<Vec<_>>()
    };
    assert_eq!(customer_keys(&s), customer_keys(&r.body));
    assert_eq!(
        r.body["_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"],
        "customerid_contact"
    );
    assert_eq!(
        r.body["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"],
        "contact"
    );
    assert_eq!(r.body["_customerid_value"], contact);
    assert_eq!(keys(&r.body)[..2], ["@odata.context", "@odata.etag"]);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("/$entity"))
    );
}

#[tokio::test]
async fn shape_error_bodies() {
    let env = env().await;
    let missing = "accounts(00000000-0000-0000-0000-000000000001)";
    let r = env
        .send(
            env.http
                .patch(env.url(missing))
                .header("If-Match", "*")
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (404, sample("error-404-not-found.json"))
    );
    let id = env.get("accounts?$select=name").await.body["value"][0]["accountid"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .header("If-None-Match", "*")
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (412, sample("error-412-duplicate.json"))
    );
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .header("If-Match", "W/\"470867\"")
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (412, sample("error-412-rowversion.json"))
    );
    env.emu.control().faults().throttle_next(1, 7);
    let r = env.get("accounts?$select=name").await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (429, sample("synthesized-error-429-request-count.json"))
    );
    assert_eq!(r.headers["retry-after"], "7");
    env.emu.control().expire_change_tokens();
    let r = env
        .get("accounts?$select=name&$deltatoken=1%2101%2f01%2f2020%2000%3a00%3a00")
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.clone()),
        (400, sample("synthesized-error-expired-deltatoken.json"))
    );
    assert_same_keys(
        &sample("error-format.json")["error"],
        &r.body["error"],
        "error format",
    );
}
