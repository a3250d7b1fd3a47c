//! A batch's changes as ready-to-bind parameter rows for one table.

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, ColumnSource, TableDef};
use des_core::{Change, Value};
use uuid::Uuid;

use super::encoding::{Param, encode, lookup_target};

const VERSION: &str = "versionnumber";

/// Where a written column takes its value from.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    Now,
    Version,
    Cell(usize),
    LookupTarget(usize),
}

/// The columns one batch writes, in statement order, and where each value comes from.
/// Columns the batch does not carry are left as they are (null on insert).
pub struct Layout<'a> {
    columns: Vec<(&'a ColumnDef, Slot)>,
}

impl<'a> Layout<'a> {
    pub fn new(table: &'a TableDef, batch_columns: &[String]) -> Result<Self, SinkError> {
        let position = |name: &str| batch_columns.iter().position(|c| c == name);
        if let Some(unknown) = batch_columns
            .iter()
            .find(|c| c.as_str() != VERSION && table.column(c).is_none())
        {
            return Err(SinkError::Schema {
                table: table.name.clone(),
                reason: format!("the batch carries column {unknown}, which the table lacks"),
            });
        }
        let mut columns = Vec::new();
        for col in &table.columns {
            let slot = match &col.source {
                ColumnSource::Id => Some(Slot::Id),
                ColumnSource::SinkCreatedOn | ColumnSource::SinkModifiedOn => Some(Slot::Now),
                ColumnSource::Attribute(a) if a == VERSION => Some(Slot::Version),
                ColumnSource::Attribute(a) => position(a).map(Slot::Cell),
                ColumnSource::LookupEntityType(l) => position(l).map(Slot::LookupTarget),
                ColumnSource::Metadata => None,
            };
            columns.extend(slot.map(|s| (col, s)));
        }
        Ok(Self { columns })
    }

    /// Each written column with its placeholder number: `?1` is the write time shared by the
    /// sink columns, the row's own values follow from `?2` in [`Layout::encode`] order.
    pub fn placeholders(&self) -> Vec<(&str, usize)> {
        let mut next = 1;
        let mut number = |slot: &Slot| match slot {
            Slot::Now => 1,
            _ => {
                next += 1;
                next
            }
        };
        self.columns
            .iter()
            .map(|(c, slot)| (c.name.as_str(), number(slot)))
            .collect()
    }

    /// The parameters of one upsert from `?2` on, or the reason the record cannot be written.
    pub fn encode(&self, id: Uuid, version: i64, values: &[Value]) -> Result<Vec<Param>, String> {
        let own = self
            .columns
            .iter()
            .filter(|(_, slot)| !matches!(slot, Slot::Now));
        own.map(|(col, slot)| encode_slot(col, *slot, id, version, values))
            .collect()
    }
}

fn encode_slot(
    col: &ColumnDef,
    slot: Slot,
    id: Uuid,
    version: i64,
    values: &[Value],
) -> Result<Param, String> {
    let cell = |i: usize| values.get(i).unwrap_or(&Value::Null);
    match slot {
        Slot::Id => Ok(Param::guid(id)),
        Slot::Now => Ok(Param::Value(rusqlite::types::Value::Null)),
        Slot::Version => Ok(Param::Value(rusqlite::types::Value::Integer(version))),
        Slot::Cell(i) => encode(cell(i), col),
        Slot::LookupTarget(i) => lookup_target(cell(i), col),
    }
}

/// One change, encoded.
#[derive(Debug)]
pub enum Encoded {
    Upsert {
        id: Uuid,
        params: Vec<Param>,
    },
    Delete(Uuid),
    /// An upsert that cannot be written; the rest of the batch goes on.
    Rejected {
        id: Uuid,
        reason: String,
    },
}

impl Encoded {
    pub fn new(layout: &Layout<'_>, change: &Change) -> Self {
        match change {
            Change::Delete(id) => Self::Delete(*id),
            Change::Upsert(row) => match layout.encode(row.id, row.version, &row.values) {
                Ok(params) => Self::Upsert { id: row.id, params },
                Err(reason) => Self::Rejected { id: row.id, reason },
            },
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Self::Upsert { id, .. } | Self::Rejected { id, .. } | Self::Delete(id) => *id,
        }
    }
}
