//! DES's metadata tables, whose rows are replaced whenever a plan is applied.

use des_core::Value;
use des_core::schema::{ColumnDef, MetadataTable, SchemaPlan, TableKind};

/// The `replace_key` values whose rows are replaced: those of the planned rows, and every
/// planned entity for tables keyed by `EntityName` (entities that lost all their options lose
/// their old rows too).
pub fn replaced_keys(plan: &SchemaPlan, meta: &MetadataTable) -> Vec<String> {
    let key_index = meta
        .table
        .columns
        .iter()
        .position(|c| c.name == meta.replace_key);
    let mut keys: Vec<String> = key_index
        .map(|i| meta.rows.iter().filter_map(|r| text_of(&r[i])).collect())
        .unwrap_or_default();
    if meta.replace_key == "EntityName" {
        keys.extend(plan.tables.iter().filter_map(|t| match &t.kind {
            TableKind::Entity(e) | TableKind::Relationship(e) => Some(e.clone()),
            _ => None,
        }));
    }
    keys.sort();
    keys.dedup();
    keys
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

/// The planned rows of a metadata table, each value encoded for its column by the sink's
/// `encode`, or the first per-record reason.
pub fn encoded_rows<'v, C>(
    meta: &'v MetadataTable,
    encode: impl Fn(&'v Value, &ColumnDef) -> Result<C, String>,
) -> Result<Vec<Vec<C>>, String> {
    meta.rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&meta.table.columns)
                .map(|(v, c)| encode(v, c))
                .collect()
        })
        .collect()
}
