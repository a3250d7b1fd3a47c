use super::fixtures::{account, tier, user_roles};
use super::*;
use crate::record::Value;

fn naming(prefix: &str, write_delete_log: bool) -> Naming {
    Naming {
        schema: "dbo".into(),
        prefix: prefix.into(),
        write_delete_log,
    }
}

fn full_plan() -> SchemaPlan {
    plan(
        &naming("crm", true),
        &[account()],
        &[user_roles()],
        &[tier()],
    )
}

fn names(table: &TableDef) -> Vec<&str> {
    table.columns.iter().map(|c| c.name.as_str()).collect()
}

fn ty(table: &TableDef, column: &str) -> SqlType {
    table
        .column(column)
        .unwrap_or_else(|| panic!("no column {column}"))
        .ty
}

fn text(max_len: Option<u32>) -> SqlType {
    SqlType::Text { max_len }
}

fn decimal(scale: u8) -> SqlType {
    SqlType::Decimal {
        precision: 38,
        scale,
    }
}

#[test]
fn entity_table_has_des_name_and_column_order() {
    let table = plan_entity_table(&naming("crm", false), &account());
    assert_eq!(
        (table.schema.as_str(), table.name.as_str()),
        ("dbo", "crm_account")
    );
    assert_eq!(table.kind, TableKind::Entity("account".into()));
    assert_eq!(table.primary_key, ["Id"]);
    assert_eq!(
        names(&table),
        [
            "Id",
            "SinkCreatedOn",
            "SinkModifiedOn",
            "statecode",
            "statuscode",
            "industrycode",
            "new_tier",
            "new_tags",
            "donotemail",
            "primarycontactid",
            "primarycontactid_entitytype",
            "ownerid",
            "ownerid_entitytype",
            "parentaccountid",
            "parentaccountid_entitytype",
            "revenue",
            "revenue_base",
            "accountid",
            "name",
            "description",
            "exchangerate",
            "address1_latitude",
            "numberofemployees",
            "versionnumber",
            "createdon",
            "new_founded",
            "owneridtype",
            "entityimageid",
            "entityimage_url",
            "entityimage_timestamp",
            "new_notes",
            "owneridname",
            "owneridyominame",
        ]
    );
}

#[test]
fn entity_table_without_prefix_is_the_logical_name() {
    assert_eq!(
        plan_entity_table(&naming("", false), &account()).name,
        "account"
    );
}

#[test]
fn types_follow_des_mapping() {
    let t = plan_entity_table(&naming("crm", false), &account());
    let id = t.column("Id").unwrap();
    assert_eq!(
        (id.ty, id.nullable, &id.source),
        (SqlType::Guid, false, &ColumnSource::Id)
    );
    let cases = [
        ("SinkCreatedOn", SqlType::DateTime),
        ("accountid", SqlType::Guid),
        ("primarycontactid", SqlType::Guid),
        ("ownerid_entitytype", text(Some(128))),
        ("owneridtype", text(Some(4000))),
        ("owneridname", text(Some(100))),
        ("owneridyominame", text(Some(100))),
        ("statecode", SqlType::Int),
        ("industrycode", SqlType::Int),
        ("donotemail", SqlType::Bit),
        ("numberofemployees", SqlType::Int),
        ("versionnumber", SqlType::BigInt),
        ("entityimage_timestamp", SqlType::BigInt),
        ("exchangerate", decimal(10)),
        ("address1_latitude", decimal(5)),
        ("revenue", decimal(2)),
        ("revenue_base", decimal(4)),
        ("name", text(Some(160))),
        ("entityimage_url", text(Some(200))),
        ("new_notes", text(None)),
        ("description", text(None)),
        ("new_tags", text(None)),
        ("createdon", SqlType::DateTime),
        ("new_founded", SqlType::DateTime),
    ];
    for (column, expected) in cases {
        assert_eq!(ty(&t, column), expected, "{column}");
    }
    let entity_type = t.column("ownerid_entitytype").unwrap();
    assert_eq!(
        entity_type.source,
        ColumnSource::LookupEntityType("ownerid".into())
    );
    for skipped in [
        "entityimage",
        "new_contract",
        "new_virtual",
        "createdbyname",
    ] {
        assert!(
            t.column(skipped).is_none(),
            "{skipped} must not be exported"
        );
    }
}

#[test]
fn versionnumber_is_added_when_metadata_lacks_it() {
    let mut entity = account();
    entity
        .attributes
        .retain(|a| a.logical_name != "versionnumber");
    let t = plan_entity_table(&naming("crm", false), &entity);
    assert_eq!(
        t.columns.last().map(|c| (c.name.as_str(), c.ty)),
        Some(("versionnumber", SqlType::BigInt))
    );
}

#[test]
fn relationship_table_is_named_after_the_intersect_entity() {
    let plan = full_plan();
    let table = plan.table_for("systemuserroles").expect("M:N table");
    assert_eq!(table.name, "crm_systemuserroles");
    assert_eq!(
        table.kind,
        TableKind::Relationship("systemuserroles".into())
    );
    assert_eq!(
        names(table),
        [
            "Id",
            "SinkCreatedOn",
            "SinkModifiedOn",
            "systemuserid",
            "roleid",
            "systemuserroleid",
            "versionnumber",
        ]
    );
    assert_eq!(ty(table, "roleid"), SqlType::Guid);
    assert_eq!(table.primary_key, ["Id"]);
}

#[test]
fn metadata_tables_have_des_names_columns_and_no_sink_columns() {
    let plan = full_plan();
    let tables: Vec<(&str, Vec<&str>)> = plan
        .metadata
        .iter()
        .map(|m| (m.table.name.as_str(), names(&m.table)))
        .collect();
    let label = [
        "IsUserLocalizedLabel",
        "LocalizedLabelLanguageCode",
        "LocalizedLabel",
    ];
    let with_label = |key: &[&'static str]| [key, &label].concat();
    assert_eq!(
        tables,
        [
            (
                "crm_OptionSetMetadata",
                with_label(&["EntityName", "OptionSetName", "Option"])
            ),
            (
                "crm_GlobalOptionSetMetadata",
                with_label(&["OptionSetName", "Option"])
            ),
            ("crm_StateMetadata", with_label(&["EntityName", "State"])),
            (
                "crm_StatusMetadata",
                with_label(&["EntityName", "State", "Status"])
            ),
            (
                "crm_TargetMetadata",
                vec![
                    "EntityName",
                    "AttributeName",
                    "ReferencedEntity",
                    "ReferencedAttribute",
                ]
            ),
            (
                "crm_AttributeMetadata",
                vec![
                    "Id",
                    "EntityName",
                    "AttributeName",
                    "AttributeType",
                    "AttributeTypeCode",
                    "Version",
                    "Timestamp",
                    "MetadataId",
                    "Precision",
                    "MaxLength",
                ]
            ),
        ]
    );
    let option_set = &plan.metadata[0].table;
    assert_eq!(ty(option_set, "LocalizedLabel"), text(Some(256)));
    assert_eq!(ty(option_set, "EntityName"), text(Some(64)));
    let bare = plan_names_without_prefix();
    assert_eq!(bare[..2], ["OptionSetMetadata", "GlobalOptionSetMetadata"]);
}

fn plan_names_without_prefix() -> Vec<String> {
    let p = plan(&naming("", true), &[account()], &[], &[]);
    let mut names: Vec<String> = p.metadata.iter().map(|m| m.table.name.clone()).collect();
    names.extend(p.delete_log.map(|t| t.name));
    names
}

fn rows<'a>(plan: &'a SchemaPlan, table: &str) -> &'a [Vec<Value>] {
    let found = plan
        .metadata
        .iter()
        .find(|m| m.table.name == format!("crm_{table}"));
    &found.unwrap_or_else(|| panic!("no {table}")).rows
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

#[test]
fn option_set_rows_carry_every_label_and_flag_the_user_one() {
    let plan = full_plan();
    let industry: Vec<&Vec<Value>> = rows(&plan, "OptionSetMetadata")
        .iter()
        .filter(|r| r[1] == t("industrycode"))
        .collect();
    let row = |option: i64, user: bool, language: i64, label: &str| {
        vec![
            t("account"),
            t("industrycode"),
            Value::Int(option),
            Value::Bool(user),
            Value::Int(language),
            t(label),
        ]
    };
    assert_eq!(
        industry.into_iter().cloned().collect::<Vec<_>>(),
        [
            row(1, false, 1033, "Accounting"),
            row(1, false, 1031, "Buchhaltung"),
            row(1, true, 1033, "Accounting"),
            row(2, false, 1033, "Agriculture"),
            row(2, false, 1031, "Landwirtschaft"),
            row(2, true, 1033, "Agriculture"),
        ],
        "every LocalizedLabels entry with flag 0, the UserLocalizedLabel again with flag 1"
    );
    let mut option_sets: Vec<&Value> = rows(&plan, "OptionSetMetadata")
        .iter()
        .map(|r| &r[1])
        .collect();
    option_sets.dedup();
    let expected = [
        t("industrycode"),
        t("new_tier"),
        t("new_tags"),
        t("donotemail"),
    ];
    assert_eq!(option_sets, expected.iter().collect::<Vec<_>>());
    assert_eq!(plan.metadata[0].replace_key, "EntityName");
}

#[test]
fn global_option_sets_are_listed_once() {
    let plan = full_plan();
    let global = rows(&plan, "GlobalOptionSetMetadata");
    assert_eq!(
        global.len(),
        6,
        "two options, two languages plus the user's label, once despite two references"
    );
    let gold = |user: bool| {
        [
            t("new_tier"),
            Value::Int(1),
            Value::Bool(user),
            Value::Int(1033),
            t("Gold"),
        ]
    };
    assert_eq!(global[0], gold(false), "the LocalizedLabels entry");
    assert_eq!(global[2], gold(true), "the UserLocalizedLabel");
    assert_eq!(plan.metadata[1].replace_key, "OptionSetName");
}

#[test]
fn state_and_status_rows_link_status_to_state() {
    let plan = full_plan();
    let state = rows(&plan, "StateMetadata");
    let inactive = |user: bool| {
        [
            t("account"),
            Value::Int(1),
            Value::Bool(user),
            Value::Int(1033),
            t("Inactive"),
        ]
    };
    assert_eq!(state[3], inactive(false), "the LocalizedLabels entry");
    assert_eq!(state[5], inactive(true), "the UserLocalizedLabel");
    let status = rows(&plan, "StatusMetadata");
    assert_eq!(status.len(), 6);
    assert_eq!(
        status[5],
        [
            t("account"),
            Value::Int(1),
            Value::Int(2),
            Value::Bool(true),
            Value::Int(1033),
            t("Inactive"),
        ]
    );
}

#[test]
fn target_rows_name_each_lookup_target() {
    let plan = full_plan();
    let targets = rows(&plan, "TargetMetadata");
    let row = |a: &str, e: &str, id: &str| vec![t("account"), t(a), t(e), t(id)];
    assert_eq!(
        targets,
        [
            row("primarycontactid", "contact", "contactid"),
            row("ownerid", "systemuser", "systemuserid"),
            row("ownerid", "team", "teamid"),
            row("parentaccountid", "account", "accountid"),
        ]
    );
}

#[test]
fn attribute_rows_cover_exported_attributes_only() {
    let plan = full_plan();
    let attrs = rows(&plan, "AttributeMetadata");
    let exported = plan.table_for("account").unwrap().columns.iter();
    let attribute_columns = exported
        .filter(|c| matches!(c.source, ColumnSource::Attribute(_)))
        .count();
    assert_eq!(attrs.len(), attribute_columns);
    let name = attrs.iter().find(|r| r[2] == t("name")).expect("name row");
    assert_eq!(name[3..5], [t("String"), Value::Int(14)]);
    assert_eq!(name[7..], [t("md-name"), Value::Null, Value::Int(160)]);
    let tags = attrs
        .iter()
        .find(|r| r[2] == t("new_tags"))
        .expect("multi-select row");
    assert_eq!(tags[4], Value::Int(17));
    let ids: Vec<&Value> = attrs.iter().map(|r| &r[0]).collect();
    assert_eq!(ids.first(), Some(&&Value::Int(1)));
    assert!(!attrs.iter().any(|r| r[2] == t("entityimage")));
}

#[test]
fn delete_log_only_when_asked() {
    let log = full_plan().delete_log.expect("delete log planned");
    assert_eq!(log.name, "crm_DeleteLog");
    assert_eq!(log.kind, TableKind::DeleteLog);
    assert_eq!(
        names(&log),
        [
            "Id",
            "EntityName",
            "RecordId",
            "SinkDeleteTime",
            "VersionNumber"
        ]
    );
    assert_eq!(
        (ty(&log, "Id"), log.primary_key.clone()),
        (SqlType::BigInt, vec!["Id".to_owned()])
    );
    assert_eq!(ty(&log, "RecordId"), text(Some(64)));
    assert_eq!(
        plan_names_without_prefix().last().map(String::as_str),
        Some("DeleteLog")
    );
    assert!(
        plan(&naming("crm", false), &[account()], &[], &[])
            .delete_log
            .is_none()
    );
}

#[test]
fn diff_adds_and_widens_but_never_drops_or_narrows() {
    let n = naming("crm", false);
    let old = plan_entity_table(&n, &account());
    let mut entity = account();
    for a in &mut entity.attributes {
        match a.logical_name.as_str() {
            "name" => a.max_length = Some(250),
            "entityimage_url" => a.max_length = Some(100),
            "exchangerate" => a.precision = Some(12),
            "description" => a.max_length = Some(100),
            _ => {}
        }
    }
    entity
        .attributes
        .retain(|a| a.logical_name != "numberofemployees");
    entity.attributes.push(super::fixtures::attr(
        "new_score",
        crate::metadata::AttributeKind::Integer,
        99,
    ));
    let new = plan_entity_table(&n, &entity);
    let changes = diff(&old, &new);
    assert_eq!(
        changes,
        [
            SchemaChange::WidenColumn {
                column: "name".into(),
                from: text(Some(160)),
                to: text(Some(250))
            },
            SchemaChange::WidenColumn {
                column: "exchangerate".into(),
                from: decimal(10),
                to: decimal(12)
            },
            SchemaChange::AddColumn(new.column("new_score").unwrap().clone()),
        ]
    );
    assert!(diff(&new, &new).is_empty());
}

#[test]
fn widening_rules() {
    assert!(widens(text(Some(100)), text(None)));
    assert!(!widens(text(None), text(Some(100))));
    assert!(!widens(text(Some(100)), text(Some(100))));
    assert!(!widens(SqlType::Int, SqlType::BigInt));
    assert!(!widens(decimal(4), decimal(2)));
}

#[test]
fn each_entity_gets_a_labeled_view_with_a_label_per_choice() {
    let plan = full_plan();
    let views = super::labeled_views(&plan);
    let account = views
        .iter()
        .find(|v| v.entity == "account")
        .expect("account view");
    assert_eq!(account.name, "crm_account_Labeled");
    assert_eq!(account.table, "crm_account");
    let labels: Vec<(&str, &str, &super::LabelSource, bool)> = account
        .labels
        .iter()
        .map(|l| (l.column.as_str(), l.name.as_str(), &l.source, l.is_bit))
        .collect();
    use super::LabelSource as S;
    for expected in [
        ("statecode", "statecodename", &S::State, false),
        ("statuscode", "statuscodename", &S::Status, false),
        ("industrycode", "industrycodename", &S::Option, false),
        ("new_tags", "new_tagsname", &S::MultiSelect, false),
        ("donotemail", "donotemailname", &S::Option, true),
    ] {
        assert!(
            labels.contains(&expected),
            "{expected:?} missing from {labels:?}"
        );
    }
    assert_eq!(
        views.len(),
        plan.tables
            .iter()
            .filter(|t| matches!(t.kind, TableKind::Entity(_)))
            .count()
    );
}

#[test]
fn lookup_name_yomi_and_type_columns_are_exported_as_attributes_of_their_lookup() {
    use crate::metadata::LookupPart;
    let entity = account();
    let part = |name: &str| {
        let attr = entity.attribute(name).expect("fixture attribute");
        entity
            .lookup_part(attr)
            .map(|(l, p)| (l.logical_name.as_str(), p))
    };
    assert_eq!(part("owneridname"), Some(("ownerid", LookupPart::Name)));
    assert_eq!(
        part("owneridyominame"),
        Some(("ownerid", LookupPart::YomiName))
    );
    assert_eq!(
        part("owneridtype"),
        Some(("ownerid", LookupPart::EntityType))
    );
    assert_eq!(part("createdbyname"), None, "its lookup is not exported");
    assert_eq!(part("name"), None);
    let table = plan_entity_table(&naming("crm", false), &entity);
    for name in ["owneridname", "owneridyominame", "owneridtype"] {
        let column = table.column(name).expect("exported");
        assert_eq!(column.source, ColumnSource::Attribute(name.into()));
    }
    let attrs = rows(&full_plan(), "AttributeMetadata").to_vec();
    assert!(attrs.iter().any(|r| r[2] == t("owneridname")));
}
