//! Row JSON written straight into one buffer: no value tree per row, so big pages stay fast.

use crate::error::EmulatorError;
use crate::format;
use crate::odata::Prefer;
use crate::schema::{AttrDef, EntityDef, Kind};
use crate::store::{Cell, Row, Store};
use std::fmt::Write;

const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
const NAV: &str = "Microsoft.Dynamics.CRM.associatednavigationproperty";
const LOGICAL: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";

/// The columns of a response, in output order (primary key last, as Dataverse sends it).
pub fn columns(def: &EntityDef, select: Option<&[String]>) -> Result<Vec<usize>, EmulatorError> {
    let pk = def.primary_index();
    let mut cols = Vec::new();
    match select {
        Some(names) => {
            for name in names {
                let i = def
                    .wire_index(name)
                    .filter(|&i| def.attributes[i].is_property())
                    .ok_or_else(|| EmulatorError::unknown_property(name, &def.logical_name))?;
                if !cols.contains(&i) {
                    cols.push(i);
                }
            }
            let has_money = cols.iter().any(|&i| def.attributes[i].kind == Kind::Money);
            if let Some(c) = def
                .attr_index("transactioncurrencyid")
                .filter(|c| has_money && !cols.contains(c))
            {
                cols.push(c);
            }
        }
        None => cols.extend((0..def.attributes.len()).filter(|&i| def.attributes[i].is_property())),
    }
    cols.retain(|&i| i != pk);
    cols.push(pk);
    Ok(cols)
}

/// Which annotations to write, decided once per request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotations {
    pub formatted: bool,
    pub navigation: bool,
    pub logical: bool,
}

impl Annotations {
    pub fn from_prefer(p: &Prefer) -> Annotations {
        Annotations {
            formatted: p.wants(FORMATTED),
            navigation: p.wants(NAV),
            logical: p.wants(LOGICAL),
        }
    }
}

pub struct RowWriter<'a> {
    pub store: &'a Store,
    pub def: &'a EntityDef,
    pub cols: &'a [usize],
    pub ann: Annotations,
}

impl RowWriter<'_> {
    /// Writes `{"@odata.etag":..., <columns>}`; `context` adds a leading `@odata.context`.
    pub fn write(&self, buf: &mut String, row: &Row, context: Option<&str>) {
        buf.push('{');
        if let Some(c) = context {
            buf.push_str("\"@odata.context\":");
            string(buf, c);
            buf.push(',');
        }
        buf.push_str("\"@odata.etag\":\"W/\\\"");
        digits(buf, row.version, 0);
        buf.push_str("\\\"\"");
        for &i in self.cols {
            let a = &self.def.attributes[i];
            let cell = if a.logical_name == "versionnumber" {
                &Cell::Int(row.version as i64)
            } else {
                row.cell(i)
            };
            buf.push(',');
            self.annotations(buf, a, cell);
            buf.push('"');
            if a.kind.is_lookup() {
                let _ = write!(buf, "_{}_value", a.logical_name);
            } else {
                buf.push_str(&a.logical_name);
            }
            buf.push_str("\":");
            value(buf, a, cell);
        }
        buf.push('}');
    }

    fn annotations(&self, buf: &mut String, a: &AttrDef, cell: &Cell) {
        let any = self.ann.formatted || self.ann.navigation || self.ann.logical;
        if !any || *cell == Cell::Null {
            return;
        }
        let wire = a.wire_name();
        if a.kind.is_lookup() {
            let target = target_of(a, cell);
            if self.ann.navigation {
                let nav = if a.kind == Kind::Customer {
                    format!("{}_{target}", a.logical_name)
                } else {
                    a.logical_name.clone()
                };
                annotation(buf, &wire, NAV, &nav);
            }
            if self.ann.logical {
                annotation(buf, &wire, LOGICAL, target);
            }
        }
        if self.ann.formatted
            && let Some(f) = format::formatted(self.store, a, cell)
        {
            annotation(buf, &wire, FORMATTED, &f);
        }
    }
}

pub fn target_of<'a>(a: &'a AttrDef, cell: &Cell) -> &'a str {
    let t = match cell {
        Cell::Ref(_, t) => *t as usize,
        _ => 0,
    };
    a.targets
        .get(t)
        .or(a.targets.first())
        .map_or("", String::as_str)
}

fn annotation(buf: &mut String, wire: &str, term: &str, text: &str) {
    let _ = write!(buf, "\"{wire}@{term}\":");
    string(buf, text);
    buf.push(',');
}

/// Writes one cell as a JSON value.
pub fn value(buf: &mut String, a: &AttrDef, cell: &Cell) {
    match cell {
        Cell::Null => buf.push_str("null"),
        Cell::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
        Cell::Int(n) => {
            if *n < 0 {
                buf.push('-');
            }
            digits(buf, n.unsigned_abs(), 0);
        }
        Cell::Dec(v) => decimal(buf, *v, a.precision.unwrap_or(2)),
        Cell::Float(f) if f.is_finite() => {
            let _ = write!(buf, "{f}");
        }
        Cell::Float(_) => buf.push_str("null"),
        Cell::Text(s) => string(buf, s),
        Cell::Guid(g) | Cell::Ref(g, _) => {
            buf.push('"');
            buf.push_str(
                g.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            );
            buf.push('"');
        }
        Cell::Time(t) => {
            buf.push('"');
            format::timestamp(buf, *t, a.date_only);
            buf.push('"');
        }
    }
}

/// An exact decimal literal with `precision` fraction digits, e.g. `20000.0000`.
pub fn decimal(buf: &mut String, v: i64, precision: i32) {
    let p = precision.max(0) as u32;
    if v < 0 {
        buf.push('-');
    }
    let abs = v.unsigned_abs();
    let scale = 10u64.pow(p);
    digits(buf, abs / scale, 0);
    if p > 0 {
        buf.push('.');
        digits(buf, abs % scale, p as usize);
    }
}

/// Writes `n` in decimal, zero-padded to at least `width` digits (no `fmt` machinery).
pub fn digits(buf: &mut String, mut n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(tmp.len().saturating_sub(width));
    buf.push_str(std::str::from_utf8(&tmp[start..]).unwrap_or("0"));
}

/// A JSON string literal.
pub fn string(buf: &mut String, s: &str) {
    buf.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        buf.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(buf, "\\u{b:04x}");
        } else {
            buf.push_str(esc);
        }
        start = i + 1;
    }
    buf.push_str(&s[start..]);
    buf.push('"');
}
