//! The columns Dataverse keeps beside a lookup (name, yomi name, type): in metadata as
//! non-property attributes of their lookup, in data only as the lookup's annotations, and
//! those only when `Prefer: odata.include-annotations` asks for them.

use crate::support::{Env, env};
use serde_json::{Value, json};

const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
const LOGICAL: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
const ANNOTATIONS: &str = "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname,OData.Community.Display.V1.FormattedValue\"";

/// One attribute's definition; `cast` (`/Microsoft.Dynamics.CRM.<type>`) adds its type's
/// properties.
async fn attribute(env: &Env, entity: &str, name: &str, cast: &str) -> Value {
    let path =
        format!("EntityDefinitions(LogicalName='{entity}')/Attributes(LogicalName='{name}'){cast}");
    let r = env.get(&path).await;
    assert_eq!(r.status, 200, "{entity}.{name}: {}", r.text);
    r.body
}

#[tokio::test]
async fn name_yomi_and_type_columns_are_attributes_of_their_lookup() {
    let env = env().await;
    let cases = [
        ("account", "createdbyname", "createdby", "String", Some(100)),
        (
            "account",
            "createdbyyominame",
            "createdby",
            "String",
            Some(100),
        ),
        ("account", "owneridyominame", "ownerid", "String", Some(100)),
        ("account", "owneridtype", "ownerid", "EntityName", None),
        (
            "contact",
            "parentcustomeridname",
            "parentcustomerid",
            "String",
            Some(160),
        ),
        (
            "contact",
            "parentcustomeridyominame",
            "parentcustomerid",
            "String",
            Some(450),
        ),
        (
            "contact",
            "parentcustomeridtype",
            "parentcustomerid",
            "EntityName",
            None,
        ),
    ];
    for (entity, name, lookup, kind, max_length) in cases {
        let a = attribute(&env, entity, name, "").await;
        assert_eq!(a["AttributeOf"], lookup, "{entity}.{name}");
        assert_eq!(a["AttributeType"], kind, "{entity}.{name}");
        assert_eq!(a["IsValidODataAttribute"], false, "{entity}.{name}");
        if let Some(n) = max_length {
            let cast = "/Microsoft.Dynamics.CRM.StringAttributeMetadata";
            let a = attribute(&env, entity, name, cast).await;
            assert_eq!(a["MaxLength"], n, "{entity}.{name}");
        }
    }
    let r = env.get("accounts?$select=createdbyname").await;
    assert_eq!(r.status, 400, "a name column is no property: {}", r.text);
}

fn annotation_keys(row: &Value) -> Vec<&str> {
    let object = row.as_object().expect("row");
    object
        .keys()
        .filter(|k| k.contains('@') && !k.starts_with("@odata"))
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn lookup_annotations_come_only_when_asked_for() {
    let env = env().await;
    let plain = env
        .get("contacts?$select=_createdby_value,_parentcustomerid_value")
        .await;
    for row in plain.body["value"].as_array().expect("rows") {
        assert!(annotation_keys(row).is_empty(), "{row}");
    }
    let users = env.get("systemusers?$select=fullname").await;
    let name_of = |id: &str| {
        users.body["value"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["systemuserid"] == id)
            .and_then(|u| u["fullname"].as_str())
            .map(str::to_owned)
    };
    let asked = env
        .get_prefer(
            "contacts?$select=_createdby_value,_parentcustomerid_value",
            ANNOTATIONS,
        )
        .await;
    assert_eq!(
        asked.headers["preference-applied"], ANNOTATIONS,
        "the service echoes the annotations it applied"
    );
    let rows = asked.body["value"].as_array().expect("rows");
    for row in rows {
        let by = row["_createdby_value"].as_str().expect("created by");
        assert_eq!(
            row[format!("_createdby_value@{FORMATTED}")].as_str(),
            name_of(by).as_deref()
        );
        assert_eq!(row[format!("_createdby_value@{LOGICAL}")], "systemuser");
        let keys = annotation_keys(row);
        let at = |k: &str| row.as_object().expect("row").keys().position(|x| x == k);
        assert!(
            at(&format!("_createdby_value@{FORMATTED}")) < at("_createdby_value"),
            "annotations precede their value, as the service sends them: {keys:?}"
        );
        let customer = &row["_parentcustomerid_value"];
        let customer_keys = keys
            .iter()
            .filter(|k| k.starts_with("_parentcustomerid_value@"));
        assert_eq!(
            customer_keys.count(),
            if customer.is_null() { 0 } else { 2 },
            "{row}"
        );
    }
    assert!(
        rows.iter().any(|r| !r["_parentcustomerid_value"].is_null()),
        "some contact has a company"
    );
}

#[tokio::test]
async fn a_delta_page_carries_the_annotations_too() {
    let env = env().await;
    let prefer = format!("odata.track-changes,{ANNOTATIONS}");
    let pages = env
        .pages("contacts?$select=jobtitle,_ownerid_value", &prefer)
        .await;
    let link = pages
        .last()
        .and_then(|p| p["@odata.deltaLink"].as_str())
        .expect("delta link");
    let first = &pages[0]["value"][0];
    let id = first["contactid"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let fields = json!({"jobtitle": "Buyer of lookups"});
    env.emu
        .control()
        .update("contact", id, fields.as_object().cloned().expect("map"))
        .expect("update");
    let delta = env.get_prefer(link, &prefer).await;
    let row = &delta.body["value"][0];
    assert_eq!(row["jobtitle"], "Buyer of lookups");
    assert_eq!(
        row[format!("_ownerid_value@{FORMATTED}")],
        first[format!("_ownerid_value@{FORMATTED}")]
    );
    assert!(
        row[format!("_ownerid_value@{LOGICAL}")].is_string(),
        "{row}"
    );
}
