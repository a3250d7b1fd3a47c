//! The DES schema mapping: Dataverse metadata → table definitions and metadata-table rows.
//!
//! The types here are dialect-free; each sink renders them in its own SQL dialect, always
//! quoting identifiers, because every table and column name comes from Dataverse metadata.
//! [`plan`] is the entry point; [`diff`] says how an existing table evolves towards a plan.

mod columns;
mod evolution;
mod labels;
mod metadata_tables;
mod plan;
mod types;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;

pub use columns::sql_type;
pub use evolution::{SchemaChange, diff, widens};
pub use labels::{LabelColumn, LabelSource, LabeledView, MULTI_SELECT_SEPARATOR, labeled_views};
pub use plan::{Naming, plan, plan_entity_table, plan_relationship_table};
pub use types::{ColumnDef, ColumnSource, MetadataTable, SchemaPlan, SqlType, TableDef, TableKind};
