//! Dialect-free table definitions.

use serde::{Deserialize, Serialize};

use crate::record::Value;

/// A column type in DES's vocabulary; sinks map each to their nearest native type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SqlType {
    /// `uniqueidentifier`
    Guid,
    /// `datetime` (DES used it for date-only values too)
    DateTime,
    /// `int`
    Int,
    /// `bigint`
    BigInt,
    /// `bit`
    Bit,
    /// `decimal(precision, scale)`; DES wrote `decimal(38, p)` for Decimal, Double and Money.
    Decimal { precision: u8, scale: u8 },
    /// `nvarchar(n)`, or `nvarchar(max)` when `max_len` is `None`.
    Text { max_len: Option<u32> },
}

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnSource {
    /// The record's primary key (`Id`).
    Id,
    /// Set when the sink first inserts the row.
    SinkCreatedOn,
    /// Set on every write of the row.
    SinkModifiedOn,
    /// An attribute's value, by logical name. A lookup's name, yomi-name and type columns
    /// are attributes too (`EntityMetadata::lookup_part`); the source fills their cells from
    /// the lookup's annotations.
    Attribute(String),
    /// The target table of a lookup attribute (`<attr>_entitytype`), by the lookup's name.
    LookupEntityType(String),
    /// A metadata-table column, filled from [`MetadataTable::rows`].
    Metadata,
    /// SQLite only: the exact text of a decimal attribute's value when SQLite's number (a
    /// 64-bit float) cannot hold it, by the attribute's name; null when the number is exact.
    ExactDecimal(String),
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    pub ty: SqlType,
    pub nullable: bool,
    pub source: ColumnSource,
}

/// What a table holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableKind {
    /// An exported entity, by logical name.
    Entity(String),
    /// An exported M:N relationship, by its intersect entity's logical name.
    Relationship(String),
    /// One of the six metadata tables.
    Metadata,
    /// `DeleteLog`.
    DeleteLog,
}

/// A table: schema-qualified name, columns in order, primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    pub schema: String,
    pub name: String,
    pub kind: TableKind,
    pub columns: Vec<ColumnDef>,
    /// Primary-key columns; `["Id"]` for entity tables.
    pub primary_key: Vec<String>,
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A metadata table and the rows it should hold for the planned entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataTable {
    pub table: TableDef,
    /// Rows in column order.
    pub rows: Vec<Vec<Value>>,
    /// Rows whose value in this column matches a new row's are replaced (`EntityName`, or
    /// `OptionSetName` for global option sets).
    pub replace_key: String,
}

/// Everything a sink creates for a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaPlan {
    pub schema: String,
    pub prefix: String,
    /// One table per exported entity and per exported M:N relationship.
    pub tables: Vec<TableDef>,
    pub metadata: Vec<MetadataTable>,
    /// Present when the profile writes a delete log.
    pub delete_log: Option<TableDef>,
}

impl SchemaPlan {
    /// The data table of an entity or relationship stream.
    pub fn table_for(&self, entity: &str) -> Option<&TableDef> {
        self.tables.iter().find(|t| match &t.kind {
            TableKind::Entity(e) | TableKind::Relationship(e) => e == entity,
            _ => false,
        })
    }
}
