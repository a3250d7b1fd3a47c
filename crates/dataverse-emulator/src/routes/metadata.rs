//! Metadata routes: `EntityDefinitions` (with Attributes and casts), `GlobalOptionSetDefinitions`
//! and `RelationshipDefinitions`. Metadata is never paged.

use super::{Reply, json_reply};
use crate::error::EmulatorError;
use crate::metadata as md;
use crate::odata::QueryOptions;
use crate::schema::{AttrDef, Catalog, EntityDef};
use crate::server::Shared;
use serde_json::{Map, Value};

const NS: &str = "Microsoft.Dynamics.CRM.";

/// One path segment: `Name` or `Name(key)`.
struct Segment<'a> {
    name: &'a str,
    key: Option<&'a str>,
}

fn segments(path: &str) -> Vec<Segment<'_>> {
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
fn key_matches(key: &str, name: &str, id: &uuid::Uuid) -> bool {
    match key.split_once('=') {
        Some((_, v)) => v.trim_matches('\'') == name,
        None => key.parse::<uuid::Uuid>().is_ok_and(|k| k == *id),
    }
}

/// How the entity was addressed, for `@odata.context`: `('account')` or `(<id>)`.
fn key_context(key: &str) -> String {
    match key.split_once('=') {
        Some((_, v)) => format!("({v})"),
        None => format!("({key})"),
    }
}

/// A parsed `$expand` item: name plus nested `$select` / `$filter`.
struct Expand {
    name: String,
    select: Option<Vec<String>>,
    filter: Option<String>,
}

fn parse_expand(text: &str) -> Vec<Expand> {
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
fn select(m: Map<String, Value>, fields: Option<&[String]>) -> Map<String, Value> {
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

fn literal(text: &str) -> Value {
    let t = text.trim();
    if let Some(start) = t.find('\'') {
        return Value::String(t[start + 1..t.len().saturating_sub(1)].replace("''", "'"));
    }
    serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned()))
}

/// `Prop eq literal` / `Prop/Value ne literal` joined by `and`.
fn filter_matches(m: &Map<String, Value>, filter: &str) -> bool {
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

fn sel_context(q_select: Option<&[String]>, expands: &[Expand]) -> String {
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

fn reply(body: Map<String, Value>) -> Result<Reply, EmulatorError> {
    Ok(json_reply(200, Value::Object(body).to_string(), ""))
}

fn collection(context: String, items: Vec<Value>) -> Result<Reply, EmulatorError> {
    let mut m = Map::new();
    m.insert("@odata.context".into(), Value::String(context));
    m.insert("value".into(), Value::Array(items));
    reply(m)
}

pub fn get(sh: &Shared, path: &str, q: &QueryOptions) -> Result<Reply, EmulatorError> {
    let store = sh.read();
    let segs = segments(path);
    let ctx = format!("{}/$metadata#", sh.api_url);
    match segs.first().map(|s| s.name) {
        Some("EntityDefinitions") => entity_definitions(&store.catalog, &segs, q, &ctx),
        Some("GlobalOptionSetDefinitions") => global_option_sets(&store.catalog, &segs, q, &ctx),
        _ => relationships(&store.catalog, &segs, q, &ctx),
    }
}

fn find_entity<'a>(cat: &'a Catalog, key: &str) -> Result<&'a EntityDef, EmulatorError> {
    cat.entities
        .iter()
        .find(|e| key_matches(key, &e.logical_name, &e.metadata_id))
        .ok_or_else(|| {
            EmulatorError::api(
                404,
                "0x80040217",
                format!("Could not find entity with key {key}."),
            )
        })
}

fn entity_json(def: &EntityDef, q: &QueryOptions, expands: &[Expand]) -> Map<String, Value> {
    let mut m = select(md::entity(def), q.select.as_deref());
    for ex in expands.iter().filter(|e| e.name == "Attributes") {
        let attrs = def
            .attributes
            .iter()
            .map(|a| md::attribute(def, a, false))
            .filter(|a| ex.filter.as_deref().is_none_or(|f| filter_matches(a, f)))
            .map(|a| Value::Object(select(a, ex.select.as_deref())))
            .collect();
        m.insert("Attributes".into(), Value::Array(attrs));
    }
    m
}

fn entity_definitions(
    cat: &Catalog,
    segs: &[Segment<'_>],
    q: &QueryOptions,
    ctx: &str,
) -> Result<Reply, EmulatorError> {
    let expands = q.expand.as_deref().map(parse_expand).unwrap_or_default();
    let Some(key) = segs[0].key else {
        let items = cat
            .entities
            .iter()
            .filter(|d| {
                q.filter
                    .as_deref()
                    .is_none_or(|f| filter_matches(&md::entity(d), f))
            })
            .map(|d| Value::Object(entity_json(d, q, &expands)))
            .collect();
        return collection(
            format!(
                "{ctx}EntityDefinitions{}",
                sel_context(q.select.as_deref(), &expands)
            ),
            items,
        );
    };
    let def = find_entity(cat, key)?;
    let base = format!("{ctx}EntityDefinitions{}", key_context(key));
    match segs.get(1).map(|s| (s.name, s.key)) {
        None => {
            let mut m = Map::new();
            m.insert(
                "@odata.context".into(),
                Value::String(format!(
                    "{ctx}EntityDefinitions{}/$entity",
                    sel_context(q.select.as_deref(), &expands)
                )),
            );
            m.extend(entity_json(def, q, &expands));
            reply(m)
        }
        Some(("Attributes", None)) => attributes(def, segs.get(2).map(|s| s.name), q, &base),
        Some(("Attributes", Some(k))) => {
            one_attribute(def, k, segs.get(2).map(|s| s.name), q, &base)
        }
        Some((rel, None)) if rel.ends_with("Relationships") => {
            entity_relationships(cat, def, rel, q, &format!("{base}/{rel}"))
        }
        _ => Err(EmulatorError::no_resource(segs[1].name)),
    }
}

/// The derived type named by a cast segment, checked against the attribute's kind.
fn cast_matches(a: &AttrDef, cast: Option<&str>) -> bool {
    cast.is_none_or(|c| c.strip_prefix(NS).unwrap_or(c) == a.kind.metadata_type())
}

fn attributes(
    def: &EntityDef,
    cast: Option<&str>,
    q: &QueryOptions,
    base: &str,
) -> Result<Reply, EmulatorError> {
    let expands = q.expand.as_deref().map(parse_expand).unwrap_or_default();
    let items = def
        .attributes
        .iter()
        .filter(|a| cast_matches(a, cast))
        .filter(|a| {
            q.filter
                .as_deref()
                .is_none_or(|f| filter_matches(&md::attribute(def, a, cast.is_some()), f))
        })
        .map(|a| Value::Object(attribute_json(def, a, cast.is_some(), q, &expands, None)))
        .collect();
    let cast_part = cast.map(|c| format!("/{c}")).unwrap_or_default();
    collection(
        format!(
            "{base}/Attributes{cast_part}{}",
            sel_context(q.select.as_deref(), &expands)
        ),
        items,
    )
}

fn one_attribute(
    def: &EntityDef,
    key: &str,
    cast: Option<&str>,
    q: &QueryOptions,
    base: &str,
) -> Result<Reply, EmulatorError> {
    let expands = q.expand.as_deref().map(parse_expand).unwrap_or_default();
    let a = def
        .attributes
        .iter()
        .find(|a| key_matches(key, &a.logical_name, &a.metadata_id))
        .filter(|a| cast_matches(a, cast))
        .ok_or_else(|| {
            EmulatorError::api(
                404,
                "0x80040217",
                format!("Could not find attribute with key {key}."),
            )
        })?;
    let cast_part = cast.map(|c| format!("/{c}")).unwrap_or_default();
    let mut m = Map::new();
    m.insert(
        "@odata.context".into(),
        Value::String(format!(
            "{base}/Attributes{cast_part}{}/$entity",
            sel_context(q.select.as_deref(), &expands)
        )),
    );
    let opt_ctx = format!("{base}/Attributes({}){cast_part}", a.metadata_id);
    m.extend(attribute_json(
        def,
        a,
        cast.is_some(),
        q,
        &expands,
        Some(&opt_ctx),
    ));
    reply(m)
}

fn attribute_json(
    def: &EntityDef,
    a: &AttrDef,
    cast: bool,
    q: &QueryOptions,
    expands: &[Expand],
    opt_ctx: Option<&str>,
) -> Map<String, Value> {
    let mut m = select(md::attribute(def, a, cast), q.select.as_deref());
    for ex in expands {
        let set = match ex.name.as_str() {
            "OptionSet" if a.options.as_ref().is_none_or(|s| !s.is_global) => a.options.as_ref(),
            "GlobalOptionSet" => a.options.as_ref().filter(|s| s.is_global),
            _ => continue,
        };
        let value = if set.is_some()
            || (ex.name == "OptionSet" && a.kind == crate::schema::Kind::Boolean)
        {
            if let Some(c) = opt_ctx {
                let sel = ex
                    .select
                    .as_ref()
                    .map(|s| format!("({})", s.join(",")))
                    .unwrap_or_default();
                m.insert(
                    format!("{}@odata.context", ex.name),
                    Value::String(format!("{c}/{}{sel}/$entity", ex.name)),
                );
            }
            Value::Object(select(md::option_set(a, set), ex.select.as_deref()))
        } else {
            Value::Null
        };
        m.insert(ex.name.clone(), value);
    }
    m
}

fn entity_relationships(
    cat: &Catalog,
    def: &EntityDef,
    rel: &str,
    q: &QueryOptions,
    context: &str,
) -> Result<Reply, EmulatorError> {
    let name = &def.logical_name;
    let items: Vec<Map<String, Value>> = match rel {
        "ManyToManyRelationships" => cat
            .many_to_many
            .iter()
            .filter(|r| r.entity1 == *name || r.entity2 == *name)
            .map(|r| md::many_to_many(r, true))
            .collect(),
        "ManyToOneRelationships" => def
            .attributes
            .iter()
            .filter(|a| a.kind.is_lookup())
            .flat_map(|a| {
                a.targets
                    .iter()
                    .map(move |t| md::one_to_many(def, a, t, true))
            })
            .collect(),
        "OneToManyRelationships" => one_to_many_all(cat, true)
            .into_iter()
            .filter(|m| m.get("ReferencedEntity").and_then(Value::as_str) == Some(name))
            .collect(),
        _ => return Err(EmulatorError::no_resource(rel)),
    };
    let items = items
        .into_iter()
        .filter(|m| q.filter.as_deref().is_none_or(|f| filter_matches(m, f)))
        .map(|m| Value::Object(select(m, q.select.as_deref())))
        .collect();
    collection(context.to_owned(), items)
}

fn one_to_many_all(cat: &Catalog, cast: bool) -> Vec<Map<String, Value>> {
    cat.entities
        .iter()
        .flat_map(|d| {
            d.attributes
                .iter()
                .filter(|a| a.kind.is_lookup())
                .flat_map(move |a| {
                    a.targets
                        .iter()
                        .map(move |t| md::one_to_many(d, a, t, cast))
                })
        })
        .collect()
}

fn relationships(
    cat: &Catalog,
    segs: &[Segment<'_>],
    q: &QueryOptions,
    ctx: &str,
) -> Result<Reply, EmulatorError> {
    let cast = segs
        .get(1)
        .map(|s| s.name.strip_prefix(NS).unwrap_or(s.name));
    let mut items: Vec<Map<String, Value>> = Vec::new();
    if cast.is_none_or(|c| c == "ManyToManyRelationshipMetadata") {
        items.extend(
            cat.many_to_many
                .iter()
                .map(|r| md::many_to_many(r, cast.is_some())),
        );
    }
    if cast.is_none_or(|c| c == "OneToManyRelationshipMetadata") {
        items.extend(one_to_many_all(cat, cast.is_some()));
    }
    if let Some(key) = segs[0].key {
        let one = items
            .into_iter()
            .find(|m| {
                m.get("SchemaName")
                    .and_then(Value::as_str)
                    .is_some_and(|s| key_matches(key, s, &uuid::Uuid::nil()))
                    || m.get("MetadataId").and_then(Value::as_str) == Some(key)
            })
            .ok_or_else(|| {
                EmulatorError::api(
                    404,
                    "0x80040217",
                    format!("Could not find relationship with key {key}."),
                )
            })?;
        let mut m = Map::new();
        m.insert(
            "@odata.context".into(),
            Value::String(format!("{ctx}RelationshipDefinitions/$entity")),
        );
        m.extend(select(one, q.select.as_deref()));
        return reply(m);
    }
    let items = items
        .into_iter()
        .filter(|m| q.filter.as_deref().is_none_or(|f| filter_matches(m, f)))
        .map(|m| Value::Object(select(m, q.select.as_deref())))
        .collect();
    let cast_part = segs
        .get(1)
        .map(|s| format!("/{}", s.name))
        .unwrap_or_default();
    collection(
        format!(
            "{ctx}RelationshipDefinitions{cast_part}{}",
            sel_context(q.select.as_deref(), &[])
        ),
        items,
    )
}

fn global_option_sets(
    cat: &Catalog,
    segs: &[Segment<'_>],
    q: &QueryOptions,
    ctx: &str,
) -> Result<Reply, EmulatorError> {
    if let Some(key) = segs[0].key {
        let set = cat
            .global_option_sets
            .iter()
            .find(|s| key_matches(key, &s.name, &s.metadata_id))
            .ok_or_else(|| {
                EmulatorError::api(
                    404,
                    "0x80040217",
                    format!("Could not find optionset with key {key}."),
                )
            })?;
        let mut m = Map::new();
        m.insert(
            "@odata.context".into(),
            Value::String(format!("{ctx}GlobalOptionSetDefinitions/$entity")),
        );
        m.extend(select(md::global_option_set(set), q.select.as_deref()));
        return reply(m);
    }
    let items = cat
        .global_option_sets
        .iter()
        .map(|s| Value::Object(select(md::global_option_set(s), q.select.as_deref())))
        .collect();
    collection(
        format!(
            "{ctx}GlobalOptionSetDefinitions{}",
            sel_context(q.select.as_deref(), &[])
        ),
        items,
    )
}
