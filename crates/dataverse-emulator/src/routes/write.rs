//! Writes through the Web API: create, conditional upsert, delete and N:N `$ref` links.

use super::{Reply, empty_reply};
use crate::error::EmulatorError;
use crate::odata::{Prefer, QueryOptions};
use crate::render::{Annotations, RowWriter, columns};
use crate::server::ServerState;
use axum::http::HeaderMap;
use serde_json::{Map, Value};
use uuid::Uuid;

fn body_object(body: &[u8]) -> Result<Map<String, Value>, EmulatorError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(EmulatorError::bad_request(
            "0x80040203",
            "The request body must be a JSON object.",
        )),
    }
}

fn entity_id_header(sh: &ServerState, e: usize, id: Uuid) -> String {
    let set = sh.read().catalog.entities[e].entity_set.clone();
    format!("{}/{set}({id})", sh.api_url)
}

pub fn create(
    sh: &ServerState,
    e: usize,
    _headers: &HeaderMap,
    body: &[u8],
    prefer: &Prefer,
) -> Result<Reply, EmulatorError> {
    let fields = body_object(body)?;
    let id = sh.write().create(e, &fields)?;
    let location = entity_id_header(sh, e, id);
    if !prefer.return_representation {
        return Ok(empty_reply(204).header("OData-EntityId", location));
    }
    let store = sh.read();
    let def = &store.catalog.entities[e];
    let cols = columns(def, None)?;
    let row = store
        .get(e, &id)
        .ok_or_else(|| EmulatorError::not_found(&def.logical_name, &id))?;
    let mut buf = String::new();
    let ctx = format!("{}/$metadata#{}/$entity", sh.api_url, def.entity_set);
    RowWriter {
        store: &store,
        def,
        cols: &cols,
        ann: Annotations::from_prefer(prefer),
    }
    .write(&mut buf, &row, Some(&ctx));
    Ok(super::json_reply(201, buf, "return=representation").header("OData-EntityId", location))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| *v != "null")
}

/// `PATCH <set>(<id>)`: upsert, or update-only / create-only with `If-Match` / `If-None-Match`.
pub fn upsert(
    sh: &ServerState,
    e: usize,
    id: Uuid,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, EmulatorError> {
    let mut fields = body_object(body)?;
    let mut store = sh.write();
    let def = &store.catalog.entities[e];
    let (logical, pk) = (def.logical_name.clone(), def.primary_id.clone());
    let current = store.get(e, &id).map(|r| r.version);
    match (
        header(headers, "if-match"),
        header(headers, "if-none-match"),
        current,
    ) {
        (Some(_), _, None) => return Err(EmulatorError::not_found(&logical, &id)),
        (Some(m), _, Some(v)) if m != "*" && m != format!("W/\"{v}\"") => {
            return Err(EmulatorError::row_version());
        }
        (_, Some("*"), Some(_)) => return Err(EmulatorError::duplicate()),
        _ => {}
    }
    if current.is_some() {
        store.update(e, id, &fields)?;
    } else {
        fields.insert(pk, Value::String(id.to_string()));
        store.create(e, &fields)?;
    }
    drop(store);
    Ok(empty_reply(204).header("OData-EntityId", entity_id_header(sh, e, id)))
}

pub fn delete(sh: &ServerState, e: usize, id: Uuid) -> Result<Reply, EmulatorError> {
    sh.write().delete(e, id)?;
    Ok(empty_reply(204))
}

/// Parses `.../<set>(<id>)` into the table index and id.
fn reference(sh: &ServerState, url: &str) -> Result<(usize, Uuid), EmulatorError> {
    let bad =
        || EmulatorError::bad_request("0x80060888", format!("The reference '{url}' is not valid."));
    let tail = url.rsplit('/').next().ok_or_else(bad)?;
    let (set, key) = tail.split_once('(').ok_or_else(bad)?;
    let id = key.trim_end_matches(')').parse().map_err(|_| bad())?;
    let e = sh.read().catalog.by_set(set).ok_or_else(bad)?;
    Ok((e, id))
}

/// Orders the two ids as (entity1, entity2) of the relationship reached by `nav` from `e`.
fn relationship(
    sh: &ServerState,
    e: usize,
    id: Uuid,
    nav: &str,
    other: Uuid,
) -> Result<(String, Uuid, Uuid), EmulatorError> {
    let store = sh.read();
    let name = &store.catalog.entities[e].logical_name;
    let rel = store
        .catalog
        .relationship_by_nav(name, nav)
        .ok_or_else(|| EmulatorError::no_resource(nav))?;
    Ok(if rel.entity1 == *name {
        (rel.schema_name.clone(), id, other)
    } else {
        (rel.schema_name.clone(), other, id)
    })
}

pub fn associate(
    sh: &ServerState,
    e: usize,
    id: Uuid,
    nav: &str,
    body: &[u8],
) -> Result<Reply, EmulatorError> {
    let fields = body_object(body)?;
    let target = fields
        .get("@odata.id")
        .and_then(Value::as_str)
        .ok_or_else(|| EmulatorError::bad_request("0x80060888", "@odata.id is required."))?;
    let (_, other) = reference(sh, target)?;
    let (rel, id1, id2) = relationship(sh, e, id, nav, other)?;
    sh.write().associate(&rel, id1, id2)?;
    Ok(empty_reply(204))
}

pub fn disassociate(
    sh: &ServerState,
    e: usize,
    id: Uuid,
    nav: &str,
    q: &QueryOptions,
) -> Result<Reply, EmulatorError> {
    let target = q
        .other
        .iter()
        .find(|(k, _)| k == "$id")
        .map(|(_, v)| v.as_str());
    let target =
        target.ok_or_else(|| EmulatorError::bad_request("0x80060888", "$id is required."))?;
    let (_, other) = reference(sh, target)?;
    let (rel, id1, id2) = relationship(sh, e, id, nav, other)?;
    sh.write().disassociate(&rel, id1, id2)?;
    Ok(empty_reply(204))
}
