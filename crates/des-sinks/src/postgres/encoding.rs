//! Record values → binary COPY cells, checked against DES's column types.
//!
//! A value PostgreSQL would refuse (a string longer than its `varchar(n)`, a number too large
//! for its `numeric(38, s)`) would abort the whole COPY, so every limit is checked here first
//! and reported per record in DES's words ([`crate::checks`]), the same reasons the SQLite sink
//! gives.

use std::borrow::Cow;
use std::error::Error;

use bytes::BytesMut;
use des_core::Value;
use des_core::schema::{ColumnDef, SqlType};
use time::OffsetDateTime;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use uuid::Uuid;

use crate::checks::decimal::{self, DecimalError};
use crate::checks::{self, mismatch, text};

/// PostgreSQL's earliest timestamp is in 4713 BC (year -4712).
const EARLIEST_YEAR: i32 = -4712;

/// One value as it travels in a binary COPY row.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i32),
    BigInt(i64),
    Text(Cow<'a, str>),
    Uuid(Uuid),
    Time(OffsetDateTime),
}

impl ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Self::Null => Ok(IsNull::Yes),
            Self::Bool(v) => v.to_sql(ty, out),
            Self::Int(v) => v.to_sql(ty, out),
            Self::BigInt(v) => v.to_sql(ty, out),
            Self::Text(v) => v.as_ref().to_sql(ty, out),
            Self::Uuid(v) => v.to_sql(ty, out),
            Self::Time(v) => v.to_sql(ty, out),
        }
    }

    /// Stage columns are created from the same types the cells are encoded for.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// How a column travels through COPY: its wire type, and the stage column's type. Decimals
/// travel as their checked exact text and are cast on insert, since the driver has no
/// 38-digit numeric type.
pub(super) fn wire_type(ty: SqlType) -> (Type, &'static str) {
    match ty {
        SqlType::Guid => (Type::UUID, "uuid"),
        SqlType::DateTime => (Type::TIMESTAMPTZ, "timestamptz"),
        SqlType::Int => (Type::INT4, "integer"),
        SqlType::BigInt => (Type::INT8, "bigint"),
        SqlType::Bit => (Type::BOOL, "boolean"),
        SqlType::Decimal { .. } | SqlType::Text { .. } => (Type::TEXT, "text"),
    }
}

/// Encodes one cell for its column, or gives the per-record failure reason.
pub(super) fn encode<'a>(value: &'a Value, col: &ColumnDef) -> Result<Cell<'a>, String> {
    match (col.ty, value) {
        (_, Value::Null) => Ok(Cell::Null),
        (SqlType::Guid, Value::Guid(id) | Value::Lookup { id, .. }) => Ok(Cell::Uuid(*id)),
        (SqlType::Guid, Value::Text(s)) => s.parse().map(Cell::Uuid).map_err(|_| mismatch(col)),
        (SqlType::DateTime, Value::DateTime(t)) => time_cell(*t, col),
        (SqlType::DateTime, Value::Date(d)) => time_cell(d.midnight().assume_utc(), col),
        (SqlType::Int, Value::Int(i)) => int32(*i, col),
        (SqlType::Int, Value::Bool(b)) => Ok(Cell::Int((*b).into())),
        (SqlType::BigInt, Value::Int(i)) => Ok(Cell::BigInt(*i)),
        (SqlType::BigInt, Value::Bool(b)) => Ok(Cell::BigInt((*b).into())),
        (SqlType::Bit, Value::Bool(b)) => Ok(Cell::Bool(*b)),
        (SqlType::Bit, Value::Int(i @ (0 | 1))) => Ok(Cell::Bool(*i == 1)),
        (SqlType::Decimal { precision, scale }, v) => decimal_cell(v, precision, scale, col),
        (SqlType::Text { max_len }, v) => text_cell(v, max_len, col),
        _ => Err(mismatch(col)),
    }
}

/// The `<attr>_entitytype` cell of a lookup: the referenced table's logical name.
pub(super) fn lookup_target<'a>(value: &'a Value, col: &ColumnDef) -> Result<Cell<'a>, String> {
    match (value, col.ty) {
        (
            Value::Lookup {
                target: Some(t), ..
            },
            SqlType::Text { max_len },
        ) => checked_text(Cow::Borrowed(t), max_len, col),
        _ => Ok(Cell::Null),
    }
}

fn time_cell<'a>(t: OffsetDateTime, col: &ColumnDef) -> Result<Cell<'a>, String> {
    if t.year() < EARLIEST_YEAR {
        return Err(format!(
            "Source value out of range of destination schema for [{}, datetime]",
            col.name
        ));
    }
    Ok(Cell::Time(t))
}

fn int32<'a>(i: i64, col: &ColumnDef) -> Result<Cell<'a>, String> {
    checks::int32(i, col).map(Cell::Int)
}

fn text_cell<'a>(
    value: &'a Value,
    max_len: Option<u32>,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    let text = text::as_text(value).ok_or_else(|| mismatch(col))?;
    checked_text(text, max_len, col)
}

/// PostgreSQL text cannot hold NUL.
fn checked_text<'a>(
    text: Cow<'a, str>,
    max_len: Option<u32>,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    text::check_length(&text, max_len, col)?;
    if text.contains('\0') {
        return Err(format!(
            "String in source contains a NUL character for [{}]",
            col.name
        ));
    }
    Ok(Cell::Text(text))
}

fn decimal_cell<'a>(
    value: &Value,
    precision: u8,
    scale: u8,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    let literal = decimal::as_literal(value).ok_or_else(|| mismatch(col))?;
    decimal_text(&literal, precision, scale)
        .map(|text| Cell::Text(Cow::Owned(text)))
        .map_err(|e| decimal::reason(e, col, precision, scale))
}

/// A decimal literal as exact `numeric(precision, scale)` text.
pub(super) fn decimal_text(text: &str, precision: u8, scale: u8) -> Result<String, DecimalError> {
    decimal::round(text, precision, scale).map(|d| d.text())
}

#[cfg(test)]
mod tests;
