//! A batch's changes as binary COPY rows for one table's stage.

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, SqlType, TableDef};
use des_core::{Change, Row, Value};
use tokio_postgres::types::Type;
use uuid::Uuid;

use super::copy::{CopyData, CopyEncoder};
use super::encoding::{Cell, encode, lookup_target, wire_type};
use super::sql::{quote, stage_name};
use crate::columns::{self, Field, Source};

/// The columns one batch writes and where each value comes from. Columns the batch does not
/// carry are left as they are (null on insert); the sink columns take the write time.
pub(super) struct Layout<'a> {
    staged: Vec<(&'a ColumnDef, Source)>,
    stamped: Vec<&'a str>,
}

impl<'a> Layout<'a> {
    pub(super) fn new(table: &'a TableDef, batch_columns: &[String]) -> Result<Self, SinkError> {
        let (stamped, staged): (Vec<_>, Vec<_>) = columns::written(table, batch_columns)?
            .into_iter()
            .partition(|(_, source)| *source == Source::Stamp);
        let stamped = stamped.iter().map(|(c, _)| c.name.as_str()).collect();
        Ok(Self { staged, stamped })
    }

    /// `(name, type)` of each stage column.
    pub(super) fn stage_columns(&self) -> Vec<(&str, &'static str)> {
        self.staged
            .iter()
            .map(|(c, _)| (c.name.as_str(), wire_type(c.ty).1))
            .collect()
    }

    /// The name of the session's staging table for this layout.
    pub(super) fn stage_name(&self) -> String {
        stage_name(&self.stage_columns())
    }

    pub(super) fn staged_names(&self) -> Vec<&str> {
        self.staged.iter().map(|(c, _)| c.name.as_str()).collect()
    }

    pub(super) fn wire_types(&self) -> Vec<Type> {
        self.staged.iter().map(|(c, _)| wire_type(c.ty).0).collect()
    }

    /// Every column the upsert writes: the staged ones, then the sink columns.
    pub(super) fn target_columns(&self) -> Vec<&str> {
        let mut names = self.staged_names();
        names.extend(&self.stamped);
        names
    }

    /// The stage expression of each target column; decimals are cast from their checked text
    /// and the sink columns take `$1`.
    pub(super) fn selects(&self) -> Vec<String> {
        let staged = self.staged.iter().map(|(c, _)| match c.ty {
            SqlType::Decimal { precision, scale } => {
                format!("{}::numeric({precision},{scale})", quote(&c.name))
            }
            _ => quote(&c.name),
        });
        let stamped = self.stamped.iter().map(|_| "$1::timestamptz".to_owned());
        staged.chain(stamped).collect()
    }

    /// The cells of one upsert, each checked: a failure is the reason the record cannot be
    /// written.
    pub(super) fn cells<'v>(
        &self,
        id: Uuid,
        version: i64,
        values: &'v [Value],
    ) -> impl Iterator<Item = Result<Cell<'v>, String>> {
        columns::fields(&self.staged, id, version, values).map(|(col, field)| match field {
            Field::Id(id) => Ok(Cell::Uuid(id)),
            Field::Version(version) => Ok(Cell::BigInt(version)),
            // Only SQLite plans `<column>_exact`; a text cell is all it could be here.
            Field::Value(value) | Field::Exact(value) => encode(value, col),
            Field::LookupTarget(value) => lookup_target(value, col),
        })
    }

    /// One row encoded for the stage, or the reason the record cannot be written.
    pub(super) fn encode_one(&self, row: &Row) -> Result<Staged, String> {
        let mut copy = CopyEncoder::new(self.wire_types());
        copy.row(self.cells(row.id, row.version, &row.values))?;
        Ok(Staged {
            ids: vec![row.id],
            copy: copy.finish(),
        })
    }
}

/// Upserts encoded for the stage, and their record ids in the same order.
#[derive(Debug, Default)]
pub(super) struct Staged {
    pub ids: Vec<Uuid>,
    pub copy: CopyData,
}

/// A batch reduced to what it leaves behind ([`columns::last_per_id`]).
#[derive(Default)]
pub(super) struct Prepared {
    pub upserts: Staged,
    pub deletes: Vec<Uuid>,
    pub rejected: Vec<(Uuid, String)>,
    /// Every id the batch carried, for a resync's seen set.
    pub ids: Vec<Uuid>,
    pub changes: usize,
}

impl Prepared {
    pub(super) fn new(layout: &Layout<'_>, changes: &[Change]) -> Self {
        let mut prepared = Self {
            changes: changes.len(),
            ..Self::default()
        };
        let mut copy = CopyEncoder::new(layout.wire_types());
        for change in columns::last_per_id(changes) {
            prepared.ids.push(change.id());
            match change {
                Change::Delete(id) => prepared.deletes.push(*id),
                Change::Upsert(row) => {
                    match copy.row(layout.cells(row.id, row.version, &row.values)) {
                        Ok(()) => {
                            if prepared.upserts.ids.is_empty() {
                                copy.expect(changes.len());
                            }
                            prepared.upserts.ids.push(row.id);
                        }
                        Err(reason) => prepared.rejected.push((row.id, reason)),
                    }
                }
            }
        }
        prepared.upserts.copy = copy.finish();
        prepared
    }
}
