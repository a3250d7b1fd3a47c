//! Metadata discovery against the emulator's sample schema.

use des_core::ports::{Source, SourceError};
use des_core::{AttributeKind as K, DateTimeBehavior, EntityMetadata};

use crate::support::env;

fn attribute<'a>(entity: &'a EntityMetadata, name: &str) -> &'a des_core::AttributeMetadata {
    entity
        .attribute(name)
        .unwrap_or_else(|| panic!("{} has no {name}", entity.logical_name))
}

#[tokio::test]
async fn entities_carry_tracking_and_intersect_flags() {
    let env = env(5, 50).await;
    let all = env.client.entities().await.expect("entities");
    let find = |name: &str| {
        all.iter()
            .find(|e| e.logical_name == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let account = find("account");
    assert_eq!(account.entity_set_name, "accounts");
    assert_eq!(account.display_name.as_deref(), Some("Account"));
    assert!(account.change_tracking_enabled && !account.is_intersect);
    assert!(find("new_project").change_tracking_enabled);
    assert!(find("new_project_contact").is_intersect);
    assert!(
        !find("new_auditnote").change_tracking_enabled,
        "the untracked sample table"
    );
}

#[tokio::test]
async fn account_attributes_map_to_their_kinds() {
    let env = env(5, 50).await;
    let account = env
        .client
        .entity_metadata("account")
        .await
        .expect("account");
    assert_eq!(
        (
            account.entity_set_name.as_str(),
            account.primary_id_attribute.as_str()
        ),
        ("accounts", "accountid")
    );
    assert_eq!(account.primary_name_attribute.as_deref(), Some("name"));
    assert_eq!(account.object_type_code, Some(1));
    assert!(account.change_tracking_enabled);
    let expected = [
        ("accountid", K::Uniqueidentifier),
        ("name", K::String),
        ("description", K::Memo),
        ("numberofemployees", K::Integer),
        ("revenue", K::Money),
        ("creditonhold", K::Boolean),
        ("accountcategorycode", K::Picklist),
        ("new_region", K::Picklist),
        ("new_tags", K::MultiSelectPicklist),
        ("new_rating", K::Double),
        ("new_score", K::Decimal),
        ("new_foundedon", K::DateTime),
        ("primarycontactid", K::Lookup),
        ("entityimage", K::Image),
        ("entityimage_timestamp", K::BigInt),
        ("statecode", K::State),
        ("statuscode", K::Status),
        ("ownerid", K::Owner),
        ("owneridtype", K::EntityName),
        ("versionnumber", K::BigInt),
    ];
    for (name, kind) in expected {
        assert_eq!(attribute(&account, name).kind, kind, "{name}");
    }
    assert!(attribute(&account, "accountid").is_primary_id);
    assert!(
        !attribute(&account, "entityimage").is_readable(),
        "images are not exported"
    );
    assert_eq!(
        attribute(&account, "revenue_base").attribute_of.as_deref(),
        Some("revenue")
    );
}

#[tokio::test]
async fn casts_fill_lengths_precisions_behaviours_and_targets() {
    let env = env(5, 50).await;
    let account = env
        .client
        .entity_metadata("account")
        .await
        .expect("account");
    assert_eq!(attribute(&account, "name").max_length, Some(160));
    assert_eq!(attribute(&account, "creditlimit").precision, Some(2));
    assert_eq!(attribute(&account, "exchangerate").precision, Some(10));
    let founded = attribute(&account, "new_foundedon").date_time_behavior;
    assert_eq!(founded, Some(DateTimeBehavior::DateOnly));
    assert!(
        attribute(&account, "createdon")
            .date_time_behavior
            .is_some()
    );
    assert_ne!(
        attribute(&account, "createdon").date_time_behavior,
        Some(DateTimeBehavior::DateOnly)
    );
    assert_eq!(
        attribute(&account, "primarycontactid").targets,
        vec!["contact".to_owned()]
    );
    let mut owner = attribute(&account, "ownerid").targets.clone();
    owner.sort();
    assert_eq!(owner, vec!["systemuser".to_owned(), "team".to_owned()]);
    let contact = env
        .client
        .entity_metadata("contact")
        .await
        .expect("contact");
    let customer = attribute(&contact, "parentcustomerid");
    assert_eq!(customer.kind, K::Customer);
    assert_eq!(customer.targets.len(), 2);
}

#[tokio::test]
async fn option_sets_come_with_labels() {
    let env = env(5, 50).await;
    let account = env
        .client
        .entity_metadata("account")
        .await
        .expect("account");
    let local = attribute(&account, "accountcategorycode")
        .option_set
        .clone()
        .expect("options");
    assert_eq!(local.name, "account_accountcategorycode");
    assert!(!local.is_global);
    let labels: Vec<(i32, String)> = local
        .options
        .iter()
        .map(|o| {
            (
                o.value,
                o.labels
                    .first()
                    .map(|l| l.label.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        vec![
            (1, "Preferred Customer".to_owned()),
            (2, "Standard".to_owned())
        ]
    );
    assert_eq!(local.options[0].labels[0].language_code, 1033);
    let region = attribute(&account, "new_region")
        .option_set
        .clone()
        .expect("global options");
    assert!(region.is_global && region.name == "new_region" && region.options.len() == 5);
    let tags = attribute(&account, "new_tags")
        .option_set
        .clone()
        .expect("multi-select options");
    assert_eq!(tags.options.len(), 4);
    let boolean = attribute(&account, "creditonhold")
        .option_set
        .clone()
        .expect("boolean options");
    let mut values: Vec<i32> = boolean.options.iter().map(|o| o.value).collect();
    values.sort_unstable();
    assert_eq!(values, vec![0, 1]);
    let status = attribute(&account, "statuscode")
        .option_set
        .clone()
        .expect("status options");
    assert!(
        status.options.iter().all(|o| o.state.is_some()),
        "status options name their state"
    );
    assert_eq!(
        attribute(&account, "statecode")
            .option_set
            .as_ref()
            .map(|s| s.options.len()),
        Some(2)
    );
}

#[tokio::test]
async fn many_to_many_relationships_and_global_option_sets() {
    let env = env(5, 50).await;
    let relationships = env.client.relationships().await.expect("relationships");
    let project = relationships
        .iter()
        .find(|r| r.intersect_entity_name == "new_project_contact")
        .expect("project-contact relationship");
    assert_eq!(
        (
            project.entity1_logical_name.as_str(),
            project.entity2_logical_name.as_str()
        ),
        ("new_project", "contact")
    );
    assert_eq!(project.entity1_intersect_attribute, "new_projectid");
    assert_eq!(project.entity2_intersect_attribute, "contactid");
    assert!(!project.schema_name.is_empty() && !project.metadata_id.is_empty());
    let sets = env
        .client
        .global_option_sets()
        .await
        .expect("global option sets");
    let region = sets
        .iter()
        .find(|s| s.name == "new_region")
        .expect("new_region");
    assert!(region.is_global);
    assert_eq!(region.options[0].labels[0].label, "North America");
}

#[tokio::test]
async fn unknown_entity_surfaces_the_service_error() {
    let env = env(5, 50).await;
    match env.client.entity_metadata("no_such_table").await {
        Err(SourceError::Service {
            status, message, ..
        }) => {
            assert_eq!(status, 404);
            assert!(!message.is_empty());
        }
        other => panic!("expected a 404 service error, got {other:?}"),
    }
}
