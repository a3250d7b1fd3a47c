//! Formatted values (`@OData.Community.Display.V1.FormattedValue`) in the en-US style the
//! documentation samples show, and the wire form of date-times.

use crate::schema::{AttrDef, Kind};
use crate::store::{Cell, Store};
use std::fmt::Write;

/// Writes `2023-04-07T21:59:01Z`, or `2023-04-07` for DateOnly columns.
pub fn timestamp(buf: &mut String, secs: i64, date_only: bool) {
    use crate::render::digits;
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (year, month, day) = t.to_calendar_date();
    digits(buf, year.max(0) as u64, 4);
    buf.push('-');
    digits(buf, u64::from(u8::from(month)), 2);
    buf.push('-');
    digits(buf, u64::from(day), 2);
    if !date_only {
        let (h, m, s) = t.to_hms();
        buf.push('T');
        digits(buf, u64::from(h), 2);
        buf.push(':');
        digits(buf, u64::from(m), 2);
        buf.push(':');
        digits(buf, u64::from(s), 2);
        buf.push('Z');
    }
}

/// The formatted value of a non-null cell, when the column kind has one.
pub fn formatted(store: &Store, a: &AttrDef, cell: &Cell) -> Option<String> {
    match (a.kind, cell) {
        (Kind::Money, Cell::Dec(v)) => Some(money(*v, a.precision.unwrap_or(2))),
        (Kind::Decimal, Cell::Dec(v)) => Some(grouped_decimal(
            *v,
            a.precision.unwrap_or(2),
            a.precision.unwrap_or(2),
        )),
        (Kind::Double, Cell::Float(f)) => {
            let p = a.precision.unwrap_or(2);
            Some(grouped_decimal((f * 10f64.powi(p)).round() as i64, p, p))
        }
        (Kind::Integer, Cell::Int(n)) => Some(grouped_decimal(*n, 0, 0)),
        (Kind::Boolean, Cell::Bool(b)) => Some(if *b { "Yes" } else { "No" }.to_owned()),
        (Kind::Picklist | Kind::State | Kind::Status, Cell::Int(n)) => {
            a.options.as_ref()?.label(*n).map(str::to_owned)
        }
        (Kind::MultiSelect, Cell::Text(s)) => {
            let set = a.options.as_ref()?;
            let labels: Vec<&str> = s
                .split(',')
                .filter_map(|v| set.label(v.trim().parse().ok()?))
                .collect();
            Some(labels.join("; "))
        }
        (Kind::DateTime, Cell::Time(t)) => Some(display_time(*t, a.date_only)),
        (k, Cell::Ref(id, t)) if k.is_lookup() => {
            primary_name(store, a.targets.get(*t as usize)?, id)
        }
        (k, Cell::Guid(id)) if k.is_lookup() => primary_name(store, a.targets.first()?, id),
        _ => None,
    }
}

fn primary_name(store: &Store, target: &str, id: &uuid::Uuid) -> Option<String> {
    let e = store.entity_index(target)?;
    let name = store.catalog.entities[e].name_index()?;
    match store.get(e, id)?.cell(name) {
        Cell::Text(s) => Some(s.to_string()),
        _ => None,
    }
}

/// `$20,000.00`: two decimals whatever the stored precision.
fn money(v: i64, precision: i32) -> String {
    let cents = rescale(v, precision, 2);
    let text = grouped_decimal(cents.abs(), 2, 2);
    if cents < 0 {
        format!("-${text}")
    } else {
        format!("${text}")
    }
}

fn rescale(v: i64, from: i32, to: i32) -> i64 {
    if from >= to {
        let d = 10i64.pow((from - to) as u32);
        (v + v.signum() * d / 2) / d
    } else {
        v * 10i64.pow((to - from) as u32)
    }
}

/// `v` scaled by `precision`, shown with `shown` fraction digits and thousands separators.
fn grouped_decimal(v: i64, precision: i32, shown: i32) -> String {
    let v = rescale(v, precision, shown);
    let scale = 10u64.pow(shown.max(0) as u32);
    let abs = v.unsigned_abs();
    let digits = (abs / scale).to_string();
    let mut out = String::new();
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if shown > 0 {
        let _ = write!(out, ".{:0w$}", abs % scale, w = shown as usize);
    }
    out
}

/// `4/7/2023 2:59 PM` (UTC stands in for the caller's time zone), or `4/7/2023`.
fn display_time(secs: i64, date_only: bool) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let date = format!("{}/{}/{}", u8::from(t.month()), t.day(), t.year());
    if date_only {
        return date;
    }
    let (h, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!("{date} {h}:{:02} {ampm}", t.minute())
}
