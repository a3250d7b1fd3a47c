//! Record values → SQLite parameters, checked against DES's column types.
//!
//! SQLite stores any value in any column, so the limits DES's SQL Server enforced are checked
//! here and reported per record in DES's words. Reasons name the column and its limit, never
//! the value.

use des_core::Value;
use des_core::schema::{ColumnDef, SqlType};
use rusqlite::types::Value as SqlValue;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// An ISO-8601 UTC timestamp, e.g. `2024-01-02T03:04:05Z`.
pub fn iso_datetime(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn guid(id: Uuid) -> SqlValue {
    SqlValue::Text(id.hyphenated().to_string())
}

/// A value as SQLite stores it, without checks (metadata-table rows).
pub fn plain(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Decimal(s) | Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Float(f) => SqlValue::Real(*f),
        Value::Guid(id) | Value::Lookup { id, .. } => guid(*id),
        Value::DateTime(t) => SqlValue::Text(iso_datetime(*t)),
        Value::Date(d) => SqlValue::Text(iso_datetime(d.midnight().assume_utc())),
    }
}

/// DES's (SQL Server's) name of a column type, as failure reasons print it.
pub fn des_type_name(ty: SqlType) -> String {
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
pub fn encode(value: &Value, col: &ColumnDef) -> Result<SqlValue, String> {
    match (col.ty, value) {
        (_, Value::Null) => Ok(SqlValue::Null),
        (SqlType::Guid, Value::Guid(id) | Value::Lookup { id, .. }) => Ok(guid(*id)),
        (SqlType::Guid, Value::Text(s)) => s.parse().map(guid).map_err(|_| mismatch(col)),
        (SqlType::DateTime, Value::DateTime(_) | Value::Date(_)) => Ok(plain(value)),
        (SqlType::Int, Value::Int(i)) => int32(*i, col),
        (SqlType::Int | SqlType::BigInt | SqlType::Bit, Value::Bool(b)) => {
            Ok(SqlValue::Integer((*b).into()))
        }
        (SqlType::BigInt, Value::Int(i)) => Ok(SqlValue::Integer(*i)),
        (SqlType::Bit, Value::Int(i @ (0 | 1))) => Ok(SqlValue::Integer(*i)),
        (SqlType::Decimal { precision, scale }, v) => decimal_value(v, precision, scale, col),
        (SqlType::Text { max_len }, v) => text_value(v, max_len, col),
        _ => Err(mismatch(col)),
    }
}

/// The `<attr>_entitytype` cell of a lookup: the referenced table's logical name.
pub fn lookup_target(value: &Value, col: &ColumnDef) -> Result<SqlValue, String> {
    match value {
        Value::Lookup {
            target: Some(t), ..
        } => text_value(&Value::Text(t.clone()), text_limit(col), col),
        _ => Ok(SqlValue::Null),
    }
}

fn text_limit(col: &ColumnDef) -> Option<u32> {
    match col.ty {
        SqlType::Text { max_len } => max_len,
        _ => None,
    }
}

fn int32(i: i64, col: &ColumnDef) -> Result<SqlValue, String> {
    if i32::try_from(i).is_ok() {
        Ok(SqlValue::Integer(i))
    } else {
        Err(format!(
            "Arithmetic overflow error converting expression to data type int for [{}]",
            col.name
        ))
    }
}

fn text_value(value: &Value, max_len: Option<u32>, col: &ColumnDef) -> Result<SqlValue, String> {
    let text = match value {
        Value::Text(s) | Value::Decimal(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Guid(id) => id.hyphenated().to_string(),
        _ => return Err(mismatch(col)),
    };
    match max_len {
        Some(max) if longer_than(&text, max as usize) => Err(format!(
            "String length in source longer than destination schema for [{}, {max}]",
            col.name
        )),
        _ => Ok(SqlValue::Text(text)),
    }
}

/// `nvarchar(n)` counts UTF-16 code units; a UTF-8 string never has more units than bytes,
/// so most strings are settled without counting.
fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.encode_utf16().count() > max
}

fn decimal_value(
    value: &Value,
    precision: u8,
    scale: u8,
    col: &ColumnDef,
) -> Result<SqlValue, String> {
    let literal = match value {
        Value::Decimal(s) | Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => f.to_string(),
        _ => return Err(mismatch(col)),
    };
    match decimal_literal(&literal, precision, scale) {
        Ok(text) => Ok(SqlValue::Text(text)),
        Err(DecimalError::Malformed) => Err(mismatch(col)),
        Err(DecimalError::Overflow) => Err(format!(
            "Arithmetic overflow error converting numeric to data type numeric for [{}, {precision}, {scale}]",
            col.name
        )),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum DecimalError {
    Malformed,
    Overflow,
}

/// The canonical `decimal(precision, scale)` text of a numeric literal: no leading zeros,
/// exactly `scale` fraction digits, rounded half away from zero as SQL Server converts.
/// Fails when the integer part needs more than `precision - scale` digits.
pub fn decimal_literal(text: &str, precision: u8, scale: u8) -> Result<String, DecimalError> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| DecimalError::Malformed)?),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(DecimalError::Malformed);
    }
    let zeros = digits.iter().take_while(|d| **d == b'0').count();
    let point = i64::try_from(int_part.len()).unwrap_or(i64::MAX) + i64::from(exponent);
    let point = point - i64::try_from(zeros).unwrap_or(0);
    if point > i64::from(precision.saturating_sub(scale)) {
        return Err(DecimalError::Overflow);
    }
    let scaled = scale_digits(&digits[zeros..], point, usize::from(scale));
    let int_len = scaled.len() - usize::from(scale);
    let first = scaled[..int_len]
        .iter()
        .position(|d| *d != b'0')
        .unwrap_or(int_len);
    if int_len - first > usize::from(precision.saturating_sub(scale)) {
        return Err(DecimalError::Overflow);
    }
    Ok(render(
        negative,
        &scaled[first..int_len],
        &scaled[int_len..],
    ))
}

/// `digits` (no leading zeros) with the decimal point `point` places from the left, times
/// `10^scale` and rounded half up: at least `scale + 1` digits, the last `scale` the fraction.
fn scale_digits(digits: &[u8], point: i64, scale: usize) -> Vec<u8> {
    let digit = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|k| digits.get(k))
            .copied()
            .unwrap_or(b'0')
    };
    let cut = point + i64::try_from(scale).unwrap_or(0);
    let mut kept: Vec<u8> = (0..cut.max(0)).map(digit).collect();
    if digit(cut) >= b'5' {
        round_up(&mut kept);
    }
    if kept.len() <= scale {
        let mut padded = vec![b'0'; scale + 1 - kept.len()];
        padded.append(&mut kept);
        kept = padded;
    }
    kept
}

fn round_up(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, b'1');
}

fn render(negative: bool, int: &[u8], frac: &[u8]) -> String {
    let zero = int.iter().chain(frac).all(|d| *d == b'0');
    let mut s = String::with_capacity(int.len() + frac.len() + 3);
    if negative && !zero {
        s.push('-');
    }
    s.push_str(if int.is_empty() {
        "0"
    } else {
        std::str::from_utf8(int).unwrap_or("0")
    });
    if !frac.is_empty() {
        s.push('.');
        s.push_str(std::str::from_utf8(frac).unwrap_or_default());
    }
    s
}
