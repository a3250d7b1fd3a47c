//! Which table column each batch column fills, and with what: the mapping every SQL sink
//! shares. Columns the batch does not carry are left out (left as they are, null on insert).

use std::collections::HashMap;

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, ColumnSource, TableDef};
use des_core::{Change, Value};
use uuid::Uuid;

/// The attribute that carries a record's version, in the batch or not.
const VERSION: &str = "versionnumber";

/// Where a written column takes its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Id,
    /// A sink column (`SinkCreatedOn`, `SinkModifiedOn`): the write time.
    Stamp,
    Version,
    Cell(usize),
    LookupTarget(usize),
    /// The exact text of a decimal cell (SQLite's `<column>_exact`).
    Exact(usize),
}

/// What one record puts in a column.
pub enum Field<'v> {
    Id(Uuid),
    Version(i64),
    Value(&'v Value),
    /// The lookup whose target's logical name the column holds.
    LookupTarget(&'v Value),
    /// The decimal whose exact text the column holds when the number column cannot.
    Exact(&'v Value),
}

/// The table's columns the batch writes, in table order, each with its source; fails when
/// the batch carries a column the table lacks.
pub fn written<'a>(
    table: &'a TableDef,
    batch_columns: &[String],
) -> Result<Vec<(&'a ColumnDef, Source)>, SinkError> {
    let position = |name: &str| batch_columns.iter().position(|c| c == name);
    let unknown = batch_columns
        .iter()
        .find(|c| c.as_str() != VERSION && table.column(c).is_none());
    if let Some(unknown) = unknown {
        return Err(SinkError::Schema {
            table: table.name.clone(),
            reason: format!("the batch carries column {unknown}, which the table lacks"),
        });
    }
    let source = |col: &ColumnDef| match &col.source {
        ColumnSource::Id => Some(Source::Id),
        ColumnSource::SinkCreatedOn | ColumnSource::SinkModifiedOn => Some(Source::Stamp),
        ColumnSource::Attribute(a) if a == VERSION => Some(Source::Version),
        ColumnSource::Attribute(a) => position(a).map(Source::Cell),
        ColumnSource::LookupEntityType(l) => position(l).map(Source::LookupTarget),
        ColumnSource::ExactDecimal(a) => position(a).map(Source::Exact),
        ColumnSource::Metadata => None,
    };
    Ok(table
        .columns
        .iter()
        .filter_map(|col| source(col).map(|s| (col, s)))
        .collect())
}

impl Source {
    /// This column's field of one record; `None` for the sink columns.
    pub fn field(self, id: Uuid, version: i64, values: &[Value]) -> Option<Field<'_>> {
        const NULL: &Value = &Value::Null;
        let cell = |i: usize| values.get(i).unwrap_or(NULL);
        Some(match self {
            Self::Id => Field::Id(id),
            Self::Stamp => return None,
            Self::Version => Field::Version(version),
            Self::Cell(i) => Field::Value(cell(i)),
            Self::LookupTarget(i) => Field::LookupTarget(cell(i)),
            Self::Exact(i) => Field::Exact(cell(i)),
        })
    }
}

/// One record's field of each written column but the sink columns, in column order.
pub fn fields<'c, 'v>(
    written: &'c [(&'c ColumnDef, Source)],
    id: Uuid,
    version: i64,
    values: &'v [Value],
) -> impl Iterator<Item = (&'c ColumnDef, Field<'v>)> {
    written
        .iter()
        .filter_map(move |(col, source)| source.field(id, version, values).map(|f| (*col, f)))
}

/// The changes a batch leaves behind, in batch order: the last change of each id wins, as if
/// the changes were applied one by one, so one set-based statement per kind is enough.
pub fn last_per_id(changes: &[Change]) -> impl Iterator<Item = &Change> {
    let last: HashMap<Uuid, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id(), i))
        .collect();
    changes
        .iter()
        .enumerate()
        .filter(move |(i, c)| last.get(&c.id()) == Some(i))
        .map(|(_, c)| c)
}
