//! A batch's changes as ready-to-bind parameter rows for one table.

use des_core::ports::SinkError;
use des_core::schema::{ColumnDef, SqlType, TableDef};
use des_core::{Change, Value};
use rusqlite::types::Value as SqlValue;
use uuid::Uuid;

use super::encoding::{Param, decimal_cells, encode, exact_text, lookup_target};
use crate::columns::{self, Field, Source};

/// The columns one batch writes, in statement order, and where each value comes from.
pub struct Layout<'a> {
    columns: Vec<(&'a ColumnDef, Source)>,
}

impl<'a> Layout<'a> {
    pub fn new(table: &'a TableDef, batch_columns: &[String]) -> Result<Self, SinkError> {
        let columns = columns::written(table, batch_columns)?;
        Ok(Self { columns })
    }

    /// Each written column with its placeholder number: `?1` is the write time shared by the
    /// sink columns, the row's own values follow from `?2` in [`Layout::encode`] order.
    pub fn placeholders(&self) -> Vec<(&str, usize)> {
        let mut next = 1;
        let mut number = |source: &Source| match source {
            Source::Stamp => 1,
            _ => {
                next += 1;
                next
            }
        };
        self.columns
            .iter()
            .map(|(c, source)| (c.name.as_str(), number(source)))
            .collect()
    }

    /// The parameters of one upsert from `?2` on, or the reason the record cannot be written.
    /// A decimal's `_exact` column comes right after it and takes the text its number cell
    /// worked out (the same value: compared by address, not by content).
    pub fn encode(&self, id: Uuid, version: i64, values: &[Value]) -> Result<Vec<Param>, String> {
        let mut last_decimal: Option<(&Value, SqlValue)> = None;
        columns::fields(&self.columns, id, version, values)
            .map(|(col, field)| match field {
                Field::Id(id) => Ok(Param::guid(id)),
                Field::Version(version) => Ok(Param::Value(SqlValue::Integer(version))),
                Field::Value(value) => match col.ty {
                    SqlType::Decimal { precision, scale } => {
                        let (number, exact) = decimal_cells(value, precision, scale, col)?;
                        last_decimal = Some((value, exact));
                        Ok(number)
                    }
                    _ => encode(value, col),
                },
                Field::Exact(value) => match last_decimal.take() {
                    Some((of, exact)) if std::ptr::eq(of, value) => Ok(Param::Value(exact)),
                    _ => exact_text(value, col),
                },
                Field::LookupTarget(value) => lookup_target(value, col),
            })
            .collect()
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
