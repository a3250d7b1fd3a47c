//! The six DES metadata tables with their rows, and `DeleteLog`.
//!
//! Names and columns follow DES (`research/des-original.md` §2.4–2.5). Metadata tables get no
//! sink columns. Their rows are replaced per `EntityName` (per `OptionSetName` for global
//! option sets) whenever a plan is applied.

use super::columns::{column, sql_type};
use super::plan::Naming;
use super::types::{ColumnSource, MetadataTable, SqlType, TableDef, TableKind};
use crate::metadata::{AttributeKind, EntityMetadata, OptionMetadata, OptionSetMetadata};
use crate::record::Value;

const NAME: SqlType = SqlType::Text { max_len: Some(64) };
const LABEL: SqlType = SqlType::Text { max_len: Some(256) };
const LABEL_COLUMNS: [(&str, SqlType); 3] = [
    ("IsUserLocalizedLabel", SqlType::Bit),
    ("LocalizedLabelLanguageCode", SqlType::Int),
    ("LocalizedLabel", LABEL),
];

fn table(naming: &Naming, base: &str, kind: TableKind, cols: &[(&str, SqlType)]) -> TableDef {
    TableDef {
        schema: naming.schema.clone(),
        name: naming.table_name(base),
        kind,
        columns: cols
            .iter()
            .map(|(n, t)| column(n, *t, true, ColumnSource::Metadata))
            .collect(),
        primary_key: Vec::new(),
    }
}

fn metadata(naming: &Naming, base: &str, key_cols: &[(&str, SqlType)]) -> TableDef {
    table(
        naming,
        base,
        TableKind::Metadata,
        &[key_cols, &LABEL_COLUMNS].concat(),
    )
}

/// `DeleteLog`: `Id bigint` identity primary key, `EntityName`, `RecordId` (a string, as
/// DES's own clean-up query converts it), `SinkDeleteTime`, `VersionNumber`.
pub(super) fn delete_log_table(naming: &Naming) -> TableDef {
    let cols = [
        ("Id", SqlType::BigInt),
        ("EntityName", NAME),
        ("RecordId", NAME),
        ("SinkDeleteTime", SqlType::DateTime),
        ("VersionNumber", SqlType::BigInt),
    ];
    let mut log = table(naming, "DeleteLog", TableKind::DeleteLog, &cols);
    log.columns[0].nullable = false;
    log.primary_key = vec!["Id".to_owned()];
    log
}

/// The six metadata tables, in DES's order of mention, with their rows.
pub(super) fn metadata_tables(
    naming: &Naming,
    entities: &[EntityMetadata],
    global_option_sets: &[OptionSetMetadata],
) -> Vec<MetadataTable> {
    let by_entity = |table, rows| MetadataTable {
        table,
        rows,
        replace_key: "EntityName".into(),
    };
    let option_key = [
        ("EntityName", NAME),
        ("OptionSetName", NAME),
        ("Option", SqlType::Int),
    ];
    let global_key = [("OptionSetName", NAME), ("Option", SqlType::Int)];
    let state_key = [("EntityName", NAME), ("State", SqlType::Int)];
    let status_key = [
        ("EntityName", NAME),
        ("State", SqlType::Int),
        ("Status", SqlType::Int),
    ];
    let target = [
        ("EntityName", NAME),
        ("AttributeName", NAME),
        ("ReferencedEntity", NAME),
        ("ReferencedAttribute", NAME),
    ];
    vec![
        by_entity(
            metadata(naming, "OptionSetMetadata", &option_key),
            option_rows(entities),
        ),
        MetadataTable {
            table: metadata(naming, "GlobalOptionSetMetadata", &global_key),
            rows: global_rows(entities, global_option_sets),
            replace_key: "OptionSetName".into(),
        },
        by_entity(
            metadata(naming, "StateMetadata", &state_key),
            state_rows(entities),
        ),
        by_entity(
            metadata(naming, "StatusMetadata", &status_key),
            status_rows(entities),
        ),
        by_entity(
            table(naming, "TargetMetadata", TableKind::Metadata, &target),
            target_rows(entities),
        ),
        by_entity(attribute_table(naming), attribute_rows(entities)),
    ]
}

fn attribute_table(naming: &Naming) -> TableDef {
    let cols = [
        ("Id", SqlType::BigInt),
        ("EntityName", NAME),
        ("AttributeName", NAME),
        ("AttributeType", NAME),
        ("AttributeTypeCode", SqlType::Int),
        ("Version", SqlType::BigInt),
        ("Timestamp", SqlType::DateTime),
        ("MetadataId", NAME),
        ("Precision", SqlType::Int),
        ("MaxLength", SqlType::Int),
    ];
    table(naming, "AttributeMetadata", TableKind::Metadata, &cols)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// The label rows of one option, as DES and Synapse Link wrote them: one row per entry of
/// `LocalizedLabels` with `IsUserLocalizedLabel = 0`, and one more row for the
/// `UserLocalizedLabel` with `IsUserLocalizedLabel = 1`. So each language's label is there
/// under both flag values, and both joins found in the wild find it:
/// - Microsoft's DES-era Power BI templates (Microsoft/BusinessPlatformApps,
///   `Source/Apps/Microsoft/Released/Microsoft-D365CustomerService/Database`, view
///   `csrv.caseview`) join `StatusMetadata`/`StateMetadata`/`OptionSetMetadata` on
///   `IsUserLocalizedLabel = 0 AND LocalizedLabelLanguageCode = 1033`;
/// - scripts written against Synapse Link's `OptionsetMetadata` files (Azure/dataverse-to-sql,
///   `Optionsets_*.sql`, which keeps the flag as the text `True`/`False`) filter on the flag
///   being true to get the label the metadata was read in.
///
/// A table keyed like the templates' copies (`EntityName, State, IsUserLocalizedLabel,
/// LocalizedLabelLanguageCode`) holds both rows.
fn label_rows(option: &OptionMetadata) -> Vec<[Value; 3]> {
    let mut rows: Vec<[Value; 3]> = option
        .labels
        .iter()
        .map(|l| label_row(false, l.language_code, &l.label))
        .collect();
    if let Some(u) = &option.user_localized_label {
        rows.push(label_row(true, u.language_code, &u.label));
    }
    rows
}

fn label_row(is_user: bool, language: i32, label: &str) -> [Value; 3] {
    [
        Value::Bool(is_user),
        Value::Int(language.into()),
        text(label),
    ]
}

/// Rows `key ++ label` for every option and label of an option set.
fn options_rows(
    set: &OptionSetMetadata,
    key: impl Fn(&OptionMetadata) -> Vec<Value>,
) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for option in &set.options {
        for labels in label_rows(option) {
            rows.push([key(option), labels.to_vec()].concat());
        }
    }
    rows
}

fn option_value(o: &OptionMetadata) -> Value {
    Value::Int(o.value.into())
}

/// Local and global choices, multi-select choices and booleans, keyed by attribute name (the
/// way DES's and Synapse Link's `OptionSetMetadata` join to data columns).
fn option_rows(entities: &[EntityMetadata]) -> Vec<Vec<Value>> {
    use AttributeKind as K;
    let mut rows = Vec::new();
    for entity in entities {
        for attr in entity.readable_attributes() {
            if !matches!(attr.kind, K::Picklist | K::MultiSelectPicklist | K::Boolean) {
                continue;
            }
            let Some(set) = &attr.option_set else {
                continue;
            };
            let key = |o: &OptionMetadata| {
                vec![
                    text(&entity.logical_name),
                    text(&attr.logical_name),
                    option_value(o),
                ]
            };
            rows.extend(options_rows(set, key));
        }
    }
    rows
}

/// The profile's global option sets plus any that attributes reference, each once.
fn global_rows(entities: &[EntityMetadata], given: &[OptionSetMetadata]) -> Vec<Vec<Value>> {
    let referenced = entities
        .iter()
        .flat_map(|e| e.readable_attributes())
        .filter_map(|a| a.option_set.as_ref().filter(|s| s.is_global));
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    for set in given.iter().chain(referenced) {
        if seen.insert(set.name.as_str()) {
            rows.extend(options_rows(set, |o| {
                vec![text(&set.name), option_value(o)]
            }));
        }
    }
    rows
}

fn kind_rows(
    entities: &[EntityMetadata],
    kind: AttributeKind,
    key: impl Fn(&EntityMetadata, &OptionMetadata) -> Vec<Value>,
) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for entity in entities {
        let sets = entity.attributes.iter().filter(|a| a.kind == kind);
        for set in sets.filter_map(|a| a.option_set.as_ref()) {
            rows.extend(options_rows(set, |o| key(entity, o)));
        }
    }
    rows
}

fn state_rows(entities: &[EntityMetadata]) -> Vec<Vec<Value>> {
    kind_rows(entities, AttributeKind::State, |e, o| {
        vec![text(&e.logical_name), option_value(o)]
    })
}

fn status_rows(entities: &[EntityMetadata]) -> Vec<Vec<Value>> {
    kind_rows(entities, AttributeKind::Status, |e, o| {
        let state = o.state.map_or(Value::Null, |s| Value::Int(s.into()));
        vec![text(&e.logical_name), state, option_value(o)]
    })
}

/// One row per lookup target. The referenced attribute is the target's primary id when the
/// target is planned too, else Dataverse's `<entity>id` convention.
fn target_rows(entities: &[EntityMetadata]) -> Vec<Vec<Value>> {
    let primary_id = |target: &str| {
        entities
            .iter()
            .find(|e| e.logical_name == target)
            .map_or_else(|| format!("{target}id"), |e| e.primary_id_attribute.clone())
    };
    let mut rows = Vec::new();
    for entity in entities {
        for attr in entity.readable_attributes().filter(|a| a.kind.is_lookup()) {
            for target in &attr.targets {
                let row = [
                    &entity.logical_name,
                    &attr.logical_name,
                    target,
                    &primary_id(target),
                ];
                rows.push(row.iter().map(|s| text(s)).collect());
            }
        }
    }
    rows
}

/// One row per exported attribute. `Id` numbers the rows of the plan; `Version` and
/// `Timestamp` are not in the Web API's attribute metadata and stay null.
fn attribute_rows(entities: &[EntityMetadata]) -> Vec<Vec<Value>> {
    let exported = entities
        .iter()
        .flat_map(|e| e.exported_attributes().map(move |a| (e, a)))
        .filter(|(_, a)| sql_type(a).is_some());
    let int = |n: Option<i32>| n.map_or(Value::Null, |n| Value::Int(n.into()));
    (1..)
        .zip(exported)
        .map(|(id, (entity, attr))| {
            vec![
                Value::Int(id),
                text(&entity.logical_name),
                text(&attr.logical_name),
                text(attr.kind.wire_type()),
                Value::Int(attribute_type_code(attr.kind).into()),
                Value::Null,
                Value::Null,
                text(&attr.metadata_id),
                int(attr.precision),
                int(attr.max_length),
            ]
        })
        .collect()
}

/// Dataverse's `AttributeTypeCode` numbers; the `Virtual` subtypes share `Virtual`'s 17.
fn attribute_type_code(kind: AttributeKind) -> i32 {
    use AttributeKind as K;
    match kind {
        K::Boolean => 0,
        K::Customer => 1,
        K::DateTime => 2,
        K::Decimal => 3,
        K::Double => 4,
        K::Integer => 5,
        K::Lookup => 6,
        K::Memo => 7,
        K::Money => 8,
        K::Owner => 9,
        K::PartyList => 10,
        K::Picklist => 11,
        K::State => 12,
        K::Status => 13,
        K::String => 14,
        K::Uniqueidentifier => 15,
        K::CalendarRules => 16,
        K::Virtual | K::MultiSelectPicklist | K::Image | K::File => 17,
        K::BigInt => 18,
        K::ManagedProperty => 19,
        K::EntityName => 20,
    }
}
