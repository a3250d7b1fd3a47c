//! A batch's changes as bulk-load rows for one table's stage.

use std::collections::HashMap;

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, ColumnSource, SqlType, TableDef};
use des_core::{Change, Value};
use uuid::Uuid;

use super::encoding::{Cell, RowSize, encode, guid, lookup_target};
use super::sql;

const VERSION: &str = "versionnumber";

/// Where a staged column takes its value from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    Version,
    Cell(usize),
    LookupTarget(usize),
}

/// The columns one batch writes and where each value comes from: the stage's `c0` is the
/// id, then every column the batch carries. Columns the batch does not carry are left as
/// they are (NULL on insert); the sink columns take the write time.
pub struct Layout<'a> {
    table: &'a TableDef,
    staged: Vec<(&'a ColumnDef, Slot)>,
    stamped: Vec<&'a str>,
    row_size: RowSize,
}

impl<'a> Layout<'a> {
    pub fn new(table: &'a TableDef, batch_columns: &[String]) -> Result<Self, SinkError> {
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
        let (mut staged, mut stamped) = (Vec::new(), Vec::new());
        for col in &table.columns {
            let slot = match &col.source {
                ColumnSource::Id => Some(Slot::Id),
                ColumnSource::SinkCreatedOn | ColumnSource::SinkModifiedOn => {
                    stamped.push(col.name.as_str());
                    None
                }
                ColumnSource::Attribute(a) if a == VERSION => Some(Slot::Version),
                ColumnSource::Attribute(a) => position(a).map(Slot::Cell),
                ColumnSource::LookupEntityType(l) => position(l).map(Slot::LookupTarget),
                ColumnSource::Metadata => None,
            };
            staged.extend(slot.map(|s| (col, s)));
        }
        // The stage's key is its first column.
        staged.sort_by_key(|(_, slot)| !matches!(slot, Slot::Id));
        if !matches!(staged.first(), Some((_, Slot::Id))) {
            return Err(SinkError::UnknownTable(table.name.clone()));
        }
        Ok(Self {
            table,
            staged,
            stamped,
            row_size: RowSize::new(&table.columns),
        })
    }

    /// `CREATE TABLE #DesStage (...)` for this batch's columns.
    pub fn create_stage(&self) -> String {
        let types: Vec<SqlType> = self.staged.iter().map(|(c, _)| c.ty).collect();
        sql::create_stage(&types, true)
    }

    /// The one set-based, version-guarded upsert from the stage.
    pub fn merge(&self) -> String {
        let staged: Vec<&str> = self.staged.iter().map(|(c, _)| c.name.as_str()).collect();
        sql::merge_from_stage(&sql::table_name(self.table), &staged, &self.stamped)
    }

    /// The cells of one upsert, or the reason the record cannot be written.
    pub fn encode<'v>(
        &self,
        id: Uuid,
        version: i64,
        values: &'v [Value],
    ) -> Result<Vec<Cell<'v>>, String> {
        const NULL: &Value = &Value::Null;
        let cell = |i: usize| values.get(i).unwrap_or(NULL);
        let cells = self
            .staged
            .iter()
            .map(|(col, slot)| match *slot {
                Slot::Id => Ok(guid(id)),
                Slot::Version => Ok(Cell::I64(Some(version))),
                Slot::Cell(i) => encode(cell(i), col),
                Slot::LookupTarget(i) => lookup_target(cell(i), col),
            })
            .collect::<Result<Vec<_>, String>>()?;
        self.row_size.check(&cells)?;
        Ok(cells)
    }
}

/// A batch reduced to what it leaves behind: the last change of each id wins, as if the
/// changes were applied one by one, so one set-based statement per kind is enough.
#[derive(Default)]
pub(super) struct Prepared<'v> {
    pub upserts: Vec<Vec<Cell<'v>>>,
    /// Every id the batch carried with its `#DesKeys` kind.
    pub keys: Vec<(Uuid, u8)>,
    pub rejected: Vec<(Uuid, String)>,
    pub changes: usize,
}

impl<'v> Prepared<'v> {
    pub(super) fn new(layout: &Layout<'_>, changes: &'v [Change]) -> Self {
        let last: HashMap<Uuid, usize> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id(), i))
            .collect();
        let mut prepared = Self {
            changes: changes.len(),
            ..Self::default()
        };
        for (i, change) in changes.iter().enumerate() {
            if last.get(&change.id()) != Some(&i) {
                continue;
            }
            let kind = match change {
                Change::Delete(_) => sql::KEY_DELETE,
                Change::Upsert(row) => match layout.encode(row.id, row.version, &row.values) {
                    Ok(cells) => {
                        prepared.upserts.push(cells);
                        sql::KEY_UPSERT
                    }
                    Err(reason) => {
                        prepared.rejected.push((row.id, reason));
                        sql::KEY_REJECTED
                    }
                },
            };
            prepared.keys.push((change.id(), kind));
        }
        prepared
    }

    pub(super) fn has_deletes(&self) -> bool {
        self.keys.iter().any(|(_, k)| *k == sql::KEY_DELETE)
    }
}
