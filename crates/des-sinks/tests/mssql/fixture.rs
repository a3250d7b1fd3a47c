//! A realistic plan: an account with an attribute of every kind DES exported, the
//! `systemuserroles` M:N table, the six metadata tables and `DeleteLog`, prefixed `crm`.

use des_core::metadata::{
    AttributeKind as K, AttributeMetadata, EntityMetadata, LocalizedLabel, ManyToManyRelationship,
    OptionMetadata, OptionSetMetadata,
};
use des_core::schema::{Naming, SchemaPlan, plan};

fn attr(name: &str, kind: K, column_number: i32) -> AttributeMetadata {
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

fn options(name: &str, values: &[(i32, &str, Option<i32>)]) -> OptionSetMetadata {
    let option = |(value, label, state): &(i32, &str, Option<i32>)| OptionMetadata {
        value: *value,
        labels: vec![LocalizedLabel {
            label: (*label).into(),
            language_code: 1033,
        }],
        user_localized_label: None,
        state: *state,
    };
    OptionSetMetadata {
        name: name.into(),
        is_global: false,
        options: values.iter().map(option).collect(),
    }
}

fn sized(
    name: &str,
    kind: K,
    n: i32,
    len: Option<i32>,
    precision: Option<i32>,
) -> AttributeMetadata {
    AttributeMetadata {
        max_length: len,
        precision,
        ..attr(name, kind, n)
    }
}

fn lookup(name: &str, kind: K, n: i32, targets: &[&str]) -> AttributeMetadata {
    AttributeMetadata {
        targets: targets.iter().map(|t| t.to_string()).collect(),
        ..attr(name, kind, n)
    }
}

/// A column Dataverse keeps beside the owner lookup (`AttributeOf`), no Web API property.
fn lookup_part(name: &str, kind: K, n: i32, max_length: Option<i32>) -> AttributeMetadata {
    AttributeMetadata {
        attribute_of: Some("ownerid".into()),
        is_valid_odata: false,
        max_length,
        ..attr(name, kind, n)
    }
}

fn with_options(a: AttributeMetadata, set: OptionSetMetadata) -> AttributeMetadata {
    AttributeMetadata {
        option_set: Some(set),
        ..a
    }
}

/// `name_len` sets `name`'s length; `later` adds a column, as a later metadata version would.
pub fn account(name_len: i32, later: bool) -> EntityMetadata {
    let mut attributes = vec![
        AttributeMetadata {
            is_primary_id: true,
            ..attr("accountid", K::Uniqueidentifier, 1)
        },
        sized("name", K::String, 2, Some(name_len), None),
        sized("description", K::Memo, 3, Some(2000), None),
        sized("exchangerate", K::Decimal, 4, None, Some(10)),
        sized("address1_latitude", K::Double, 5, None, Some(5)),
        attr("numberofemployees", K::Integer, 6),
        attr("versionnumber", K::BigInt, 7),
        attr("createdon", K::DateTime, 8),
        lookup_part("owneridtype", K::EntityName, 10, None),
        lookup_part("owneridname", K::String, 11, Some(100)),
        lookup_part("owneridyominame", K::String, 12, Some(100)),
        with_options(
            attr("donotemail", K::Boolean, 20),
            options(
                "donotemail",
                &[(0, "Allow", None), (1, "Do Not Allow", None)],
            ),
        ),
        lookup("primarycontactid", K::Lookup, 21, &["contact"]),
        lookup("ownerid", K::Owner, 22, &["systemuser", "team"]),
        with_options(
            attr("industrycode", K::Picklist, 30),
            options("account_industrycode", &[(1, "Accounting", None)]),
        ),
        with_options(
            attr("statecode", K::State, 40),
            options(
                "account_statecode",
                &[(0, "Active", None), (1, "Inactive", None)],
            ),
        ),
        with_options(
            attr("statuscode", K::Status, 41),
            options(
                "account_statuscode",
                &[(1, "Active", Some(0)), (2, "Inactive", Some(1))],
            ),
        ),
        sized("revenue", K::Money, 50, None, Some(2)),
        sized("revenue_base", K::Money, 51, None, Some(2)),
    ];
    if later {
        attributes.push(attr("new_score", K::Integer, 70));
    }
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

fn user_roles() -> (ManyToManyRelationship, EntityMetadata) {
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
            attr("systemuserroleid", K::Uniqueidentifier, 1),
            attr("systemuserid", K::Uniqueidentifier, 2),
            attr("roleid", K::Uniqueidentifier, 3),
            attr("versionnumber", K::BigInt, 4),
        ],
    };
    (relationship, intersect)
}

pub fn plan_with(account: EntityMetadata) -> SchemaPlan {
    let naming = Naming {
        schema: "dbo".into(),
        prefix: "crm".into(),
        write_delete_log: true,
    };
    plan(&naming, &[account], &[user_roles()], &[])
}

pub fn realistic_plan() -> SchemaPlan {
    plan_with(account(160, false))
}
