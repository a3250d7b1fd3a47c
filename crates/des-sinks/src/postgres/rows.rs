//! A batch's changes as binary COPY rows for one table's stage.

use std::collections::HashMap;

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, ColumnSource, SqlType, TableDef};
use des_core::{Change, Value};
use tokio_postgres::types::Type;
use uuid::Uuid;

use super::encoding::{Cell, encode, lookup_target, wire_type};
use super::sql::quote;

const VERSION: &str = "versionnumber";

/// Where a staged column takes its value from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    Version,
    Cell(usize),
    LookupTarget(usize),
}

/// The columns one batch writes and where each value comes from. Columns the batch does not
/// carry are left as they are (null on insert); the sink columns take the write time.
pub(super) struct Layout<'a> {
    staged: Vec<(&'a ColumnDef, Slot)>,
    stamped: Vec<&'a str>,
}

impl<'a> Layout<'a> {
    pub(super) fn new(table: &'a TableDef, batch_columns: &[String]) -> Result<Self, SinkError> {
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
        Ok(Self { staged, stamped })
    }

    /// `(name, type)` of each stage column.
    pub(super) fn stage_columns(&self) -> Vec<(&str, &'static str)> {
        self.staged
            .iter()
            .map(|(c, _)| (c.name.as_str(), wire_type(c.ty).1))
            .collect()
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

    /// The cells of one upsert, or the reason the record cannot be written.
    pub(super) fn encode<'v>(
        &self,
        id: Uuid,
        version: i64,
        values: &'v [Value],
    ) -> Result<Vec<Cell<'v>>, String> {
        const NULL: &Value = &Value::Null;
        let cell = |i: usize| values.get(i).unwrap_or(NULL);
        self.staged
            .iter()
            .map(|(col, slot)| match *slot {
                Slot::Id => Ok(Cell::Uuid(id)),
                Slot::Version => Ok(Cell::BigInt(version)),
                Slot::Cell(i) => encode(cell(i), col),
                Slot::LookupTarget(i) => lookup_target(cell(i), col),
            })
            .collect()
    }
}

/// A batch reduced to what it leaves behind: the last change of each id wins, as if the
/// changes were applied one by one, so one set-based statement per kind is enough.
#[derive(Default)]
pub(super) struct Prepared<'v> {
    pub upserts: Vec<(Uuid, Vec<Cell<'v>>)>,
    pub deletes: Vec<Uuid>,
    pub rejected: Vec<(Uuid, String)>,
    /// Every id the batch carried, for a resync's seen set.
    pub ids: Vec<Uuid>,
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
            prepared.ids.push(change.id());
            match change {
                Change::Delete(id) => prepared.deletes.push(*id),
                Change::Upsert(row) => match layout.encode(row.id, row.version, &row.values) {
                    Ok(cells) => prepared.upserts.push((row.id, cells)),
                    Err(reason) => prepared.rejected.push((row.id, reason)),
                },
            }
        }
        prepared
    }
}
