//! Record values → TDS bulk-load cells, checked against DES's column types.
//!
//! A value SQL Server would refuse (a string longer than its `nvarchar(n)`, a number too large
//! for its `decimal(38, s)`, a date before 1753, a row wider than a page) would abort the
//! whole bulk load or MERGE, so every limit is checked here first and reported per record in
//! DES's words. Reasons name the column and its limit, never the value.

use std::borrow::Cow;

use des_core::Value;
use des_core::schema::{ColumnDef, SqlType};
use tiberius::ColumnData;
use tiberius::numeric::Numeric;
use time::{Date, Month, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::checks::{self, mismatch, text};

mod decimal;
mod row_size;

pub use row_size::{MAX_ROW_SIZE, RowSize};

/// `datetime` starts in 1753 (the Gregorian calendar's adoption in Britain).
const FIRST_DATETIME_YEAR: i32 = 1753;
/// `datetime` counts 1/300 s ticks within the day.
const TICKS_PER_DAY: i64 = 86_400 * 300;

/// One value as it travels in a bulk-load row.
pub type Cell<'a> = ColumnData<'a>;

/// A NULL of the column's type (the bulk load checks each cell's type against its column).
pub fn null(ty: SqlType) -> Cell<'static> {
    match ty {
        SqlType::Guid => ColumnData::Guid(None),
        SqlType::DateTime => ColumnData::DateTime(None),
        SqlType::Int => ColumnData::I32(None),
        SqlType::BigInt => ColumnData::I64(None),
        SqlType::Bit => ColumnData::Bit(None),
        SqlType::Decimal { .. } => ColumnData::Numeric(None),
        SqlType::Text { .. } => ColumnData::String(None),
    }
}

/// Encodes one cell for its column, or gives the per-record failure reason.
pub fn encode<'a>(value: &'a Value, col: &ColumnDef) -> Result<Cell<'a>, String> {
    match (col.ty, value) {
        (ty, Value::Null) => Ok(null(ty)),
        (SqlType::Guid, Value::Guid(id) | Value::Lookup { id, .. }) => Ok(guid(*id)),
        (SqlType::Guid, Value::Text(s)) => s.parse().map(guid).map_err(|_| mismatch(col)),
        (SqlType::DateTime, Value::DateTime(t)) => datetime(*t, col),
        (SqlType::DateTime, Value::Date(d)) => datetime(d.midnight().assume_utc(), col),
        (SqlType::Int, Value::Int(i)) => int32(*i, col),
        (SqlType::Int, Value::Bool(b)) => Ok(ColumnData::I32(Some((*b).into()))),
        (SqlType::BigInt, Value::Int(i)) => Ok(ColumnData::I64(Some(*i))),
        (SqlType::BigInt, Value::Bool(b)) => Ok(ColumnData::I64(Some((*b).into()))),
        (SqlType::Bit, Value::Bool(b)) => Ok(ColumnData::Bit(Some(*b))),
        (SqlType::Bit, Value::Int(i @ (0 | 1))) => Ok(ColumnData::Bit(Some(*i == 1))),
        (SqlType::Decimal { precision, scale }, v) => decimal_cell(v, precision, scale, col),
        (SqlType::Text { max_len }, v) => text_cell(v, max_len, col),
        _ => Err(mismatch(col)),
    }
}

pub fn guid(id: Uuid) -> Cell<'static> {
    ColumnData::Guid(Some(id))
}

/// The `<attr>_entitytype` cell of a lookup: the referenced table's logical name.
pub fn lookup_target<'a>(value: &'a Value, col: &ColumnDef) -> Result<Cell<'a>, String> {
    match (value, col.ty) {
        (
            Value::Lookup {
                target: Some(t), ..
            },
            SqlType::Text { max_len },
        ) => checked_text(Cow::Borrowed(t), max_len, col),
        _ => Ok(null(col.ty)),
    }
}

/// `datetime`: days since 1900-01-01 and 1/300 s ticks, rounded to the nearest tick as SQL
/// Server rounds.
fn datetime<'a>(t: OffsetDateTime, col: &ColumnDef) -> Result<Cell<'a>, String> {
    let t = t.to_offset(UtcOffset::UTC);
    if t.year() < FIRST_DATETIME_YEAR {
        return Err(format!(
            "Source value out of range of destination schema for [{}, datetime]",
            col.name
        ));
    }
    let epoch = Date::from_calendar_date(1900, Month::January, 1).expect("a valid date");
    let days = i64::from(t.date().to_julian_day() - epoch.to_julian_day());
    let nanos = i128::from(t.time().as_hms_nano().3)
        + i128::from(
            u32::from(t.hour()) * 3600 + u32::from(t.minute()) * 60 + u32::from(t.second()),
        ) * 1_000_000_000;
    let ticks = ((nanos * 300 + 500_000_000) / 1_000_000_000) as i64;
    let (days, ticks) = (days + ticks / TICKS_PER_DAY, ticks % TICKS_PER_DAY);
    let days = i32::try_from(days).map_err(|_| mismatch(col))?;
    let ticks = u32::try_from(ticks).map_err(|_| mismatch(col))?;
    Ok(ColumnData::DateTime(Some(tiberius::time::DateTime::new(
        days, ticks,
    ))))
}

fn int32<'a>(i: i64, col: &ColumnDef) -> Result<Cell<'a>, String> {
    checks::int32(i, col).map(|v| ColumnData::I32(Some(v)))
}

fn text_cell<'a>(
    value: &'a Value,
    max_len: Option<u32>,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    let text = text::as_text(value).ok_or_else(|| mismatch(col))?;
    checked_text(text, max_len, col)
}

fn checked_text<'a>(
    text: Cow<'a, str>,
    max_len: Option<u32>,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    text::check_length(&text, max_len, col)?;
    Ok(ColumnData::String(Some(text)))
}

fn decimal_cell<'a>(
    value: &Value,
    precision: u8,
    scale: u8,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    let literal = checks::decimal::as_literal(value).ok_or_else(|| mismatch(col))?;
    decimal::scaled(&literal, precision, scale)
        .map(|units| ColumnData::Numeric(Some(Numeric::new_with_scale(units, scale))))
        .map_err(|e| checks::decimal::reason(e, col, precision, scale))
}

#[cfg(test)]
mod tests;
