//! A batch's changes as bulk-load rows for one table's stage.

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, SqlType, TableDef};
use des_core::{Change, Value};
use uuid::Uuid;

use super::encoding::{Cell, RowSize, encode, guid, lookup_target};
use super::sql;
use crate::columns::{self, Field, Source};

/// The columns one batch writes and where each value comes from: the stage's `c0` is the
/// id, then every column the batch carries. Columns the batch does not carry are left as
/// they are (NULL on insert); the sink columns take the write time.
pub struct Layout<'a> {
    table: &'a TableDef,
    staged: Vec<(&'a ColumnDef, Source)>,
    stamped: Vec<&'a str>,
    row_size: RowSize,
}

impl<'a> Layout<'a> {
    pub fn new(table: &'a TableDef, batch_columns: &[String]) -> Result<Self, SinkError> {
        let (stamped, mut staged): (Vec<_>, Vec<_>) = columns::written(table, batch_columns)?
            .into_iter()
            .partition(|(_, source)| *source == Source::Stamp);
        let stamped = stamped.iter().map(|(c, _)| c.name.as_str()).collect();
        // The stage's key is its first column.
        staged.sort_by_key(|(_, source)| *source != Source::Id);
        if !matches!(staged.first(), Some((_, Source::Id))) {
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
        let cells = columns::fields(&self.staged, id, version, values)
            .map(|(col, field)| match field {
                Field::Id(id) => Ok(guid(id)),
                Field::Version(version) => Ok(Cell::I64(Some(version))),
                // Only SQLite plans `<column>_exact`; a text cell is all it could be here.
                Field::Value(value) | Field::Exact(value) => encode(value, col),
                Field::LookupTarget(value) => lookup_target(value, col),
            })
            .collect::<Result<Vec<_>, String>>()?;
        self.row_size.check(&cells)?;
        Ok(cells)
    }
}

/// A batch reduced to what it leaves behind ([`columns::last_per_id`]).
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
        let mut prepared = Self {
            changes: changes.len(),
            ..Self::default()
        };
        for change in columns::last_per_id(changes) {
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
