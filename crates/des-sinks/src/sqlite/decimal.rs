//! DES's `decimal(38, s)` columns in SQLite: numbers, with the exact text beside them when a
//! number cannot hold it.
//!
//! SQLite's only numbers are 64-bit integers and 64-bit floats. A decimal column stores its
//! value as a number so that `WHERE revenue > 3000000`, `ORDER BY`, `SUM` and `AVG` compare
//! and add numbers, not text: an `INTEGER` when the value is whole and fits 64 bits (exact to
//! 18 digits), else a `REAL`. A float holds every decimal of at most 15 significant digits
//! exactly in the sense that it reads back as that decimal (`DBL_DIG` is 15), which covers
//! money up to 9,999,999,999,999.99. A value with more significant digits than that (a
//! 38-digit `decimal(38, 2)`, or `0.1234567890123456789`) is stored as the nearest float and
//! its exact text is kept in the `<column>_exact` column beside it (null otherwise), so
//! `COALESCE("<column>_exact", "<column>")` is always the exact value.

use std::borrow::Cow;

use des_core::schema::{ColumnDef, ColumnSource, SqlType, TableDef, TableKind};
use rusqlite::types::Value as SqlValue;

pub use crate::checks::decimal::DecimalError;

/// Significant digits every float reads back as (`DBL_DIG`).
const FLOAT_DIGITS: usize = 15;

/// How a canonical decimal literal is stored as a SQLite number.
#[derive(Debug, PartialEq)]
pub struct Number {
    pub value: SqlValue,
    /// False when `value` is only the nearest float and the text must be kept beside it.
    pub exact: bool,
}

impl Number {
    /// `canonical` is a [`decimal_literal`]: `-?\d+(\.\d+)?` without leading zeros.
    pub fn of(canonical: &str) -> Self {
        let trimmed = match canonical.split_once('.') {
            Some((int, frac)) => match frac.trim_end_matches('0') {
                "" => int.to_owned(),
                frac => format!("{int}.{frac}"),
            },
            None => canonical.to_owned(),
        };
        if let Ok(i) = trimmed.parse::<i64>() {
            return Self {
                value: SqlValue::Integer(i),
                exact: true,
            };
        }
        let float: f64 = trimmed.parse().unwrap_or(f64::NAN);
        Self {
            value: SqlValue::Real(float),
            exact: significant_digits(&trimmed) <= FLOAT_DIGITS,
        }
    }
}

/// `table` as SQLite stores it: each decimal column of an entity or relationship table
/// followed by its `<column>_exact` text column (a table that has them is returned as it is).
pub fn with_exact_columns(table: &TableDef) -> Cow<'_, TableDef> {
    let is_data = matches!(
        table.kind,
        TableKind::Entity(_) | TableKind::Relationship(_)
    );
    let decimal = |c: &ColumnDef| matches!(c.ty, SqlType::Decimal { .. });
    let done = |c: &ColumnDef| matches!(c.source, ColumnSource::ExactDecimal(_));
    if !is_data || !table.columns.iter().any(decimal) || table.columns.iter().any(done) {
        return Cow::Borrowed(table);
    }
    let mut columns = Vec::with_capacity(table.columns.len() * 2);
    for col in &table.columns {
        columns.push(col.clone());
        if let (true, ColumnSource::Attribute(attr)) = (decimal(col), &col.source) {
            columns.push(ColumnDef {
                name: format!("{}_exact", col.name),
                ty: col.ty,
                nullable: true,
                source: ColumnSource::ExactDecimal(attr.clone()),
            });
        }
    }
    Cow::Owned(TableDef {
        columns,
        ..table.clone()
    })
}

/// Digits from the first non-zero one to the last one (trailing fraction zeros trimmed).
fn significant_digits(trimmed: &str) -> usize {
    let digits: Vec<u8> = trimmed.bytes().filter(u8::is_ascii_digit).collect();
    let first = digits.iter().position(|&d| d != b'0');
    let whole = !trimmed.contains('.');
    match first {
        None => 0,
        // A whole number's trailing zeros are significant to a float only as an exponent.
        Some(f) if whole => digits[f..]
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(0, |l| l + 1),
        Some(f) => digits.len() - f,
    }
}

/// The canonical `decimal(precision, scale)` text of a numeric literal: no leading zeros,
/// exactly `scale` fraction digits, rounded half away from zero as SQL Server converts.
/// Fails when the integer part needs more than `precision - scale` digits.
pub fn decimal_literal(text: &str, precision: u8, scale: u8) -> Result<String, DecimalError> {
    match plain_literal(text, precision, scale) {
        Some(fast) => Ok(fast),
        None => crate::checks::decimal::round(text, precision, scale).map(|d| d.text()),
    }
}

/// The common case without rounding, exponent or overflow, in one allocation: `-?\d+(\.\d*)?`
/// with at most `scale` fraction digits. `None` sends everything else the long way.
fn plain_literal(text: &str, precision: u8, scale: u8) -> Option<String> {
    let (negative, unsigned) = text.strip_prefix('-').map_or((false, text), |t| (true, t));
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let scale = usize::from(scale);
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > scale {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > usize::from(precision).saturating_sub(scale) {
        return None;
    }
    let zero = int.is_empty() && frac.bytes().all(|b| b == b'0');
    let mut out = String::with_capacity(int.len() + scale + 3);
    if negative && !zero {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if scale > 0 {
        out.push('.');
        out.push_str(frac);
        out.extend(std::iter::repeat_n('0', scale - frac.len()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str, scale: u8) -> Result<String, DecimalError> {
        decimal_literal(text, 38, scale)
    }

    #[test]
    fn plain_literals_get_exactly_scale_digits() {
        assert_eq!(d("20000.0000", 4).unwrap(), "20000.0000");
        assert_eq!(d("1234.5", 2).unwrap(), "1234.50");
        assert_eq!(d("-0012", 2).unwrap(), "-12.00");
        assert_eq!(d("-0.00", 2).unwrap(), "0.00");
        assert_eq!(d("7", 0).unwrap(), "7");
    }

    #[test]
    fn extra_digits_round_half_away_from_zero() {
        assert_eq!(d("20000.0050", 2).unwrap(), "20000.01");
        assert_eq!(d("-1.005", 2).unwrap(), "-1.01");
        assert_eq!(d("9.999", 2).unwrap(), "10.00");
        assert_eq!(d("0.004", 2).unwrap(), "0.00");
        assert_eq!(d(".5", 0).unwrap(), "1");
    }

    #[test]
    fn exponents_are_expanded() {
        assert_eq!(d("1.5E3", 2).unwrap(), "1500.00");
        assert_eq!(d("+25e-4", 5).unwrap(), "0.00250");
        assert_eq!(d("1e-40", 2).unwrap(), "0.00");
    }

    #[test]
    fn too_many_integer_digits_overflow() {
        assert_eq!(d(&"9".repeat(36), 2).unwrap().len(), 39);
        assert_eq!(d(&"9".repeat(37), 2), Err(DecimalError::Overflow));
        assert_eq!(d("1e40", 2), Err(DecimalError::Overflow));
        assert_eq!(d("99.995", 2).unwrap(), "100.00");
        assert_eq!(decimal_literal("99.995", 4, 2), Err(DecimalError::Overflow));
    }

    fn number(canonical: &str) -> Number {
        Number::of(canonical)
    }

    #[test]
    fn whole_values_are_integers_and_short_fractions_exact_floats() {
        assert_eq!(number("10895804.00").value, SqlValue::Integer(10_895_804));
        assert_eq!(number("-12.00").value, SqlValue::Integer(-12));
        assert_eq!(number("0.00").value, SqlValue::Integer(0));
        let money = number("9999999999999.99");
        assert_eq!(money.value, SqlValue::Real(9_999_999_999_999.99));
        assert!(money.exact, "15 significant digits read back exactly");
        let rate = number("-0.0000000001");
        assert_eq!(rate.value, SqlValue::Real(-1e-10));
        assert!(rate.exact);
    }

    #[test]
    fn values_beyond_a_float_are_marked_inexact() {
        let big = number(&format!("{}.12", "9".repeat(36)));
        assert!(!big.exact);
        assert_eq!(big.value, SqlValue::Real(1e36));
        assert!(!number("0.1234567890123456789").exact);
        assert!(!number("-12345678901234567.5").exact);
        assert!(number("123456789012345678").exact, "fits an INTEGER");
        let huge_round = number(&format!("1{}", "0".repeat(30)));
        assert!(huge_round.exact, "1e30 is a float exactly");
    }

    #[test]
    fn malformed_literals_are_refused() {
        for bad in ["", "-", "1.2.3", "abc", "1e", "0x10", "NaN"] {
            assert_eq!(d(bad, 2), Err(DecimalError::Malformed), "{bad}");
        }
    }
}
