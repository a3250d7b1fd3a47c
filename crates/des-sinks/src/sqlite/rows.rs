//! A batch's changes as ready-to-bind parameter rows for one table.

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, ColumnSource, TableDef};
use des_core::{Change, Value};
use rusqlite::types::Value as SqlValue;
use uuid::Uuid;

use super::encoding::{encode, lookup_target};

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

    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|(c, _)| c.name.as_str()).collect()
    }

    /// The parameters of one upsert, or the reason the record cannot be written.
    pub fn encode(
        &self,
        id: Uuid,
        version: i64,
        values: &[Value],
        now: &str,
    ) -> Result<Vec<SqlValue>, String> {
        self.columns
            .iter()
            .map(|(col, slot)| encode_slot(col, *slot, id, version, values, now))
            .collect()
    }
}

fn encode_slot(
    col: &ColumnDef,
    slot: Slot,
    id: Uuid,
    version: i64,
    values: &[Value],
    now: &str,
) -> Result<SqlValue, String> {
    let cell = |i: usize| values.get(i).unwrap_or(&Value::Null);
    match slot {
        Slot::Id => Ok(SqlValue::Text(id.hyphenated().to_string())),
        Slot::Now => Ok(SqlValue::Text(now.to_owned())),
        Slot::Version => Ok(SqlValue::Integer(version)),
        Slot::Cell(i) => encode(cell(i), col),
        Slot::LookupTarget(i) => lookup_target(cell(i), col),
    }
}

/// One change, encoded.
#[derive(Debug)]
pub enum Encoded {
    Upsert {
        id: Uuid,
        params: Vec<SqlValue>,
    },
    Delete(Uuid),
    /// An upsert that cannot be written; the rest of the batch goes on.
    Rejected {
        id: Uuid,
        reason: String,
    },
}

impl Encoded {
    pub fn new(layout: &Layout<'_>, change: &Change, now: &str) -> Self {
        match change {
            Change::Delete(id) => Self::Delete(*id),
            Change::Upsert(row) => match layout.encode(row.id, row.version, &row.values, now) {
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
