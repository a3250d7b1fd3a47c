//! A lookup's name and type columns, read from the annotations of the documentation's bodies
//! through a plan built from metadata, as the source builds it.

use dataverse::{ColumnPlan, WireSource, parse_page};
use des_core::metadata::{AttributeKind as K, AttributeMetadata, EntityMetadata};
use des_core::{Value, ports::SourceError};

use super::{guid, sample, text, upsert};

fn attribute(name: &str, kind: K, targets: &[&str]) -> AttributeMetadata {
    AttributeMetadata {
        logical_name: name.into(),
        schema_name: name.into(),
        metadata_id: format!("md-{name}"),
        kind,
        attribute_of: None,
        is_valid_for_read: true,
        is_valid_odata: true,
        is_primary_id: false,
        column_number: None,
        max_length: None,
        precision: None,
        targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        date_time_behavior: None,
        option_set: None,
    }
}

/// A column Dataverse keeps beside `lookup`: `AttributeOf` set, no Web API property.
fn part_of(name: &str, kind: K, lookup: &str) -> AttributeMetadata {
    AttributeMetadata {
        attribute_of: Some(lookup.into()),
        is_valid_odata: false,
        max_length: Some(100),
        ..attribute(name, kind, &[])
    }
}

fn entity(logical: &str, set: &str, attributes: Vec<AttributeMetadata>) -> EntityMetadata {
    EntityMetadata {
        logical_name: logical.into(),
        schema_name: logical.into(),
        entity_set_name: set.into(),
        primary_id_attribute: format!("{logical}id"),
        primary_name_attribute: None,
        display_name: None,
        object_type_code: None,
        metadata_id: format!("md-{logical}"),
        change_tracking_enabled: true,
        is_intersect: false,
        attributes,
    }
}

fn plan(entity: &EntityMetadata, select: &[&str]) -> Result<ColumnPlan, SourceError> {
    let select: Vec<String> = select.iter().map(|s| (*s).to_owned()).collect();
    ColumnPlan::new(entity, &select)
}

#[test]
fn a_lookup_name_comes_from_its_formatted_value_and_selects_the_lookup() {
    let account = entity(
        "account",
        "accounts",
        vec![
            attribute("name", K::String, &[]),
            attribute("primarycontactid", K::Lookup, &["contact"]),
            part_of("primarycontactidname", K::String, "primarycontactid"),
            part_of("primarycontactidyominame", K::String, "primarycontactid"),
        ],
    );
    let names = ["name", "primarycontactidname", "primarycontactidyominame"];
    let plan = plan(&account, &names).expect("plan");
    assert_eq!(
        plan.select_clause(),
        "name,_primarycontactid_value,accountid,versionnumber",
        "the lookup is selected in place of its name; the yomi name is nowhere"
    );
    assert_eq!(plan.columns[2].source, WireSource::Absent);
    assert_eq!(
        plan.annotations(),
        "Microsoft.Dynamics.CRM.lookuplogicalname,OData.Community.Display.V1.FormattedValue"
    );
    let page = parse_page(&sample("formatted-values.json"), &plan, Some("l")).expect("page");
    let row = upsert(&page.changes[0]);
    assert_eq!(
        row.values,
        [
            text("Litware, Inc. (sample)"),
            text("Susanna Stubberod (sample)"),
            Value::Null
        ]
    );
}

#[test]
fn a_customer_lookup_gives_its_name_and_type_beside_its_value() {
    let incident = entity(
        "incident",
        "incidents",
        vec![
            attribute("customerid", K::Customer, &["account", "contact"]),
            part_of("customeridname", K::String, "customerid"),
            part_of("customeridtype", K::EntityName, "customerid"),
        ],
    );
    let select = ["customerid", "customeridname", "customeridtype"];
    let plan = plan(&incident, &select).expect("plan");
    assert_eq!(
        plan.select_clause(),
        "_customerid_value,incidentid,versionnumber"
    );
    let entity = String::from_utf8(sample("lookup-customer-annotations.json")).expect("utf8");
    let body = format!(r#"{{"value":[{entity}],"@odata.deltaLink":"d"}}"#);
    let page = parse_page(body.as_bytes(), &plan, None).expect("page");
    let id = guid("7ddd0b31-ed8b-e511-80d2-00155d2a68d4");
    assert_eq!(
        upsert(&page.changes[0]).values,
        [
            Value::Lookup {
                id,
                target: Some("contact".into())
            },
            text("Susanna Stubberod (sample)"),
            text("contact"),
        ]
    );
}

#[test]
fn without_lookup_names_no_formatted_values_are_asked_for() {
    let owner = attribute("ownerid", K::Owner, &["systemuser", "team"]);
    let account = entity("account", "accounts", vec![owner]);
    let plan = plan(&account, &["ownerid"]).expect("plan");
    assert_eq!(
        plan.annotations(),
        "Microsoft.Dynamics.CRM.lookuplogicalname"
    );
}
