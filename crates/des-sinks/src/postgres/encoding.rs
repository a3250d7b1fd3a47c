//! Record values → binary COPY cells, checked against DES's column types.
//!
//! A value PostgreSQL would refuse (a string longer than its `varchar(n)`, a number too large
//! for its `numeric(38, s)`) would abort the whole COPY, so every limit is checked here first
//! and reported per record in DES's words, the same reasons the SQLite sink gives. Reasons
//! name the column and its limit, never the value.

use std::borrow::Cow;
use std::error::Error;

use bytes::BytesMut;
use des_core::Value;
use des_core::schema::{ColumnDef, SqlType};
use time::OffsetDateTime;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use uuid::Uuid;

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

/// DES's (SQL Server's) name of a column type, as failure reasons print it.
fn des_type_name(ty: SqlType) -> String {
    match ty {
        SqlType::Guid => "uniqueidentifier".into(),
        SqlType::DateTime => "datetime".into(),
        SqlType::Int => "int".into(),
        SqlType::BigInt => "bigint".into(),
        SqlType::Bit => "bit".into(),
        SqlType::Decimal { precision, scale } => format!("decimal({precision}, {scale})"),
        SqlType::Text { max_len: Some(n) } => format!("nvarchar({n})"),
        SqlType::Text { max_len: None } => "nvarchar(max)".into(),
    }
}

fn mismatch(col: &ColumnDef) -> String {
    format!(
        "Source type does not match destination schema for [{}, {}]",
        col.name,
        des_type_name(col.ty)
    )
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
    i32::try_from(i).map(Cell::Int).map_err(|_| {
        format!(
            "Arithmetic overflow error converting expression to data type int for [{}]",
            col.name
        )
    })
}

fn text_cell<'a>(
    value: &'a Value,
    max_len: Option<u32>,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    let text = match value {
        Value::Text(s) | Value::Decimal(s) => Cow::Borrowed(s.as_str()),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Float(f) => Cow::Owned(f.to_string()),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        Value::Guid(id) => Cow::Owned(id.hyphenated().to_string()),
        _ => return Err(mismatch(col)),
    };
    checked_text(text, max_len, col)
}

/// `nvarchar(n)` counted UTF-16 code units; a UTF-8 string never has more units than bytes,
/// so most strings are settled without counting. PostgreSQL text cannot hold NUL.
fn checked_text<'a>(
    text: Cow<'a, str>,
    max_len: Option<u32>,
    col: &ColumnDef,
) -> Result<Cell<'a>, String> {
    if let Some(max) = max_len {
        let max = max as usize;
        if text.len() > max && text.encode_utf16().count() > max {
            return Err(format!(
                "String length in source longer than destination schema for [{}, {max}]",
                col.name
            ));
        }
    }
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
    let literal = match value {
        Value::Decimal(s) | Value::Text(s) => Cow::Borrowed(s.as_str()),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Float(f) if f.is_finite() => Cow::Owned(f.to_string()),
        _ => return Err(mismatch(col)),
    };
    match decimal_text(&literal, precision, scale) {
        Ok(text) => Ok(Cell::Text(Cow::Owned(text))),
        Err(DecimalError::Malformed) => Err(mismatch(col)),
        Err(DecimalError::Overflow) => Err(format!(
            "Arithmetic overflow error converting numeric to data type numeric for [{}, {precision}, {scale}]",
            col.name
        )),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum DecimalError {
    Malformed,
    Overflow,
}

/// A decimal literal as exact `numeric(precision, scale)` text: rounded half away from zero
/// to `scale` fraction digits, as both SQL Server and PostgreSQL convert; fails when the
/// integer part then needs more than `precision - scale` digits.
pub(super) fn decimal_text(text: &str, precision: u8, scale: u8) -> Result<String, DecimalError> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().map_err(|_| DecimalError::Malformed)?),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::Malformed);
    }
    let zeros = digits.iter().take_while(|d| **d == b'0').count();
    let digits = &digits[zeros..];
    if digits.is_empty() {
        return Ok(render(false, b"0", &vec![b'0'; usize::from(scale)]));
    }
    // Integer digits of the value: where the point sits after the leading zeros.
    let point = (int_part.len() as i64)
        .saturating_add(exponent)
        .saturating_sub(zeros as i64);
    let int_room = i64::from(precision.saturating_sub(scale));
    if point > int_room {
        return Err(DecimalError::Overflow);
    }
    let scaled = round_to_scale(digits, point, usize::from(scale));
    let int_len = scaled.len() - usize::from(scale);
    // Only a lone integer digit can be a zero (a value below one).
    let int_digits = int_len - usize::from(scaled[0] == b'0');
    if int_digits as i64 > int_room {
        return Err(DecimalError::Overflow);
    }
    Ok(render(negative, &scaled[..int_len], &scaled[int_len..]))
}

/// `digits × 10^(point - len)` times `10^scale`, rounded half up, as at least `scale + 1`
/// digits with leading zeros only where needed to reach that length.
fn round_to_scale(digits: &[u8], point: i64, scale: usize) -> Vec<u8> {
    let digit = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|k| digits.get(k))
            .copied()
            .unwrap_or(b'0')
    };
    let cut = point.saturating_add(scale as i64);
    let mut kept: Vec<u8> = (0..cut.max(0)).map(digit).collect();
    if cut >= 0 && digit(cut) >= b'5' {
        let carry = kept.iter_mut().rev().try_for_each(|d| {
            if *d == b'9' {
                *d = b'0';
                Ok(())
            } else {
                *d += 1;
                Err(())
            }
        });
        if carry.is_ok() {
            kept.insert(0, b'1');
        }
    }
    if kept.len() <= scale {
        let mut padded = vec![b'0'; scale + 1 - kept.len()];
        padded.append(&mut kept);
        kept = padded;
    }
    kept
}

fn render(negative: bool, int: &[u8], frac: &[u8]) -> String {
    let zero = int.iter().chain(frac).all(|d| *d == b'0');
    let int = std::str::from_utf8(int).unwrap_or("0");
    let frac = std::str::from_utf8(frac).unwrap_or_default();
    let sign = if negative && !zero { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests;
