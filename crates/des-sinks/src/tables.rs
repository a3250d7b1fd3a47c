//! The tables a plan creates, and what a data table mirrors: its Dataverse table and the
//! profile prefix it was named with.

use des_core::ports::SinkError;
use des_core::schema::{SchemaPlan, TableDef, TableKind};

/// The stream a data table holds: the entity (or intersect entity) logical name.
pub fn entity_of(table: &TableDef) -> Result<&str, SinkError> {
    match &table.kind {
        TableKind::Entity(e) | TableKind::Relationship(e) => Ok(e),
        _ => Err(SinkError::UnknownTable(table.name.clone())),
    }
}

/// The profile prefix a data table was named with (`crm` for `crm_account`); the state tables
/// carry the same prefix.
pub fn prefix_of(table: &TableDef) -> Result<&str, SinkError> {
    let entity = entity_of(table)?;
    let prefix = table
        .name
        .strip_suffix(entity)
        .map(|p| p.strip_suffix('_').unwrap_or(p));
    Ok(prefix.unwrap_or_default())
}

/// The engine's state tables of the layout before the state namespace (watermark,
/// tombstone, resync-seen), named with the profile's prefix beside the data tables.
pub fn old_state_names(prefix: &str) -> [String; 3] {
    ["DesWatermark", "DesTombstone", "DesResyncSeen"].map(|base| match prefix {
        "" => base.to_owned(),
        p => format!("{p}_{base}"),
    })
}

/// Every table a plan creates: the data tables, the metadata tables, then the delete log.
pub fn all(plan: &SchemaPlan) -> impl Iterator<Item = &TableDef> {
    let metadata = plan.metadata.iter().map(|m| &m.table);
    plan.tables
        .iter()
        .chain(metadata)
        .chain(plan.delete_log.as_ref())
}
