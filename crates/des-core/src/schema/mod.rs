//! The DES schema mapping: Dataverse metadata → table definitions and metadata-table rows.
//!
//! The types here are dialect-free; each sink renders them in its own SQL dialect, always
//! quoting identifiers, because every table and column name comes from Dataverse metadata.

mod types;

pub use types::{ColumnDef, ColumnSource, MetadataTable, SchemaPlan, SqlType, TableDef, TableKind};
