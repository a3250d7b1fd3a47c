//! Realistic metadata for the planner's tests: an account with one attribute of every kind.

use crate::metadata::{
    AttributeKind as K, AttributeMetadata, DateTimeBehavior, EntityMetadata, LocalizedLabel,
    ManyToManyRelationship, OptionMetadata, OptionSetMetadata,
};

pub fn attr(name: &str, kind: K, column_number: i32) -> AttributeMetadata {
    AttributeMetadata {
        logical_name: name.into(),
        schema_name: name.into(),
        metadata_id: format!("md-{name}"),
        kind,
        attribute_of: None,
        is_valid_for_read: true,
        is_valid_odata: true,
        is_primary_id: false,
        column_number: Some(column_number),
        max_length: None,
        precision: None,
        targets: Vec::new(),
        date_time_behavior: None,
        option_set: None,
    }
}

fn label(text: &str, language_code: i32) -> LocalizedLabel {
    LocalizedLabel {
        label: text.into(),
        language_code,
    }
}

/// An option labelled in English (the user's language) and German.
pub fn option(value: i32, en: &str, de: &str, state: Option<i32>) -> OptionMetadata {
    OptionMetadata {
        value,
        labels: vec![label(en, 1033), label(de, 1031)],
        user_localized_label: Some(label(en, 1033)),
        state,
    }
}

pub fn options(name: &str, is_global: bool, options: Vec<OptionMetadata>) -> OptionSetMetadata {
    OptionSetMetadata {
        name: name.into(),
        is_global,
        options,
    }
}

fn with(mut a: AttributeMetadata, f: impl FnOnce(&mut AttributeMetadata)) -> AttributeMetadata {
    f(&mut a);
    a
}

fn lookup(name: &str, kind: K, n: i32, targets: &[&str]) -> AttributeMetadata {
    with(attr(name, kind, n), |a| {
        a.targets = targets.iter().map(|t| t.to_string()).collect()
    })
}

fn sized(
    name: &str,
    kind: K,
    n: i32,
    max_length: Option<i32>,
    precision: Option<i32>,
) -> AttributeMetadata {
    with(attr(name, kind, n), |a| {
        a.max_length = max_length;
        a.precision = precision;
    })
}

fn state_attrs() -> Vec<AttributeMetadata> {
    let state = options(
        "account_statecode",
        false,
        vec![
            option(0, "Active", "Aktiv", None),
            option(1, "Inactive", "Inaktiv", None),
        ],
    );
    let status = options(
        "account_statuscode",
        false,
        vec![
            option(1, "Active", "Aktiv", Some(0)),
            option(2, "Inactive", "Inaktiv", Some(1)),
        ],
    );
    vec![
        with(attr("statuscode", K::Status, 41), |a| {
            a.option_set = Some(status)
        }),
        with(attr("statecode", K::State, 40), |a| {
            a.option_set = Some(state)
        }),
    ]
}

fn choice_attrs() -> Vec<AttributeMetadata> {
    let industry = options(
        "account_industrycode",
        false,
        vec![
            option(1, "Accounting", "Buchhaltung", None),
            option(2, "Agriculture", "Landwirtschaft", None),
        ],
    );
    let two = options(
        "donotemail",
        false,
        vec![
            option(0, "Allow", "Zulassen", None),
            option(1, "Do Not Allow", "Nicht zulassen", None),
        ],
    );
    vec![
        with(attr("industrycode", K::Picklist, 30), |a| {
            a.option_set = Some(industry)
        }),
        with(attr("new_tier", K::Picklist, 31), |a| {
            a.option_set = Some(tier())
        }),
        with(attr("new_tags", K::MultiSelectPicklist, 32), |a| {
            a.option_set = Some(tier())
        }),
        with(attr("donotemail", K::Boolean, 20), |a| {
            a.option_set = Some(two)
        }),
    ]
}

pub fn tier() -> OptionSetMetadata {
    options(
        "new_tier",
        true,
        vec![
            option(1, "Gold", "Gold", None),
            option(2, "Silver", "Silber", None),
        ],
    )
}

fn skipped_attrs() -> Vec<AttributeMetadata> {
    vec![
        attr("entityimage", K::Image, 60),
        attr("new_contract", K::File, 61),
        attr("new_virtual", K::Virtual, 62),
        // The name column of a lookup the entity does not export.
        companion("createdbyname", K::String, 63, "createdby", Some(100)),
    ]
}

/// A column Dataverse keeps beside a lookup (`AttributeOf`), not a Web API property.
fn companion(
    name: &str,
    kind: K,
    n: i32,
    lookup: &str,
    max_length: Option<i32>,
) -> AttributeMetadata {
    with(attr(name, kind, n), |a| {
        a.attribute_of = Some(lookup.into());
        a.is_valid_odata = false;
        a.max_length = max_length;
    })
}

/// An account with one attribute of every kind DES exported, plus some it skipped, listed in
/// no particular order.
pub fn account() -> EntityMetadata {
    let mut attributes = vec![
        with(attr("accountid", K::Uniqueidentifier, 1), |a| {
            a.is_primary_id = true
        }),
        sized("name", K::String, 2, Some(160), None),
        sized("description", K::Memo, 3, Some(2000), None),
        sized("revenue", K::Money, 50, None, Some(2)),
        sized("revenue_base", K::Money, 51, None, Some(2)),
        sized("exchangerate", K::Decimal, 4, None, Some(10)),
        sized("address1_latitude", K::Double, 5, None, Some(5)),
        attr("numberofemployees", K::Integer, 6),
        attr("versionnumber", K::BigInt, 7),
        attr("createdon", K::DateTime, 8),
        with(attr("new_founded", K::DateTime, 9), |a| {
            a.date_time_behavior = Some(DateTimeBehavior::DateOnly);
        }),
        companion("owneridtype", K::EntityName, 10, "ownerid", None),
        attr("entityimageid", K::Uniqueidentifier, 11),
        sized("entityimage_url", K::String, 12, Some(200), None),
        attr("entityimage_timestamp", K::BigInt, 13),
        sized("new_notes", K::String, 14, Some(1_048_576), None),
        lookup("primarycontactid", K::Lookup, 21, &["contact"]),
        lookup("ownerid", K::Owner, 22, &["systemuser", "team"]),
        lookup("parentaccountid", K::Lookup, 23, &["account"]),
        companion("owneridname", K::String, 15, "ownerid", Some(100)),
        companion("owneridyominame", K::String, 16, "ownerid", Some(100)),
    ];
    attributes.extend(state_attrs());
    attributes.extend(choice_attrs());
    attributes.extend(skipped_attrs());
    EntityMetadata {
        logical_name: "account".into(),
        schema_name: "Account".into(),
        entity_set_name: "accounts".into(),
        primary_id_attribute: "accountid".into(),
        primary_name_attribute: Some("name".into()),
        display_name: Some("Account".into()),
        object_type_code: Some(1),
        metadata_id: "md-account".into(),
        change_tracking_enabled: true,
        is_intersect: false,
        attributes,
    }
}

/// The `systemuserroles` intersect entity and its relationship.
pub fn user_roles() -> (ManyToManyRelationship, EntityMetadata) {
    let relationship = ManyToManyRelationship {
        schema_name: "systemuserroles_association".into(),
        entity1_logical_name: "systemuser".into(),
        entity2_logical_name: "role".into(),
        intersect_entity_name: "systemuserroles".into(),
        entity1_intersect_attribute: "systemuserid".into(),
        entity2_intersect_attribute: "roleid".into(),
        metadata_id: "md-rel".into(),
    };
    let intersect = EntityMetadata {
        logical_name: "systemuserroles".into(),
        schema_name: "SystemUserRoles".into(),
        entity_set_name: "systemuserrolescollection".into(),
        primary_id_attribute: "systemuserroleid".into(),
        primary_name_attribute: None,
        display_name: None,
        object_type_code: Some(15),
        metadata_id: "md-systemuserroles".into(),
        change_tracking_enabled: true,
        is_intersect: true,
        attributes: vec![
            with(attr("systemuserroleid", K::Uniqueidentifier, 1), |a| {
                a.is_primary_id = true
            }),
            attr("systemuserid", K::Uniqueidentifier, 2),
            attr("roleid", K::Uniqueidentifier, 3),
            attr("versionnumber", K::BigInt, 4),
        ],
    };
    (relationship, intersect)
}
