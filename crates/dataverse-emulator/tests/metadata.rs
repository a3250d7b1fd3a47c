//! Metadata routes and casts.

use crate::support::env;
use serde_json::Value;

fn names(v: &Value, key: &str) -> Vec<String> {
    v["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn entity_definitions_filters() {
    let env = env().await;
    let tracked = env.get("EntityDefinitions?$select=LogicalName,EntitySetName,IsIntersect&$filter=ChangeTrackingEnabled eq true").await;
    let list = names(&tracked.body, "LogicalName");
    for e in [
        "account",
        "contact",
        "lead",
        "opportunity",
        "systemuser",
        "new_project",
        "new_project_contact",
    ] {
        assert!(list.contains(&e.to_owned()), "{e} tracked");
    }
    assert!(!list.contains(&"new_auditnote".to_owned()));
    let all = env.get("EntityDefinitions?$select=LogicalName").await;
    assert!(names(&all.body, "LogicalName").contains(&"new_auditnote".to_owned()));
    let by_name = env
        .get("EntityDefinitions(LogicalName='account')?$select=MetadataId,EntitySetName")
        .await;
    let id = by_name.body["MetadataId"].as_str().expect("id");
    let by_id = env
        .get(&format!("EntityDefinitions({id})?$select=LogicalName"))
        .await;
    assert_eq!(by_id.body["LogicalName"], "account");
    let expanded = env.get("EntityDefinitions?$filter=LogicalName eq 'account'&$select=LogicalName&$expand=Attributes($select=LogicalName,AttributeType)").await;
    let attrs = expanded.body["value"][0]["Attributes"]
        .as_array()
        .expect("attributes");
    assert!(
        (25..=70).contains(&attrs.len()),
        "{} account attributes",
        attrs.len()
    );
    assert!(attrs.iter().all(|a| a["@odata.type"].is_string()));
}

#[tokio::test]
async fn attribute_casts_cover_every_type() {
    let env = env().await;
    let base = "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.";
    let cases = [
        ("StringAttributeMetadata", "MaxLength", "name"),
        ("MemoAttributeMetadata", "MaxLength", "description"),
        ("DecimalAttributeMetadata", "Precision", "exchangerate"),
        ("MoneyAttributeMetadata", "Precision", "revenue"),
        ("DoubleAttributeMetadata", "Precision", "new_rating"),
        ("IntegerAttributeMetadata", "MaxValue", "numberofemployees"),
        ("BigIntAttributeMetadata", "MaxValue", "versionnumber"),
        (
            "DateTimeAttributeMetadata",
            "DateTimeBehavior",
            "new_foundedon",
        ),
        ("LookupAttributeMetadata", "Targets", "ownerid"),
        ("ImageAttributeMetadata", "MaxSizeInKB", "entityimage"),
        (
            "UniqueIdentifierAttributeMetadata",
            "LogicalName",
            "accountid",
        ),
        ("EntityNameAttributeMetadata", "LogicalName", "owneridtype"),
    ];
    for (cast, prop, attr) in cases {
        let r = env
            .get(&format!("{base}{cast}?$select=LogicalName,{prop}"))
            .await;
        assert_eq!(r.status, 200, "{cast}: {}", r.text);
        let item = r.body["value"]
            .as_array()
            .and_then(|v| v.iter().find(|x| x["LogicalName"] == attr))
            .unwrap_or_else(|| panic!("{attr} in {cast}"));
        assert!(!item[prop].is_null(), "{cast}.{prop}");
    }
    let dt = env
        .get(&format!(
            "{base}DateTimeAttributeMetadata?$select=LogicalName,DateTimeBehavior"
        ))
        .await;
    let behaviors: Vec<&Value> = dt.body["value"]
        .as_array()
        .expect("v")
        .iter()
        .map(|v| &v["DateTimeBehavior"]["Value"])
        .collect();
    assert!(
        behaviors.contains(&&Value::from("UserLocal"))
            && behaviors.contains(&&Value::from("DateOnly"))
    );
    let file = env.get("EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.FileAttributeMetadata?$select=LogicalName").await;
    assert_eq!(names(&file.body, "LogicalName"), ["new_document"]);
    let customer = env.get("EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='parentcustomerid')/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=Targets,AttributeType").await;
    assert_eq!(
        customer.body["Targets"],
        serde_json::json!(["account", "contact"])
    );
    assert_eq!(customer.body["AttributeType"], "Customer");
}

#[tokio::test]
async fn option_sets_local_global_boolean_state_status() {
    let env = env().await;
    let attr = |name: &str, cast: &str| {
        format!(
            "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='{name}')/Microsoft.Dynamics.CRM.{cast}?$select=LogicalName&$expand=OptionSet,GlobalOptionSet"
        )
    };
    let global = env
        .get(&attr("new_region", "PicklistAttributeMetadata"))
        .await;
    assert_eq!(global.body["OptionSet"], Value::Null);
    assert_eq!(global.body["GlobalOptionSet"]["Name"], "new_region");
    let multi = env
        .get(&attr("new_tags", "MultiSelectPicklistAttributeMetadata"))
        .await;
    assert_eq!(
        multi.body["OptionSet"]["Options"].as_array().map(Vec::len),
        Some(4)
    );
    let boolean = env
        .get(&attr("creditonhold", "BooleanAttributeMetadata"))
        .await;
    assert_eq!(boolean.body["OptionSet"]["TrueOption"]["Value"], 1);
    assert_eq!(boolean.body["OptionSet"]["FalseOption"]["Value"], 0);
    let status = env
        .get(&attr("statuscode", "StatusAttributeMetadata"))
        .await;
    assert_eq!(status.body["OptionSet"]["Options"][1]["State"], 1);
    let state = env.get(&attr("statecode", "StateAttributeMetadata")).await;
    assert_eq!(state.body["OptionSet"]["Options"][0]["DefaultStatus"], 1);
    let sets = env.get("GlobalOptionSetDefinitions").await;
    assert_eq!(names(&sets.body, "Name"), ["new_region"]);
    let one = env
        .get("GlobalOptionSetDefinitions(Name='new_region')")
        .await;
    assert_eq!(one.body["Options"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn relationship_definitions() {
    let env = env().await;
    let all = env.get("RelationshipDefinitions?$select=SchemaName").await;
    let types: Vec<&str> = all.body["value"]
        .as_array()
        .expect("v")
        .iter()
        .filter_map(|v| v["@odata.type"].as_str())
        .collect();
    assert!(types.contains(&"#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"));
    assert!(types.contains(&"#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"));
    let m2m = env.get("RelationshipDefinitions/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata?$select=SchemaName,IntersectEntityName").await;
    assert!(names(&m2m.body, "SchemaName").contains(&"new_project_contact".to_owned()));
    let intersect = env.get("EntityDefinitions(LogicalName='new_project_contact')?$select=IsIntersect,ChangeTrackingEnabled").await;
    assert_eq!(intersect.body["IsIntersect"], true);
    assert_eq!(intersect.body["ChangeTrackingEnabled"], true);
}
