//! `RelationshipDefinitions` (with casts), per-table relationship lists and
//! `GlobalOptionSetDefinitions`.

use super::Reply;
use super::metadata_query::{
    NS, Segment, collection, filter_matches, key_matches, reply, sel_context, select,
};
use crate::error::EmulatorError;
use crate::metadata as md;
use crate::odata::QueryOptions;
use crate::schema::{Catalog, EntityDef};
use serde_json::{Map, Value};

pub(super) fn entity_relationships(
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

pub(super) fn relationships(
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

pub(super) fn global_option_sets(
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
