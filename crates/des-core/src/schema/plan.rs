//! Entity and M:N tables of a profile, and the whole [`SchemaPlan`].

use super::columns::{VERSION_COLUMN, attribute_column, entity_columns, push_unique, sink_columns};
use super::metadata_tables::{delete_log_table, metadata_tables};
use super::types::{SchemaPlan, SqlType, TableDef, TableKind};
use crate::metadata::{EntityMetadata, ManyToManyRelationship, OptionSetMetadata};
use crate::profile::Profile;

/// The profile settings that name the target tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// `DestinationSchemaName` (DES default `dbo`).
    pub schema: String,
    /// `DestinationPrefix`; empty for none.
    pub prefix: String,
    /// `WriteDeleteLog`.
    pub write_delete_log: bool,
}

impl Naming {
    pub fn from_profile(profile: &Profile) -> Self {
        Self {
            schema: profile.destination_schema_name.clone(),
            prefix: profile.destination_prefix.clone(),
            write_delete_log: profile.write_delete_log,
        }
    }

    /// `<prefix>_<base>`, or just `<base>` without a prefix (DES naming).
    pub fn table_name(&self, base: &str) -> String {
        if self.prefix.is_empty() {
            base.to_owned()
        } else {
            format!("{}_{base}", self.prefix)
        }
    }

    fn table(&self, base: &str, kind: TableKind) -> TableDef {
        TableDef {
            schema: self.schema.clone(),
            name: self.table_name(base),
            kind,
            columns: Vec::new(),
            primary_key: Vec::new(),
        }
    }
}

/// Plans every table a profile needs: one per entity, one per M:N relationship (given with
/// its intersect entity's metadata), the six metadata tables with their rows, and
/// `DeleteLog` when the profile writes one.
pub fn plan(
    naming: &Naming,
    entities: &[EntityMetadata],
    relationships: &[(ManyToManyRelationship, EntityMetadata)],
    global_option_sets: &[OptionSetMetadata],
) -> SchemaPlan {
    let mut tables: Vec<TableDef> = entities
        .iter()
        .map(|e| plan_entity_table(naming, e))
        .collect();
    let rels = relationships
        .iter()
        .map(|(r, i)| plan_relationship_table(naming, r, i));
    tables.extend(rels);
    SchemaPlan {
        schema: naming.schema.clone(),
        prefix: naming.prefix.clone(),
        tables,
        metadata: metadata_tables(naming, entities, global_option_sets),
        delete_log: naming.write_delete_log.then(|| delete_log_table(naming)),
    }
}

/// `<prefix>_<entity>`: `Id`, the sink columns, then every readable attribute in DES order.
pub fn plan_entity_table(naming: &Naming, entity: &EntityMetadata) -> TableDef {
    let name = entity.logical_name.to_ascii_lowercase();
    let mut table = naming.table(&name, TableKind::Entity(name.clone()));
    table.columns = entity_columns(entity);
    table.primary_key = vec!["Id".to_owned()];
    table
}

/// `<prefix>_<intersect entity>` for an M:N relationship. DES never documented this layout; we
/// chose the entity-table shape narrowed to what an intersect row is: `Id`, the sink columns,
/// both intersect attributes, the intersect entity's own id and `versionnumber`.
pub fn plan_relationship_table(
    naming: &Naming,
    relationship: &ManyToManyRelationship,
    intersect: &EntityMetadata,
) -> TableDef {
    let name = relationship.intersect_entity_name.to_ascii_lowercase();
    let mut table = naming.table(&name, TableKind::Relationship(name.clone()));
    let mut columns = sink_columns();
    let guids = [
        &relationship.entity1_intersect_attribute,
        &relationship.entity2_intersect_attribute,
        &intersect.primary_id_attribute,
    ];
    for attr in guids {
        push_unique(
            &mut columns,
            attribute_column(&attr.to_ascii_lowercase(), SqlType::Guid),
        );
    }
    push_unique(
        &mut columns,
        attribute_column(VERSION_COLUMN, SqlType::BigInt),
    );
    table.columns = columns;
    table.primary_key = vec!["Id".to_owned()];
    table
}
