//! Writes: Web API JSON bodies into cells, creates, updates, deletes, N:N links, schema changes.

use super::{Cell, Store};
use crate::error::EmulatorError;
use crate::generate::Gen;
use crate::schema::{AttrDef, EntityDef, Kind, catalog::attr};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A schema change made at run time, kept so a restarted emulator replays it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SchemaOp {
    AddAttribute {
        entity: String,
        name: String,
        kind: String,
        max_length: Option<i32>,
    },
    SetMaxLength {
        entity: String,
        attribute: String,
        max_length: i32,
    },
}

impl Store {
    pub fn apply_schema(&mut self, op: SchemaOp) -> Result<(), EmulatorError> {
        let (entity, attribute) = match &op {
            SchemaOp::AddAttribute { entity, name, .. } => (entity, name),
            SchemaOp::SetMaxLength {
                entity, attribute, ..
            } => (entity, attribute),
        };
        let e = self
            .entity_index(entity)
            .ok_or_else(|| EmulatorError::no_resource(entity))?;
        let def = &mut self.catalog.entities[e];
        match &op {
            SchemaOp::AddAttribute {
                kind, max_length, ..
            } => {
                let kind = Kind::parse(kind).ok_or_else(|| {
                    EmulatorError::bad_request("", format!("unsupported kind {kind}"))
                })?;
                if def.attr_index(attribute).is_some() {
                    return Err(EmulatorError::bad_request(
                        "0x80044150",
                        format!("An attribute named {attribute} already exists"),
                    ));
                }
                let mut a = attr(attribute, attribute, kind, Gen::Null);
                a.max_length = max_length.or(a.max_length);
                a.column_number = def.attributes.len() as i32 + 1;
                a.metadata_id =
                    crate::schema::metadata_id(&["attribute", &def.logical_name, attribute]);
                def.attributes.push(a);
            }
            SchemaOp::SetMaxLength { max_length, .. } => {
                let i = def
                    .attr_index(attribute)
                    .ok_or_else(|| EmulatorError::no_resource(attribute))?;
                def.attributes[i].max_length = Some(*max_length);
            }
        }
        self.schema_log.push(op);
        self.dirty = true;
        Ok(())
    }

    /// Creates a row from a Web API body; a given primary id is honoured.
    pub fn create(&mut self, e: usize, fields: &Map<String, Value>) -> Result<Uuid, EmulatorError> {
        let def = &self.catalog.entities[e];
        let mut cells = vec![Cell::Null; def.attributes.len()];
        cells_from_json(self, e, fields, &mut cells)?;
        let pk = def.primary_index();
        let id = match &cells[pk] {
            Cell::Guid(g) => *g,
            _ => Uuid::new_v4(),
        };
        if self.get(e, &id).is_some() {
            return Err(EmulatorError::duplicate());
        }
        cells[pk] = Cell::Guid(id);
        self.compute(e, &mut cells, true);
        self.put(e, id, cells);
        Ok(id)
    }

    /// Updates row `id`; false when it does not exist.
    pub fn update(
        &mut self,
        e: usize,
        id: Uuid,
        fields: &Map<String, Value>,
    ) -> Result<bool, EmulatorError> {
        let Some(row) = self.get(e, &id) else {
            return Ok(false);
        };
        let def = &self.catalog.entities[e];
        let mut cells = row.into_owned().cells;
        cells.resize(def.attributes.len(), Cell::Null);
        cells_from_json(self, e, fields, &mut cells)?;
        cells[def.primary_index()] = Cell::Guid(id);
        self.compute(e, &mut cells, false);
        self.put(e, id, cells);
        Ok(true)
    }

    pub fn delete(&mut self, e: usize, id: Uuid) -> Result<(), EmulatorError> {
        if self.remove(e, &id) {
            Ok(())
        } else {
            Err(EmulatorError::not_found(
                &self.catalog.entities[e].logical_name,
                &id,
            ))
        }
    }

    /// Finds the intersect row linking `id1` and `id2` in relationship `rel`.
    fn link(
        &self,
        rel: &str,
        id1: Uuid,
        id2: Uuid,
    ) -> Result<(usize, Option<Uuid>), EmulatorError> {
        let r = self
            .catalog
            .relationship(rel)
            .ok_or_else(|| EmulatorError::no_resource(rel))?;
        let ie = self
            .entity_index(&r.intersect)
            .ok_or_else(|| EmulatorError::no_resource(rel))?;
        let def = &self.catalog.entities[ie];
        let (a, b) = (
            def.attr_index(&r.entity1_attr),
            def.attr_index(&r.entity2_attr),
        );
        let (Some(a), Some(b)) = (a, b) else {
            return Err(EmulatorError::no_resource(rel));
        };
        let found = self
            .scan(ie, None)
            .find(|(_, row)| *row.cell(a) == Cell::Guid(id1) && *row.cell(b) == Cell::Guid(id2))
            .map(|(id, _)| id);
        Ok((ie, found))
    }

    pub fn associate(&mut self, rel: &str, id1: Uuid, id2: Uuid) -> Result<(), EmulatorError> {
        let r = self
            .catalog
            .relationship(rel)
            .ok_or_else(|| EmulatorError::no_resource(rel))?
            .clone();
        for (entity, id) in [(&r.entity1, id1), (&r.entity2, id2)] {
            let e = self
                .entity_index(entity)
                .ok_or_else(|| EmulatorError::no_resource(entity))?;
            if self.get(e, &id).is_none() {
                return Err(EmulatorError::not_found(entity, &id));
            }
        }
        let (ie, found) = self.link(rel, id1, id2)?;
        if found.is_some() {
            return Err(EmulatorError::bad_request(
                "0x80040237",
                "Cannot insert duplicate key.",
            ));
        }
        let def = &self.catalog.entities[ie];
        let mut cells = vec![Cell::Null; def.attributes.len()];
        let id = Uuid::new_v4();
        cells[def.primary_index()] = Cell::Guid(id);
        cells[def.attr_index(&r.entity1_attr).unwrap_or(1)] = Cell::Guid(id1);
        cells[def.attr_index(&r.entity2_attr).unwrap_or(2)] = Cell::Guid(id2);
        self.put(ie, id, cells);
        Ok(())
    }

    pub fn disassociate(&mut self, rel: &str, id1: Uuid, id2: Uuid) -> Result<(), EmulatorError> {
        match self.link(rel, id1, id2)? {
            (ie, Some(id)) => self.delete(ie, id),
            (ie, None) => Err(EmulatorError::not_found(
                &self.catalog.entities[ie].logical_name,
                &id1,
            )),
        }
    }
}

/// Applies a Web API JSON body to `cells`.
pub fn cells_from_json(
    store: &Store,
    e: usize,
    fields: &Map<String, Value>,
    cells: &mut [Cell],
) -> Result<(), EmulatorError> {
    let def = &store.catalog.entities[e];
    for (key, value) in fields {
        if let Some(nav) = key.strip_suffix("@odata.bind") {
            let (i, cell) = bind(store, def, nav, value)?;
            cells[i] = cell;
        } else if key.contains('@') {
            continue;
        } else if let Some(i) = def.wire_index(key) {
            let a = &def.attributes[i];
            if a.logical_name == "versionnumber" {
                continue;
            }
            cells[i] = if a.kind.is_lookup() {
                lookup_value(store, def, a, key, fields, value)?
            } else {
                cell(def, a, value)?
            };
        } else {
            return Err(EmulatorError::unknown_property(key, &def.logical_name));
        }
    }
    Ok(())
}

fn invalid(a: &AttrDef, value: &Value) -> EmulatorError {
    EmulatorError::bad_request(
        "0x80048d19",
        format!(
            "Cannot convert the literal '{value}' to the expected type of '{}'.",
            a.logical_name
        ),
    )
}

fn cell(def: &EntityDef, a: &AttrDef, value: &Value) -> Result<Cell, EmulatorError> {
    if value.is_null() {
        return Ok(Cell::Null);
    }
    let bad = || invalid(a, value);
    Ok(match a.kind {
        Kind::String | Kind::Memo | Kind::EntityName | Kind::MultiSelect | Kind::Image => {
            let s = value.as_str().ok_or_else(bad)?;
            check_length(def, a, s)?;
            Cell::Text(s.into())
        }
        Kind::Integer | Kind::BigInt | Kind::Picklist | Kind::State | Kind::Status => {
            Cell::Int(value.as_i64().ok_or_else(bad)?)
        }
        Kind::Decimal | Kind::Money => {
            Cell::Dec(scaled(&value.to_string(), a.precision.unwrap_or(2)).ok_or_else(bad)?)
        }
        Kind::Double => Cell::Float(value.as_f64().ok_or_else(bad)?),
        Kind::Boolean => Cell::Bool(value.as_bool().ok_or_else(bad)?),
        Kind::DateTime => Cell::Time(parse_time(value.as_str().ok_or_else(bad)?).ok_or_else(bad)?),
        Kind::Uniqueidentifier | Kind::File | Kind::Lookup | Kind::Customer | Kind::Owner => {
            Cell::Guid(
                value
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(bad)?,
            )
        }
    })
}

fn check_length(def: &EntityDef, a: &AttrDef, s: &str) -> Result<(), EmulatorError> {
    match a.max_length {
        Some(max) if s.chars().count() > max as usize => Err(EmulatorError::bad_request(
            "0x80044331",
            format!(
                "A validation error occurred. The length of the '{}' attribute of the '{}' entity exceeded the maximum allowed length of '{max}'.",
                a.logical_name, def.logical_name
            ),
        )),
        _ => Ok(()),
    }
}

/// An exact decimal literal scaled to `precision` digits (extra digits are rounded away).
pub fn scaled(text: &str, precision: i32) -> Option<i64> {
    if text.contains(['e', 'E']) {
        let f: f64 = text.parse().ok()?;
        return Some((f * 10f64.powi(precision)).round() as i64);
    }
    let (neg, digits) = text.strip_prefix('-').map_or((false, text), |d| (true, d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let p = precision.max(0) as usize;
    let mut frac: String = frac.chars().take(p).collect();
    while frac.len() < p {
        frac.push('0');
    }
    let v: i64 = format!("{int}{frac}").parse().ok()?;
    Some(if neg { -v } else { v })
}

pub fn parse_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let d = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp())
}

fn lookup_value(
    store: &Store,
    def: &EntityDef,
    a: &AttrDef,
    key: &str,
    fields: &Map<String, Value>,
    value: &Value,
) -> Result<Cell, EmulatorError> {
    let Some(s) = value.as_str() else {
        return if value.is_null() {
            Ok(Cell::Null)
        } else {
            Err(invalid(a, value))
        };
    };
    let id: Uuid = s.parse().map_err(|_| invalid(a, value))?;
    let target = fields
        .get(&format!("{key}@Microsoft.Dynamics.CRM.lookuplogicalname"))
        .and_then(Value::as_str)
        .and_then(|t| a.targets.iter().position(|x| x == t))
        .unwrap_or_else(|| guess_target(store, a, &id));
    let _ = def;
    Ok(Cell::Ref(id, target as u8))
}

/// Picks the target table that holds `id`, for polymorphic lookups given without annotation.
fn guess_target(store: &Store, a: &AttrDef, id: &Uuid) -> usize {
    a.targets
        .iter()
        .position(|t| {
            store
                .entity_index(t)
                .is_some_and(|e| store.get(e, id).is_some())
        })
        .unwrap_or(0)
}

/// `nav@odata.bind: "/accounts(<id>)"`: nav is the lookup name or `<lookup>_<target>`.
fn bind(
    store: &Store,
    def: &EntityDef,
    nav: &str,
    value: &Value,
) -> Result<(usize, Cell), EmulatorError> {
    let unknown = || EmulatorError::unknown_property(nav, &def.logical_name);
    let (i, a) = def
        .attributes
        .iter()
        .enumerate()
        .filter(|(_, a)| a.kind.is_lookup())
        .find(|(_, a)| {
            nav == a.logical_name
                || nav
                    .strip_prefix(a.logical_name.as_str())
                    .is_some_and(|r| r.starts_with('_'))
        })
        .ok_or_else(unknown)?;
    if value.is_null() {
        return Ok((i, Cell::Null));
    }
    let s = value.as_str().ok_or_else(|| invalid(a, value))?;
    let path = s.rsplit('/').next().unwrap_or(s);
    let (set, rest) = path.split_once('(').ok_or_else(|| invalid(a, value))?;
    let id: Uuid = rest
        .trim_end_matches(')')
        .parse()
        .map_err(|_| invalid(a, value))?;
    let target = store
        .catalog
        .by_set(set)
        .map(|t| store.catalog.entities[t].logical_name.clone());
    let t = target
        .and_then(|t| a.targets.iter().position(|x| *x == t))
        .ok_or_else(|| invalid(a, value))?;
    Ok((i, Cell::Ref(id, t as u8)))
}
