//! One cell: a raw JSON slice turned into a [`Value`] by the column's kind.
//!
//! Errors name the column and the expected kind, never the value (it may be personal data).

use des_core::{AttributeKind, Value};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::plan::PlannedColumn;

/// Converts `raw` (absent means null) for `column`; `target` is the lookup annotation.
pub(crate) fn to_value(
    raw: Option<&RawValue>,
    column: &PlannedColumn,
    target: Option<&RawValue>,
) -> Result<Value, String> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else {
        return Ok(Value::Null);
    };
    convert(raw.get(), column, target).ok_or_else(|| {
        format!(
            "column {} does not hold a {:?} value",
            column.logical_name, column.kind
        )
    })
}

fn convert(text: &str, column: &PlannedColumn, target: Option<&RawValue>) -> Option<Value> {
    use AttributeKind as K;
    match column.kind {
        K::Boolean => serde_json::from_str(text).ok().map(Value::Bool),
        K::Integer | K::BigInt | K::Picklist | K::State | K::Status => {
            integer(text).map(Value::Int)
        }
        K::Decimal | K::Money => decimal(text).map(Value::Decimal),
        K::Double => float(text).map(Value::Float),
        K::DateTime => date_time(&string(text)?, column.date_only),
        K::Uniqueidentifier => guid(text).map(Value::Guid),
        K::Lookup | K::Customer | K::Owner => lookup(text, column, target),
        _ => Some(Value::Text(string(text).unwrap_or_else(|| text.to_owned()))),
    }
}

fn string(text: &str) -> Option<String> {
    serde_json::from_str(text).ok()
}

/// An Int64 may come quoted (IEEE754Compatible); accept both forms.
fn integer(text: &str) -> Option<i64> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| string(text)?.parse().ok())
}

/// Keeps the literal exactly as sent (`20000.0000` stays `20000.0000`).
fn decimal(text: &str) -> Option<String> {
    let literal = if text.starts_with('"') {
        string(text)?
    } else {
        text.to_owned()
    };
    let digits = literal.strip_prefix('-').unwrap_or(&literal);
    let valid = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    valid.then_some(literal)
}

/// Doubles may come as `"INF"`, `"-INF"` or `"NaN"` strings.
fn float(text: &str) -> Option<f64> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| string(text)?.parse().ok())
}

fn date_time(text: &str, date_only: bool) -> Option<Value> {
    if date_only || text.len() == 10 {
        let format = format_description!("[year]-[month]-[day]");
        return Date::parse(text.get(..10)?, format).ok().map(Value::Date);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(Value::DateTime)
}

fn guid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(&string(text)?).ok()
}

fn lookup(text: &str, column: &PlannedColumn, target: Option<&RawValue>) -> Option<Value> {
    let id = guid(text)?;
    let target = match target {
        Some(raw) => string(raw.get()),
        None => column.sole_target.clone(),
    };
    Some(Value::Lookup { id, target })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(kind: AttributeKind, date_only: bool) -> PlannedColumn {
        PlannedColumn {
            logical_name: "c".into(),
            wire_name: "c".into(),
            kind,
            date_only,
            sole_target: Some("account".into()),
        }
    }

    fn value(kind: AttributeKind, json: &str) -> Result<Value, String> {
        let raw: Box<RawValue> = serde_json::from_str(json).expect("json");
        to_value(Some(&raw), &column(kind, false), None)
    }

    #[test]
    fn numbers_keep_their_kind_and_decimals_their_text() {
        assert_eq!(
            value(AttributeKind::Money, "20000.0000"),
            Ok(Value::Decimal("20000.0000".into()))
        );
        assert_eq!(
            value(AttributeKind::Decimal, "\"-1.50\""),
            Ok(Value::Decimal("-1.50".into()))
        );
        assert_eq!(
            value(AttributeKind::BigInt, "\"9007199254740993\""),
            Ok(Value::Int(9007199254740993))
        );
        assert_eq!(
            value(AttributeKind::Double, "\"-INF\""),
            Ok(Value::Float(f64::NEG_INFINITY))
        );
        assert_eq!(value(AttributeKind::Status, "1"), Ok(Value::Int(1)));
        assert!(value(AttributeKind::Money, "\"abc\"").is_err());
    }

    #[test]
    fn dates_and_lookups() {
        let date = value(AttributeKind::DateTime, "\"2023-04-07\"").expect("date");
        assert_eq!(date, Value::Date(time::macros::date!(2023 - 04 - 07)));
        let stamp = value(AttributeKind::DateTime, "\"2023-04-07T21:59:01Z\"").expect("stamp");
        assert_eq!(
            stamp,
            Value::DateTime(time::macros::datetime!(2023-04-07 21:59:01 UTC))
        );
        let id = "70bf4d48-34cb-ed11-b596-0022481d68cd";
        let raw: Box<RawValue> = serde_json::from_str(&format!("\"{id}\"")).expect("json");
        let annotated: Box<RawValue> = serde_json::from_str("\"contact\"").expect("json");
        let col = column(AttributeKind::Customer, false);
        let with = to_value(Some(&raw), &col, Some(&annotated)).expect("lookup");
        let without = to_value(Some(&raw), &col, None).expect("lookup");
        let id = Uuid::parse_str(id).expect("uuid");
        assert_eq!(
            with,
            Value::Lookup {
                id,
                target: Some("contact".into())
            }
        );
        assert_eq!(
            without,
            Value::Lookup {
                id,
                target: Some("account".into())
            }
        );
    }

    #[test]
    fn errors_name_the_column_not_the_value() {
        let error = value(AttributeKind::Integer, "\"secret-ish\"").expect_err("not a number");
        assert!(
            error.contains("column c") && !error.contains("secret"),
            "{error}"
        );
    }
}
