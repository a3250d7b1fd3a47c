//! OData request pieces: query options, `Prefer`, the paging cookie and the delta token.

use crate::error::EmulatorError;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// System query options of one request, decoded.
#[derive(Debug, Default, Clone)]
pub struct QueryOptions {
    pub select: Option<Vec<String>>,
    pub select_raw: Option<String>,
    pub filter: Option<String>,
    pub orderby: Option<String>,
    pub expand: Option<String>,
    pub top: Option<usize>,
    pub count: bool,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
    /// Other `key=value` pairs (for `$ref?$id=`).
    pub other: Vec<(String, String)>,
    /// The query string as sent, minus `$skiptoken`, for building `nextLink`.
    pub raw_without_skiptoken: String,
}

pub fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

impl QueryOptions {
    pub fn parse(raw: Option<&str>) -> Result<QueryOptions, EmulatorError> {
        let mut q = QueryOptions::default();
        let mut kept = Vec::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(k);
            let value = decode(v);
            // Dataverse's nextLink repeats the query without $skiptoken and $count.
            if key != "$skiptoken" && key != "$count" {
                kept.push(pair);
            }
            match key.as_str() {
                "$select" => {
                    q.select = Some(
                        value
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    );
                    q.select_raw = Some(v.to_owned());
                }
                "$filter" => q.filter = Some(value),
                "$orderby" => q.orderby = Some(value),
                "$expand" => q.expand = Some(value),
                "$top" => {
                    q.top = Some(value.parse().map_err(|_| {
                        EmulatorError::bad_request("0x80060888", "Invalid $top value.")
                    })?)
                }
                "$count" => q.count = value == "true",
                "$skiptoken" => q.skiptoken = Some(value),
                "$deltatoken" => q.deltatoken = Some(value),
                _ => q.other.push((key, value)),
            }
        }
        q.raw_without_skiptoken = kept.join("&");
        Ok(q)
    }
}

/// The `Prefer` preferences the emulator honours.
#[derive(Debug, Default, Clone)]
pub struct Prefer {
    pub max_page_size: Option<usize>,
    pub track_changes: bool,
    pub annotations: Option<String>,
    pub return_representation: bool,
}

impl Prefer {
    pub fn parse(headers: &axum::http::HeaderMap) -> Prefer {
        let mut p = Prefer::default();
        for value in headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for item in split_preferences(value) {
                let item = item.trim();
                if let Some(n) = item.strip_prefix("odata.maxpagesize=") {
                    p.max_page_size = n.trim().parse().ok();
                } else if item == "odata.track-changes" {
                    p.track_changes = true;
                } else if let Some(list) = item.strip_prefix("odata.include-annotations=") {
                    p.annotations = Some(list.trim_matches('"').to_owned());
                } else if item == "return=representation" {
                    p.return_representation = true;
                }
            }
        }
        p
    }

    /// Whether annotation `name` (e.g. `OData.Community.Display.V1.FormattedValue`) was asked for.
    pub fn wants(&self, name: &str) -> bool {
        self.annotations.as_deref().is_some_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|pat| match pat.strip_suffix('*') {
                    Some(prefix) => name.starts_with(prefix.trim_end_matches('.')),
                    None => pat == name,
                })
        })
    }
}

/// Splits on commas outside double quotes (an annotation list is a quoted, comma-separated value).
fn split_preferences(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

/// Characters escaped (lower-case hex) inside the inner paging cookie.
const INNER: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'=')
    .add(b'/')
    .add(b'{')
    .add(b'}')
    .add(b'%');
/// Characters escaped (upper-case hex) in the outer cookie as it appears in `$skiptoken`.
const OUTER: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'%')
    .add(b'&')
    .add(b'#')
    .add(b'+');
/// Characters escaped (lower-case hex) in a `$deltatoken`.
const DELTA: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'!')
    .add(b'/')
    .add(b':')
    .add(b'%')
    .add(b'&')
    .add(b'+');

fn lower_hex(encoded: String) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded.as_str();
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        out.push('%');
        out.push_str(&rest[i + 1..i + 3].to_ascii_lowercase());
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// What a `$skiptoken` carries between pages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageCookie {
    pub page: u32,
    pub last: Option<uuid::Uuid>,
    pub first: Option<uuid::Uuid>,
    pub tracking: bool,
    /// Tracked reads: the delta token fixed at the first page.
    pub version_stamp: Option<String>,
    /// Delta reads: phase and last version returned.
    pub delta_phase: Option<u8>,
    pub delta_after: Option<u64>,
    pub delta_to: Option<u64>,
}

impl PageCookie {
    /// The URL-encoded `$skiptoken` value, shaped like Dataverse's paging cookie.
    pub fn encode(&self, primary_id: &str) -> String {
        let guid = |g: Option<uuid::Uuid>| {
            g.map(|g| format!("{{{}}}", g.to_string().to_uppercase()))
                .unwrap_or_default()
        };
        let inner = format!(
            "<cookie page=\"{}\"><{primary_id} last=\"{}\" first=\"{}\" /></cookie>",
            self.page.saturating_sub(1),
            guid(self.last),
            guid(self.first)
        );
        let inner = lower_hex(utf8_percent_encode(&inner, INNER).to_string());
        let mut outer = format!(
            "<cookie pagenumber=\"{}\" pagingcookie=\"{inner}\" istracking=\"{}\"",
            self.page,
            if self.tracking { "True" } else { "False" }
        );
        if let Some(v) = &self.version_stamp {
            outer.push_str(&format!(" versionstamp=\"{v}\""));
        }
        if let (Some(p), Some(a), Some(t)) = (self.delta_phase, self.delta_after, self.delta_to) {
            outer.push_str(&format!(
                " deltaphase=\"{p}\" deltaafter=\"{a}\" deltato=\"{t}\""
            ));
        }
        outer.push_str(" />");
        utf8_percent_encode(&outer, OUTER).to_string()
    }

    /// Parses a decoded `$skiptoken` value.
    pub fn decode(token: &str) -> Result<PageCookie, EmulatorError> {
        let bad = || EmulatorError::bad_request("0x80040203", "The paging cookie is not valid.");
        let inner = decode(&attribute(token, "pagingcookie").ok_or_else(bad)?);
        let guid = |name: &str| {
            attribute(&inner, name).and_then(|g| g.trim_matches(['{', '}']).parse().ok())
        };
        Ok(PageCookie {
            page: attribute(token, "pagenumber")
                .and_then(|p| p.parse().ok())
                .ok_or_else(bad)?,
            last: guid("last"),
            first: guid("first"),
            tracking: attribute(token, "istracking").as_deref() == Some("True"),
            version_stamp: attribute(token, "versionstamp"),
            delta_phase: attribute(token, "deltaphase").and_then(|v| v.parse().ok()),
            delta_after: attribute(token, "deltaafter").and_then(|v| v.parse().ok()),
            delta_to: attribute(token, "deltato").and_then(|v| v.parse().ok()),
        })
    }
}

fn attribute(xml: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = xml.find(&needle)? + needle.len();
    let end = xml[start..].find('"')? + start;
    Some(xml[start..end].to_owned())
}

/// A delta token: `<version>!<MM/dd/yyyy HH:mm:ss>` (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaToken {
    pub version: u64,
    pub issued: i64,
}

impl DeltaToken {
    pub fn text(&self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(self.issued)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        format!(
            "{}!{:02}/{:02}/{:04} {:02}:{:02}:{:02}",
            self.version,
            u8::from(t.month()),
            t.day(),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    pub fn encoded(&self) -> String {
        lower_hex(utf8_percent_encode(&self.text(), DELTA).to_string())
    }

    pub fn parse(s: &str) -> Option<DeltaToken> {
        let (v, date) = s.split_once('!')?;
        let fmt =
            time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]:[second]");
        let issued = time::PrimitiveDateTime::parse(date, fmt)
            .ok()?
            .assume_utc()
            .unix_timestamp();
        Some(DeltaToken {
            version: v.parse().ok()?,
            issued,
        })
    }
}
