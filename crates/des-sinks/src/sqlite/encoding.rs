//! Record values → SQLite parameters, checked against DES's column types.
//!
//! SQLite stores any value in any column, so the limits DES's SQL Server enforced are checked
//! here and reported per record in DES's words. Reasons name the column and its limit, never
//! the value.

use des_core::Value;
use des_core::schema::{ColumnDef, SqlType};
use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use super::decimal::{Number, decimal_literal};
use crate::checks::{self, decimal, mismatch, text};

/// A bound value. GUIDs stay inline, so only text costs an allocation per cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Value(SqlValue),
    Guid([u8; 36]),
}

impl Param {
    pub fn guid(id: Uuid) -> Self {
        let mut text = [0u8; 36];
        id.hyphenated().encode_lower(&mut text);
        Self::Guid(text)
    }

    fn text(text: String) -> Self {
        Self::Value(SqlValue::Text(text))
    }
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Self::Value(v) => ToSqlOutput::Borrowed(ValueRef::from(v)),
            Self::Guid(text) => ToSqlOutput::Borrowed(ValueRef::Text(text)),
        })
    }
}

/// An ISO-8601 UTC timestamp, e.g. `2024-01-02T03:04:05Z`; fractions only when present.
pub fn iso_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let (date, (h, mi, s, ns)) = (t.date(), t.to_hms_nano());
    let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
    if ns == 0 {
        return format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
    }
    let fraction = format!("{ns:09}");
    let fraction = fraction.trim_end_matches('0');
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{fraction}Z")
}

/// A value as SQLite stores it, without checks (metadata-table rows).
pub fn plain(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Int(i) => SqlValue::Integer(*i),
        Value::Decimal(s) | Value::Text(s) => SqlValue::Text(s.clone()),
        Value::Float(f) => SqlValue::Real(*f),
        Value::Guid(id) | Value::Lookup { id, .. } => SqlValue::Text(id.hyphenated().to_string()),
        Value::DateTime(t) => SqlValue::Text(iso_datetime(*t)),
        Value::Date(d) => SqlValue::Text(iso_datetime(d.midnight().assume_utc())),
    }
}

fn integer(i: i64) -> Param {
    Param::Value(SqlValue::Integer(i))
}

/// Encodes one cell for its column, or gives the per-record failure reason.
pub fn encode(value: &Value, col: &ColumnDef) -> Result<Param, String> {
    match (col.ty, value) {
        (_, Value::Null) => Ok(Param::Value(SqlValue::Null)),
        (SqlType::Guid, Value::Guid(id) | Value::Lookup { id, .. }) => Ok(Param::guid(*id)),
        (SqlType::Guid, Value::Text(s)) => s.parse().map(Param::guid).map_err(|_| mismatch(col)),
        (SqlType::DateTime, Value::DateTime(_) | Value::Date(_)) => Ok(Param::Value(plain(value))),
        (SqlType::Int, Value::Int(i)) => int32(*i, col),
        (SqlType::Int | SqlType::BigInt | SqlType::Bit, Value::Bool(b)) => Ok(integer((*b).into())),
        (SqlType::BigInt, Value::Int(i)) => Ok(integer(*i)),
        (SqlType::Bit, Value::Int(i @ (0 | 1))) => Ok(integer(*i)),
        (SqlType::Decimal { precision, scale }, v) => decimal_value(v, precision, scale, col),
        (SqlType::Text { max_len }, v) => text_value(v, max_len, col),
        _ => Err(mismatch(col)),
    }
}

/// The `<attr>_entitytype` cell of a lookup: the referenced table's logical name.
pub fn lookup_target(value: &Value, col: &ColumnDef) -> Result<Param, String> {
    match (value, col.ty) {
        (
            Value::Lookup {
                target: Some(t), ..
            },
            SqlType::Text { max_len },
        ) => checked_text(t.as_str().to_owned(), max_len, col),
        _ => Ok(Param::Value(SqlValue::Null)),
    }
}

fn int32(i: i64, col: &ColumnDef) -> Result<Param, String> {
    checks::int32(i, col).map(|_| integer(i))
}

fn text_value(value: &Value, max_len: Option<u32>, col: &ColumnDef) -> Result<Param, String> {
    let text = text::as_text(value).ok_or_else(|| mismatch(col))?;
    checked_text(text.into_owned(), max_len, col)
}

fn checked_text(text: String, max_len: Option<u32>, col: &ColumnDef) -> Result<Param, String> {
    text::check_length(&text, max_len, col)?;
    Ok(Param::text(text))
}

fn decimal_value(
    value: &Value,
    precision: u8,
    scale: u8,
    col: &ColumnDef,
) -> Result<Param, String> {
    decimal_cells(value, precision, scale, col).map(|(number, _)| number)
}

/// A decimal's number cell and the text of its `<column>_exact` cell, from one canonical
/// literal: the two cells need the same rounding and parsing, which is most of a decimal's
/// cost, so a row works them out once ([`super::rows::Layout::encode`]).
pub fn decimal_cells(
    value: &Value,
    precision: u8,
    scale: u8,
    col: &ColumnDef,
) -> Result<(Param, SqlValue), String> {
    if matches!(value, Value::Null) {
        return Ok((Param::Value(SqlValue::Null), SqlValue::Null));
    }
    let literal = decimal::as_literal(value).ok_or_else(|| mismatch(col))?;
    let canonical = decimal_literal(&literal, precision, scale)
        .map_err(|e| decimal::reason(e, col, precision, scale))?;
    let number = Number::of(&canonical);
    let exact = match number.exact {
        true => SqlValue::Null,
        false => SqlValue::Text(canonical),
    };
    Ok((Param::Value(number.value), exact))
}

/// The `<column>_exact` cell: the decimal's exact text when its number column holds only the
/// nearest float, null otherwise (and for a value the number column refuses, which fails the
/// record there with its reason).
pub fn exact_text(value: &Value, col: &ColumnDef) -> Result<Param, String> {
    let SqlType::Decimal { precision, scale } = col.ty else {
        return Ok(Param::Value(SqlValue::Null));
    };
    let exact = decimal_cells(value, precision, scale, col).map_or(SqlValue::Null, |(_, e)| e);
    Ok(Param::Value(exact))
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::checks::fixtures::col;

    fn text(s: &str) -> Param {
        Param::Value(SqlValue::Text(s.into()))
    }

    #[test]
    fn strings_are_measured_in_utf16_units_like_nvarchar() {
        let name = col("name", SqlType::Text { max_len: Some(4) });
        assert_eq!(encode(&Value::Text("äöüß".into()), &name), Ok(text("äöüß")));
        let too_long = encode(&Value::Text("😀😀😀".into()), &name).unwrap_err();
        assert_eq!(
            too_long,
            "String length in source longer than destination schema for [name, 4]"
        );
        let unbounded = col("description", SqlType::Text { max_len: None });
        assert!(encode(&Value::Text("x".repeat(10_000)), &unbounded).is_ok());
    }

    #[test]
    fn reasons_name_the_column_but_never_the_value() {
        let money = col(
            "revenue",
            SqlType::Decimal {
                precision: 38,
                scale: 2,
            },
        );
        let reason = encode(&Value::Decimal("123456789e40".into()), &money).unwrap_err();
        assert_eq!(
            reason,
            "Arithmetic overflow error converting numeric to data type numeric for [revenue, 38, 2]"
        );
        let count = col("numberofemployees", SqlType::Int);
        let reason = encode(&Value::Int(i64::from(i32::MAX) + 1), &count).unwrap_err();
        assert!(reason.ends_with("[numberofemployees]") && !reason.contains("2147483648"));
        let id = col("accountid", SqlType::Guid);
        let reason = encode(&Value::Text("secret-ish".into()), &id).unwrap_err();
        assert_eq!(
            reason,
            "Source type does not match destination schema for [accountid, uniqueidentifier]"
        );
    }

    #[test]
    fn lookups_write_the_id_and_the_target_table() {
        let id = Uuid::from_u128(0xABC);
        let lookup = Value::Lookup {
            id,
            target: Some("contact".into()),
        };
        let column = col("primarycontactid", SqlType::Guid);
        assert_eq!(encode(&lookup, &column), Ok(Param::guid(id)));
        let entity_type = col(
            "primarycontactid_entitytype",
            SqlType::Text { max_len: Some(128) },
        );
        assert_eq!(lookup_target(&lookup, &entity_type), Ok(text("contact")));
        let untargeted = Value::Lookup { id, target: None };
        assert_eq!(
            lookup_target(&untargeted, &entity_type),
            Ok(Param::Value(SqlValue::Null))
        );
        assert_eq!(
            ToSql::to_sql(&Param::guid(id)).unwrap(),
            ToSqlOutput::Borrowed(ValueRef::Text(b"00000000-0000-0000-0000-000000000abc"))
        );
    }

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(
            iso_datetime(datetime!(2024-01-02 03:04:05 +02:00)),
            "2024-01-02T01:04:05Z"
        );
        assert_eq!(
            iso_datetime(datetime!(2024-01-02 03:04:05.25 UTC)),
            "2024-01-02T03:04:05.25Z"
        );
        let on = col("new_founded", SqlType::DateTime);
        assert_eq!(
            encode(&Value::Date(date!(1999 - 12 - 31)), &on),
            Ok(text("1999-12-31T00:00:00Z"))
        );
    }

    #[test]
    fn booleans_and_numbers_fit_their_columns() {
        let bit = col("donotemail", SqlType::Bit);
        assert_eq!(
            encode(&Value::Bool(true), &bit),
            Ok(Param::Value(SqlValue::Integer(1)))
        );
        assert!(encode(&Value::Int(2), &bit).is_err());
        let rate = col(
            "exchangerate",
            SqlType::Decimal {
                precision: 38,
                scale: 10,
            },
        );
        let number = |f: f64| Ok(Param::Value(SqlValue::Real(f)));
        assert_eq!(
            encode(&Value::Float(1.5), &rate),
            number(1.5),
            "a number, not text"
        );
        assert_eq!(
            encode(&Value::Decimal("0.00000000005".into()), &rate),
            number(1e-10),
            "rounded to the column's scale first"
        );
        assert!(encode(&Value::Float(f64::NAN), &rate).is_err());
    }

    #[test]
    fn a_decimal_and_its_exact_text_come_from_one_literal_as_each_alone() {
        let money = col(
            "revenue",
            SqlType::Decimal {
                precision: 4,
                scale: 2,
            },
        );
        let wide = col(
            "new_ratio",
            SqlType::Decimal {
                precision: 38,
                scale: 20,
            },
        );
        let values = [
            Value::Decimal("12.5".into()),
            Value::Decimal("99.995".into()),
            Value::Decimal("0.12345678901234567891".into()),
            Value::Int(7),
            Value::Null,
            Value::Text("not a number".into()),
        ];
        for column in [&money, &wide] {
            let SqlType::Decimal { precision, scale } = column.ty else {
                unreachable!()
            };
            for value in &values {
                let alone = (encode(value, column), exact_text(value, column));
                let together = decimal_cells(value, precision, scale, column);
                match (alone, together) {
                    ((Ok(number), Ok(Param::Value(exact))), Ok(cells)) => {
                        assert_eq!((number, exact), cells, "{value:?}");
                    }
                    ((Err(reason), Ok(Param::Value(SqlValue::Null))), Err(same)) => {
                        assert_eq!(reason, same, "{value:?}");
                    }
                    other => panic!("{value:?} in {}: {other:?}", column.name),
                }
            }
        }
    }
}
