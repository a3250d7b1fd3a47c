//! Query handling shared by the metadata routes: path segments and keys, `$select`,
//! `$expand` and the `$filter` subset metadata clients use.

use super::{Reply, json_reply};
use crate::error::EmulatorError;
use serde_json::{Map, Value};

pub(super) const NS: &str = "Microsoft.Dynamics.CRM.";

/// One path segment: `Name` or `Name(key)`.
pub(super) struct Segment<'a> {
    pub name: &'a str,
    pub key: Option<&'a str>,
}

pub(super) fn segments(path: &str) -> Vec<Segment<'_>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.split_once('(') {
            Some((name, key)) => Segment {
                name,
                key: Some(key.trim_end_matches(')')),
            },
            None => Segment { name: s, key: None },
        })
        .collect()
}

/// `LogicalName='x'` / `Name='x'` / `SchemaName='x'` / a bare MetadataId.
pub(super) fn key_matches(key: &str, name: &str, id: &uuid::Uuid) -> bool {
    match key.split_once('=') {
        Some((_, v)) => v.trim_matches('\'') == name,
        None => key.parse::<uuid::Uuid>().is_ok_and(|k| k == *id),
    }
}

/// How the entity was addressed, for `@odata.context`: `('account')` or `(<id>)`.
pub(super) fn key_context(key: &str) -> String {
    match key.split_once('=') {
        Some((_, v)) => format!("({v})"),
        None => format!("({key})"),
    }
}

/// A parsed `$expand` item: name plus nested `$select` / `$filter`.
pub(super) struct Expand {
    pub name: String,
    pub select: Option<Vec<String>>,
    pub filter: Option<String>,
}

pub(super) fn parse_expand(text: &str) -> Vec<Expand> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices().chain([(text.len(), ',')]) {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (name, opts) = item
                .split_once('(')
                .map_or((item, ""), |(n, o)| (n, o.trim_end_matches(')')));
            let mut e = Expand {
                name: name.trim().to_owned(),
                select: None,
                filter: None,
            };
            for opt in opts.split(';') {
                if let Some(s) = opt.trim().strip_prefix("$select=") {
                    e.select = Some(s.split(',').map(|x| x.trim().to_owned()).collect());
                } else if let Some(f) = opt.trim().strip_prefix("$filter=") {
                    e.filter = Some(f.to_owned());
                }
            }
            e
        })
        .collect()
}

/// Keeps `@odata.type`, the selected properties in `$select` order, then `MetadataId`.
pub(super) fn select(m: Map<String, Value>, fields: Option<&[String]>) -> Map<String, Value> {
    let Some(fields) = fields else { return m };
    let mut m = m;
    let mut out = Map::new();
    if let Some(t) = m.shift_remove("@odata.type") {
        out.insert("@odata.type".into(), t);
    }
    for f in fields {
        if let Some(v) = m.shift_remove(f) {
            out.insert(f.clone(), v);
        }
    }
    if let Some(id) = m.shift_remove("MetadataId") {
        out.insert("MetadataId".into(), id);
    }
    out
}

pub(super) fn literal(text: &str) -> Value {
    let t = text.trim();
    if let Some(start) = t.find('\'') {
        return Value::String(t[start + 1..t.len().saturating_sub(1)].replace("''", "'"));
    }
    serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned()))
}

/// `Prop eq literal` / `Prop/Value ne literal` joined by `and`.
pub(super) fn filter_matches(m: &Map<String, Value>, filter: &str) -> bool {
    filter.split(" and ").all(|term| {
        let mut parts = term.trim().splitn(3, ' ');
        let (Some(path), Some(op), Some(lit)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        let mut v = m.get(path.split('/').next().unwrap_or(""));
        for p in path.split('/').skip(1) {
            v = v.and_then(|x| x.get(p));
        }
        let eq = v.unwrap_or(&Value::Null) == &literal(lit);
        if op == "ne" { !eq } else { eq }
    })
}

pub(super) fn sel_context(q_select: Option<&[String]>, expands: &[Expand]) -> String {
    let mut parts: Vec<String> = q_select.map(|s| s.to_vec()).unwrap_or_default();
    parts.extend(expands.iter().map(|e| e.name.clone()));
    for e in expands {
        if let Some(s) = &e.select {
            parts.push(format!("{}({})", e.name, s.join(",")));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(","))
    }
}

pub(super) fn reply(body: Map<String, Value>) -> Result<Reply, EmulatorError> {
    Ok(json_reply(200, Value::Object(body).to_string(), ""))
}

pub(super) fn collection(context: String, items: Vec<Value>) -> Result<Reply, EmulatorError> {
    let mut m = Map::new();
    m.insert("@odata.context".into(), Value::String(context));
    m.insert("value".into(), Value::Array(items));
    reply(m)
}
