//! Writes through the Web API: create, upsert, conditional updates, delete, lookups, N:N links.

use crate::support::env;
use serde_json::{Value, json};

#[tokio::test]
async fn create_update_delete_through_web_api() {
    let env = env().await;
    let r =
        env.send(env.http.post(env.url("accounts")).json(
            &json!({"name": "Web API Co", "revenue": 1234.5, "new_foundedon": "2020-02-29"}),
        ))
        .await;
    assert_eq!(r.status, 204);
    let location = r.headers["odata-entityid"]
        .to_str()
        .expect("header")
        .to_owned();
    let id = location
        .rsplit('(')
        .next()
        .expect("id")
        .trim_end_matches(')')
        .to_owned();
    let got = env
        .get(&format!(
            "accounts({id})?$select=name,revenue,new_foundedon,statecode"
        ))
        .await;
    assert_eq!(got.body["name"], "Web API Co");
    assert!(got.text.contains("\"revenue\":1234.5000"), "{}", got.text);
    assert_eq!(got.body["new_foundedon"], "2020-02-29");
    assert_eq!(got.body["statecode"], 0);
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .json(&json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        env.get(&format!("accounts({id})?$select=name")).await.body["name"],
        "Renamed"
    );
    let r = env
        .send(env.http.delete(env.url(&format!("accounts({id})"))))
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .send(env.http.delete(env.url(&format!("accounts({id})"))))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["error"]["message"],
        format!("account With Id = {id} Does Not Exist")
    );
}

#[tokio::test]
async fn create_with_representation_and_bind() {
    let env = env().await;
    let contact = env.get("contacts?$select=fullname&$top=1").await.body["value"][0].clone();
    let body = json!({"name": "Bound", "primarycontactid@odata.bind": format!("/contacts({})", contact["contactid"].as_str().expect("id"))});
    let r = env
        .send(
            env.http
                .post(env.url("accounts"))
                .header("Prefer", "return=representation")
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["_primarycontactid_value"], contact["contactid"]);
    assert!(r.body["@odata.etag"].is_string());
}

#[tokio::test]
async fn upsert_and_conditions() {
    let env = env().await;
    let id = uuid::Uuid::new_v4();
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .json(&json!({"name": "Upserted"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let row = env.get(&format!("accounts({id})?$select=name")).await.body;
    let etag = row["@odata.etag"].as_str().expect("etag").to_owned();
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .header("If-Match", etag.as_str())
                .json(&json!({"name": "Matched"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .header("If-Match", etag.as_str())
                .json(&json!({"name": "Stale"})),
        )
        .await;
    assert_eq!(r.status, 412);
    let r = env
        .send(
            env.http
                .patch(env.url(&format!("accounts({id})")))
                .header("If-None-Match", "*")
                .json(&json!({"name": "Dup"})),
        )
        .await;
    assert_eq!(r.status, 412);
}

#[tokio::test]
async fn string_longer_than_max_length_is_refused() {
    let env = env().await;
    let r = env
        .send(
            env.http
                .post(env.url("accounts"))
                .json(&json!({"accountnumber": "x".repeat(21)})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("'accountnumber'") && m.contains("'20'"))
    );
    env.emu
        .control()
        .set_max_length("account", "accountnumber", 40)
        .expect("widen");
    let r = env
        .send(
            env.http
                .post(env.url("accounts"))
                .json(&json!({"accountnumber": "x".repeat(21)})),
        )
        .await;
    assert_eq!(r.status, 204);
    let meta = env.get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='accountnumber')/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=MaxLength").await;
    assert_eq!(meta.body["MaxLength"], 40);
}

#[tokio::test]
async fn associate_and_disassociate_by_ref() {
    let env = env().await;
    let project =
        env.get("new_projects?$select=new_name&$top=1").await.body["value"][0]["new_projectid"]
            .as_str()
            .expect("id")
            .to_owned();
    let contact = env
        .emu
        .control()
        .create(
            "contact",
            json!({"fullname": "Member"})
                .as_object()
                .cloned()
                .expect("map"),
        )
        .expect("contact");
    let nav = format!("new_projects({project})/new_project_contact");
    let body = json!({"@odata.id": format!("{}/contacts({contact})", env.emu.api_url())});
    let r = env
        .send(env.http.post(env.url(&format!("{nav}/$ref"))).json(&body))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let linked = env.get(&format!("{nav}?$select=fullname")).await;
    let names: Vec<&Value> = linked.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|v| &v["fullname"])
        .collect();
    assert!(names.contains(&&json!("Member")));
    let dup = env
        .send(env.http.post(env.url(&format!("{nav}/$ref"))).json(&body))
        .await;
    assert_eq!(dup.status, 400);
    let url = env.url(&format!(
        "{nav}/$ref?$id={}/contacts({contact})",
        env.emu.api_url()
    ));
    assert_eq!(env.send(env.http.delete(url)).await.status, 204);
    let after = env.get(&format!("{nav}?$select=fullname")).await;
    assert!(!after.text.contains("\"Member\""));
}

#[tokio::test]
async fn schema_change_at_run_time() {
    let env = env().await;
    let c = env.emu.control();
    c.add_attribute("account", "new_loyaltytier", "String", Some(30))
        .expect("add");
    let meta = env
        .get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_loyaltytier')")
        .await;
    assert_eq!(meta.body["AttributeType"], "String");
    let id = c
        .create(
            "account",
            json!({"name": "Tiered", "new_loyaltytier": "gold"})
                .as_object()
                .cloned()
                .expect("map"),
        )
        .expect("create");
    let row = env
        .get(&format!("accounts({id})?$select=new_loyaltytier"))
        .await;
    assert_eq!(row.body["new_loyaltytier"], "gold");
    let all = env.get("accounts?$select=new_loyaltytier").await;
    let set: Vec<&Value> = all.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|r| &r["new_loyaltytier"])
        .filter(|v| !v.is_null())
        .collect();
    assert_eq!(
        set,
        [&Value::from("gold")],
        "existing rows read the new column as null"
    );
}
