//! Metadata bodies: entities, attributes, option sets, relationships.

use dataverse::metadata::{
    parse_attribute, parse_attributes, parse_entities, parse_entity, parse_option_set,
    parse_relationship,
};
use des_core::AttributeKind;

use super::sample;

#[test]
fn entity_definition_maps_to_the_model() {
    let entity = parse_entity(&sample("entity-definition-full.json")).expect("entity");
    assert_eq!(entity.logical_name, "new_bankaccount");
    assert_eq!(entity.schema_name, "new_BankAccount");
    assert_eq!(entity.entity_set_name, "new_bankaccounts");
    assert_eq!(entity.primary_id_attribute, "new_bankaccountid");
    assert_eq!(
        entity.primary_name_attribute.as_deref(),
        Some("new_accountname")
    );
    assert_eq!(entity.display_name.as_deref(), Some("Bank Business Name"));
    assert_eq!(entity.object_type_code, Some(10009));
    assert_eq!(entity.metadata_id, "417129e1-207c-e511-80d2-00155d2a68d2");
    assert!(!entity.change_tracking_enabled && !entity.is_intersect);
    assert!(entity.attributes.is_empty());
}

#[test]
fn entity_definition_lists_parse_with_partial_selects() {
    let with_label = parse_entities(&sample("entitydefinitions.json")).expect("list");
    assert_eq!(with_label.len(), 1);
    assert_eq!(with_label[0].display_name.as_deref(), Some("Account"));
    assert_eq!(with_label[0].entity_set_name, "accounts");
    let ids_only = parse_entities(&sample("entitydefinitions-metadataid.json")).expect("list");
    assert_eq!(ids_only.len(), 1);
    assert_eq!(ids_only[0].display_name, None);
}

#[test]
fn attributes_map_kind_from_type_or_odata_type() {
    let boolean = parse_attribute(&sample("attribute-boolean.json")).expect("attribute");
    assert_eq!(boolean.kind, AttributeKind::Boolean);
    assert_eq!(
        (boolean.logical_name.as_str(), boolean.schema_name.as_str()),
        ("new_boolean", "new_Boolean")
    );
    assert_eq!(boolean.column_number, Some(35));
    assert!(boolean.is_valid_for_read && boolean.is_valid_odata && !boolean.is_primary_id);
    assert_eq!(boolean.attribute_of, None);
    let listed = parse_attributes(&sample("attributes.json")).expect("attributes");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].kind,
        AttributeKind::Picklist,
        "from @odata.type alone"
    );
    assert_eq!(
        listed[0].metadata_id,
        "118771ca-6fb9-4f60-8fd4-99b6124b63ad"
    );
}

#[test]
fn local_option_set_with_labels() {
    let set = parse_option_set(&sample("optionset.json"), "account")
        .expect("parsed")
        .expect("set");
    assert_eq!(set.name, "account_accountcategorycode");
    assert!(!set.is_global);
    let values: Vec<(i32, &str)> = set
        .options
        .iter()
        .map(|o| {
            (
                o.value,
                o.user_localized_label
                    .as_ref()
                    .expect("label")
                    .label
                    .as_str(),
            )
        })
        .collect();
    assert_eq!(values, vec![(1, "Preferred Customer"), (2, "Standard")]);
    assert_eq!(set.options[0].labels[0].language_code, 1033);
}

#[test]
fn relationship_bodies() {
    let many = parse_relationship(&sample("relationship-manytomany-create.json")).expect("m:n");
    assert_eq!(many.schema_name, "new_accounts_campaigns");
    assert_eq!(
        (
            many.entity1_logical_name.as_str(),
            many.entity2_logical_name.as_str()
        ),
        ("account", "campaign")
    );
    assert_eq!(many.intersect_entity_name, "new_accounts_campaigns");
    // The 1:N body is not an M:N relationship; its lookup column is an attribute definition.
    let one: serde_json::Value =
        serde_json::from_slice(&sample("relationship-onetomany-create.json")).expect("json");
    let lookup = parse_attribute(one["Lookup"].to_string().as_bytes()).expect("lookup");
    assert_eq!(
        (lookup.kind, lookup.schema_name.as_str()),
        (AttributeKind::Lookup, "new_AccountOwner")
    );
}
