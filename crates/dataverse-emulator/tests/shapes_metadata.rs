//! Metadata, identity and token responses compared with the documentation samples.

use crate::support::{assert_same_keys, env, keys, normalize, sample};
use serde_json::Value;

fn versionless(s: &str) -> String {
    s.replace("/v9.0/", "/v9.2/").replace("/v9.1/", "/v9.2/")
}

fn context(v: &Value, base: &str) -> String {
    versionless(&normalize(v["@odata.context"].as_str().unwrap_or(""), base))
}

#[tokio::test]
async fn shape_entitydefinitions_select() {
    let env = env().await;
    let s = sample("entitydefinitions.json");
    let r = env.get("EntityDefinitions(LogicalName='account')?$select=DisplayName,IsKnowledgeManagementEnabled,EntitySetName").await;
    let mut row = r.body.clone();
    row.as_object_mut()
        .expect("object")
        .shift_remove("@odata.context");
    assert_same_keys(&s["value"][0], &row, "entity");
    assert_same_keys(&s["value"][0]["DisplayName"], &row["DisplayName"], "label");
    assert_same_keys(
        &s["value"][0]["DisplayName"]["UserLocalizedLabel"],
        &row["DisplayName"]["UserLocalizedLabel"],
        "localized label",
    );
    // The docs show this single-key read as a collection; the emulator answers as an entity.
    assert_eq!(
        context(&r.body, &env.emu.base_url()),
        format!("{}/$entity", context(&s, ""))
    );
}

#[tokio::test]
async fn shape_entitydefinitions_metadataid() {
    let env = env().await;
    let s = sample("entitydefinitions-metadataid.json");
    let r = env
        .get("EntityDefinitions?$filter=LogicalName eq 'account'&$select=MetadataId")
        .await;
    assert_same_keys(&s, &r.body, "top");
    assert_same_keys(&s["value"][0], &r.body["value"][0], "row");
    assert_eq!(context(&r.body, &env.emu.base_url()), context(&s, ""));
    assert_eq!(r.body["value"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn shape_attributes_by_metadataid() {
    let env = env().await;
    let s = sample("attributes.json");
    let id = env
        .get("EntityDefinitions(LogicalName='account')?$select=MetadataId")
        .await
        .body["MetadataId"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = env.get(&format!("EntityDefinitions({id})/Attributes?$filter=LogicalName eq 'accountcategorycode'&$select=MetadataId")).await;
    assert_same_keys(&s, &r.body, "top");
    assert_same_keys(&s["value"][0], &r.body["value"][0], "item");
    assert_eq!(
        s["value"][0]["@odata.type"],
        r.body["value"][0]["@odata.type"]
    );
    assert_eq!(context(&r.body, &env.emu.base_url()), context(&s, ""));
}

#[tokio::test]
async fn shape_attribute_boolean() {
    let env = env().await;
    let s = sample("attribute-boolean.json");
    let r = env.get("EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_isbillable')/Microsoft.Dynamics.CRM.BooleanAttributeMetadata").await;
    assert_same_keys(&s, &r.body, "boolean attribute");
    for k in [
        "AttributeTypeName",
        "Description",
        "DisplayName",
        "IsAuditEnabled",
        "IsValidForAdvancedFind",
        "RequiredLevel",
    ] {
        assert_same_keys(&s[k], &r.body[k], k);
    }
    let ctx = context(&r.body, &env.emu.base_url()).replace("'new_project'", "'new_bankaccount'");
    assert_eq!(ctx, context(&s, ""));
    assert_eq!(r.body["AttributeType"], "Boolean");
    assert_eq!(r.body["AttributeTypeName"]["Value"], "BooleanType");
}

#[tokio::test]
async fn shape_entity_definition_full() {
    let env = env().await;
    let s = sample("entity-definition-full.json");
    let r = env
        .get("EntityDefinitions(LogicalName='new_project')")
        .await;
    let mine = keys(&r.body);
    let positions: Vec<usize> = keys(&s)
        .iter()
        .map(|k| {
            mine.iter()
                .position(|m| m == k)
                .unwrap_or_else(|| panic!("missing {k}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sample keys appear in the same order"
    );
    assert_eq!(r.body["ObjectTypeCode"], 10010);
    assert_eq!(r.body["CanChangeTrackingBeEnabled"]["Value"], true);
    assert_same_keys(
        &s["IsAuditEnabled"],
        &r.body["CanChangeTrackingBeEnabled"],
        "managed property",
    );
}

#[tokio::test]
async fn shape_optionset_expand() {
    let env = env().await;
    let s = sample("optionset.json");
    let r = env
        .get("EntityDefinitions(LogicalName='account')/Attributes(LogicalName='accountcategorycode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)")
        .await;
    let base = env.emu.base_url();
    assert_same_keys(&s, &r.body, "attribute");
    assert_eq!(context(&r.body, &base), context(&s, ""));
    let opt_ctx = |v: &Value| {
        versionless(&normalize(
            v["OptionSet@odata.context"].as_str().unwrap_or(""),
            &base,
        ))
    };
    assert_eq!(opt_ctx(&r.body), opt_ctx(&s));
    assert_same_keys(&s["OptionSet"], &r.body["OptionSet"], "option set");
    assert_same_keys(
        &s["OptionSet"]["Options"][0],
        &r.body["OptionSet"]["Options"][0],
        "option",
    );
    assert_same_keys(
        &s["OptionSet"]["Options"][0]["Label"],
        &r.body["OptionSet"]["Options"][0]["Label"],
        "option label",
    );
    assert_eq!(
        r.body["OptionSet"]["Options"][0]["Label"]["UserLocalizedLabel"]["Label"],
        "Preferred Customer"
    );
    assert_eq!(r.body["GlobalOptionSet"], Value::Null);
}

#[tokio::test]
async fn shape_many_to_many_relationship() {
    let env = env().await;
    let s = sample("relationship-manytomany-create.json");
    let r = env
        .get("RelationshipDefinitions/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata")
        .await;
    let rel = r.body["value"]
        .as_array()
        .and_then(|v| v.iter().find(|x| x["SchemaName"] == "new_project_contact"))
        .cloned()
        .expect("relationship");
    for k in [
        "SchemaName",
        "Entity1LogicalName",
        "Entity2LogicalName",
        "IntersectEntityName",
    ] {
        assert!(s.get(k).is_some() && rel.get(k).is_some(), "{k}");
    }
    for k in [
        "Entity1IntersectAttribute",
        "Entity2IntersectAttribute",
        "Entity1NavigationPropertyName",
        "Entity2NavigationPropertyName",
    ] {
        assert!(rel[k].is_string(), "{k}");
    }
    assert_eq!(rel["Entity1IntersectAttribute"], "new_projectid");
    assert_eq!(rel["Entity2IntersectAttribute"], "contactid");
}

#[tokio::test]
async fn shape_whoami() {
    let env = env().await;
    let s = sample("whoami.json");
    for path in ["WhoAmI", "WhoAmI()"] {
        let r = env.get(path).await;
        assert_same_keys(&s, &r.body, path);
        assert_eq!(context(&r.body, &env.emu.base_url()), context(&s, ""));
    }
}

#[tokio::test]
async fn shape_token_response_and_error() {
    let env = env().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", env.emu.client_id()),
        ("client_secret", env.emu.client_secret()),
    ];
    let scope = format!("{}/.default", env.emu.base_url());
    let mut good = form.to_vec();
    good.push(("scope", &scope));
    let ok: Value = env
        .http
        .post(env.emu.token_url())
        .form(&good)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_same_keys(&sample("token-response.json"), &ok, "token response");
    let mut bad = form.to_vec();
    bad.push(("scope", "https://foo.microsoft.com/.default"));
    let resp = env
        .http
        .post(env.emu.token_url())
        .form(&bad)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.expect("json");
    let s = sample("token-error.json");
    assert_same_keys(&s, &err, "token error");
    assert_eq!(err["error"], "invalid_scope");
    assert_eq!(err["error_codes"][0], 70011);
    let d = err["error_description"].as_str().expect("description");
    assert!(
        d.starts_with(
            "AADSTS70011: The provided value for the input parameter 'scope' is not valid."
        ),
        "{d}"
    );
    assert!(
        d.contains("\r\nTrace ID: ")
            && d.contains("\r\nCorrelation ID: ")
            && d.contains("\r\nTimestamp: "),
        "{d}"
    );
}
