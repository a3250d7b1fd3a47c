//! The `<table>_Labeled` view of each entity table: every column of the table plus a label
//! column for each option set, state, status, boolean and multi-select column, so a report
//! selects one view instead of joining the metadata tables for every choice.
//!
//! Label columns are named `<column>name`, the name Dataverse itself gives these labels (its
//! virtual `statecodename`, `industrycodename` attributes, as its SQL endpoint shows them).
//! Labels come from the metadata-table rows flagged `IsUserLocalizedLabel = 1`: the labels in
//! the language the metadata was read in, which for the application user the writer signs in
//! as is the organization's base language. Multi-select values come out as their labels in
//! value order, joined by `; `. Everything here is derived from the plan (a column is a
//! choice when `OptionSetMetadata` has rows for it), so the view follows the table as it
//! evolves; each sink drops and recreates it whenever it applies a plan. Lookup names need no
//! label: the table holds them (`owneridname`, filled from the lookup's formatted value), so
//! the view shows them among the table's columns.

use super::types::{ColumnSource, SchemaPlan, SqlType, TableDef, TableKind};
use crate::record::Value;

/// The separator between the labels of a multi-select value.
pub const MULTI_SELECT_SEPARATOR: &str = "; ";

/// Where one label column's label comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSource {
    /// `OptionSetMetadata` rows of (`EntityName`, `OptionSetName` = the column).
    Option,
    /// Like `Option`, for a comma-separated list of values.
    MultiSelect,
    /// `StateMetadata` rows of the entity.
    State,
    /// `StatusMetadata` rows of the entity.
    Status,
}

/// One label column of a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelColumn {
    /// The table column holding the value(s).
    pub column: String,
    /// The view's label column.
    pub name: String,
    pub source: LabelSource,
    /// The value column is a `bit` (a two-option boolean), compared with `Option` as 0 or 1.
    pub is_bit: bool,
}

/// The labeled view of one entity table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabeledView {
    pub schema: String,
    /// `<table>_Labeled`.
    pub name: String,
    pub table: String,
    /// The entity's logical name, the `EntityName` of its metadata rows.
    pub entity: String,
    pub labels: Vec<LabelColumn>,
    /// Names of the metadata tables the labels come from.
    pub option_set_table: String,
    pub state_table: String,
    pub status_table: String,
}

/// The labeled view of every entity table of the plan, in table order.
pub fn labeled_views(plan: &SchemaPlan) -> Vec<LabeledView> {
    let table_named = |suffix: &str| {
        plan.metadata
            .iter()
            .find(|m| m.table.name.ends_with(suffix))
            .map(|m| m.table.name.clone())
    };
    let (Some(options), Some(states), Some(statuses)) = (
        table_named("OptionSetMetadata"),
        table_named("StateMetadata"),
        table_named("StatusMetadata"),
    ) else {
        return Vec::new();
    };
    let option_sets = option_set_keys(plan);
    plan.tables
        .iter()
        .filter_map(|t| match &t.kind {
            TableKind::Entity(entity) => Some(LabeledView {
                schema: t.schema.clone(),
                name: format!("{}_Labeled", t.name),
                table: t.name.clone(),
                entity: entity.clone(),
                labels: label_columns(t, entity, &option_sets),
                option_set_table: options.clone(),
                state_table: states.clone(),
                status_table: statuses.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// (`EntityName`, `OptionSetName`) of every `OptionSetMetadata` row.
fn option_set_keys(plan: &SchemaPlan) -> Vec<(String, String)> {
    let Some(meta) = plan
        .metadata
        .iter()
        .find(|m| m.table.name.ends_with("OptionSetMetadata") && m.replace_key == "EntityName")
    else {
        return Vec::new();
    };
    let mut keys: Vec<(String, String)> = meta
        .rows
        .iter()
        .filter_map(|r| match (r.first(), r.get(1)) {
            (Some(Value::Text(e)), Some(Value::Text(o))) => Some((e.clone(), o.clone())),
            _ => None,
        })
        .collect();
    keys.dedup();
    keys
}

fn label_columns(
    table: &TableDef,
    entity: &str,
    option_sets: &[(String, String)],
) -> Vec<LabelColumn> {
    let has_options = |a: &str| option_sets.iter().any(|(e, o)| e == entity && o == a);
    table
        .columns
        .iter()
        .filter_map(|col| {
            let ColumnSource::Attribute(attr) = &col.source else {
                return None;
            };
            let source = match (attr.as_str(), col.ty) {
                ("statecode", SqlType::Int) => LabelSource::State,
                ("statuscode", SqlType::Int) => LabelSource::Status,
                (a, SqlType::Int | SqlType::Bit) if has_options(a) => LabelSource::Option,
                (a, SqlType::Text { .. }) if has_options(a) => LabelSource::MultiSelect,
                _ => return None,
            };
            let name = format!("{}name", col.name);
            // A real column of that name wins; the label is then left out.
            (table.column(&name).is_none()).then(|| LabelColumn {
                column: col.name.clone(),
                name,
                source,
                is_bit: col.ty == SqlType::Bit,
            })
        })
        .collect()
}
