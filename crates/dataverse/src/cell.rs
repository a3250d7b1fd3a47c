//! One cell: a raw JSON slice turned into a [`Value`] by the column's kind.
//!
//! Errors name the column and the expected kind, never the value (it may be personal data).

use std::borrow::Cow;

use des_core::{AttributeKind, TableName, Value};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime};
use uuid::Uuid;

use crate::plan::PlannedColumn;

/// A lookup's target annotation, and the target the column's previous lookup named: cells
/// of one column mostly name one table, and then share its name.
pub(crate) struct Target<'a, 'de> {
    pub(crate) annotation: Option<&'de RawValue>,
    pub(crate) last: &'a mut Option<TableName>,
}

/// Converts `raw` (absent means null) for `column`; `target` serves lookups.
pub(crate) fn to_value(
    raw: Option<&RawValue>,
    column: &PlannedColumn,
    target: Target<'_, '_>,
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

fn convert(text: &str, column: &PlannedColumn, target: Target<'_, '_>) -> Option<Value> {
    use AttributeKind as K;
    match column.kind {
        K::Boolean => boolean(text).map(Value::Bool),
        K::Integer | K::BigInt | K::Picklist | K::State | K::Status => {
            integer(text).map(Value::Int)
        }
        K::Decimal | K::Money => decimal(text).map(Value::Decimal),
        K::Double => float(text).map(Value::Float),
        K::DateTime => date_time(&unquoted(text)?, column.date_only),
        K::Uniqueidentifier => guid(text).map(Value::Guid),
        K::Lookup | K::Customer | K::Owner => lookup(text, column, target),
        _ => Some(Value::Text(string(text).unwrap_or_else(|| text.to_owned()))),
    }
}

/// The content of a JSON string literal that holds no escapes, borrowed from the body; `None`
/// for other literals. (The page reader already refused raw control characters.)
pub(crate) fn plain_str(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// A string literal's content; only escaped strings go through the JSON decoder.
fn unquoted(text: &str) -> Option<Cow<'_, str>> {
    match plain_str(text) {
        Some(plain) => Some(Cow::Borrowed(plain)),
        None => serde_json::from_str::<String>(text).ok().map(Cow::Owned),
    }
}

pub(crate) fn string(text: &str) -> Option<String> {
    unquoted(text).map(Cow::into_owned)
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => serde_json::from_str(text).ok(),
    }
}

/// An Int64 may come quoted (IEEE754Compatible); accept both forms. A bare JSON integer is
/// exactly what `str::parse` accepts (JSON has no leading `+`), so it skips the decoder.
fn integer(text: &str) -> Option<i64> {
    text.parse()
        .ok()
        .or_else(|| serde_json::from_str(text).ok())
        .or_else(|| unquoted(text)?.parse().ok())
}

/// Keeps the literal exactly as sent (`20000.0000` stays `20000.0000`).
fn decimal(text: &str) -> Option<String> {
    let literal = if text.starts_with('"') {
        unquoted(text)?
    } else {
        Cow::Borrowed(text)
    };
    let digits = literal.strip_prefix('-').unwrap_or(&literal).as_bytes();
    let valid = digits.first().is_some_and(u8::is_ascii_digit)
        && digits
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    valid.then(|| literal.into_owned())
}

/// Doubles may come as `"INF"`, `"-INF"` or `"NaN"` strings.
fn float(text: &str) -> Option<f64> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| unquoted(text)?.parse().ok())
}

fn date_time(text: &str, date_only: bool) -> Option<Value> {
    if date_only || text.len() == 10 {
        let day = text.get(..10)?;
        let format = format_description!("[year]-[month]-[day]");
        let date = calendar_date(day).or_else(|| Date::parse(day, format).ok());
        return date.map(Value::Date);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(Value::DateTime)
}

/// `2023-04-07`, the one form Dataverse sends, read without the general format parser. Any
/// other text gets `None` and goes to the general parser, which decides.
fn calendar_date(text: &str) -> Option<Date> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *text.as_bytes() else {
        return None;
    };
    let year = digits(&[y0, y1, y2, y3])?;
    let month = Month::try_from(u8::try_from(digits(&[m0, m1])?).ok()?).ok()?;
    let day = u8::try_from(digits(&[d0, d1])?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, day).ok()
}

/// The value of a run of ASCII digits (at most four here, so no overflow).
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0, |value, &b| {
        b.is_ascii_digit().then(|| value * 10 + u32::from(b - b'0'))
    })
}

fn guid(text: &str) -> Option<Uuid> {
    Uuid::parse_str(&unquoted(text)?).ok()
}

fn lookup(text: &str, column: &PlannedColumn, target: Target<'_, '_>) -> Option<Value> {
    let id = guid(text)?;
    let target = match target.annotation {
        Some(raw) => table_name(raw.get(), target.last),
        None => column.sole_target.clone(),
    };
    Some(Value::Lookup { id, target })
}

/// The table an annotation names, sharing the last one when it is the same.
fn table_name(text: &str, last: &mut Option<TableName>) -> Option<TableName> {
    let same = last
        .as_ref()
        .filter(|l| plain_str(text) == Some(l.as_str()));
    if let Some(same) = same {
        return Some(same.clone());
    }
    *last = string(text).map(TableName::from);
    last.clone()
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
            source: crate::plan::WireSource::Property,
        }
    }

    fn value(kind: AttributeKind, json: &str) -> Result<Value, String> {
        let raw: Box<RawValue> = serde_json::from_str(json).expect("json");
        let mut last = None;
        to_value(Some(&raw), &column(kind, false), annotated(None, &mut last))
    }

    fn annotated<'a, 'de>(
        annotation: Option<&'de RawValue>,
        last: &'a mut Option<TableName>,
    ) -> Target<'a, 'de> {
        Target { annotation, last }
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
        let contact: Box<RawValue> = serde_json::from_str("\"contact\"").expect("json");
        let col = column(AttributeKind::Customer, false);
        let last = &mut None;
        let with = to_value(Some(&raw), &col, annotated(Some(&contact), last)).expect("lookup");
        let again = to_value(Some(&raw), &col, annotated(Some(&contact), last)).expect("lookup");
        let without = to_value(Some(&raw), &col, annotated(None, last)).expect("lookup");
        let name = |v: &Value| match v {
            Value::Lookup { target, .. } => target.as_ref().map(|t| t.as_ptr()),
            _ => None,
        };
        assert_eq!(name(&with), name(&again), "one table's name is shared");
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
