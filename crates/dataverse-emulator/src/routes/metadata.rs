//! Metadata routes: `EntityDefinitions` (with Attributes and casts), `GlobalOptionSetDefinitions`
//! and `RelationshipDefinitions`. Metadata is never paged.

use super::Reply;
use super::metadata_query::{
    Expand, NS, Segment, collection, filter_matches, key_context, key_matches, parse_expand, reply,
    segments, sel_context, select,
};
use super::relationships::{entity_relationships, global_option_sets, relationships};
use crate::error::EmulatorError;
use crate::metadata as md;
use crate::odata::QueryOptions;
use crate::schema::{AttrDef, Catalog, EntityDef};
use crate::server::ServerState;
use serde_json::{Map, Value};

pub fn get(sh: &ServerState, path: &str, q: &QueryOptions) -> Result<Reply, EmulatorError> {
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
