//! `$expand` of single-valued navigation properties (`primarycontactid($select=fullname)`):
//! the related row is written inside the row, or `null`. Collection-valued navigation
//! properties are refused.

use crate::error::EmulatorError;
use crate::render::{Annotations, RowWriter, columns, string};
use crate::schema::navigation::{collection_valued, single_valued};
use crate::schema::{AttrDef, Catalog, EntityDef};
use crate::store::{Cell, Row, Store};
use uuid::Uuid;

/// One expanded navigation property and the columns of the row it brings.
#[derive(Debug, Clone)]
pub struct Expansion {
    pub name: String,
    column: usize,
    /// The table it leads to; `None` for an owner (whichever table the lookup names).
    target: Option<usize>,
    select: Option<Vec<String>>,
}

fn refused(message: String) -> EmulatorError {
    EmulatorError::bad_request("0x80060888", message)
}

/// Splits on commas outside parentheses.
fn items(text: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// Parses `$expand` against `def`.
pub fn parse(cat: &Catalog, def: &EntityDef, text: &str) -> Result<Vec<Expansion>, EmulatorError> {
    let navs = single_valued(cat, def);
    let mut out = Vec::new();
    for item in items(text) {
        let (name, options) = match item.split_once('(') {
            Some((n, rest)) => (n.trim(), rest.strip_suffix(')').unwrap_or(rest)),
            None => (item, ""),
        };
        let Some(nav) = navs.iter().find(|n| n.name == name) else {
            if collection_valued(cat, def).iter().any(|n| n.name == name) {
                return Err(refused(format!(
                    "The emulator does not expand the collection-valued navigation property '{name}'."
                )));
            }
            return Err(EmulatorError::unknown_property(name, &def.logical_name));
        };
        let select = nested_select(options)?;
        let target = nav.target.and_then(|t| cat.index(&t.logical_name));
        let column = def.attr_index(&nav.attr.logical_name).unwrap_or_default();
        let e = Expansion {
            name: name.to_owned(),
            column,
            target,
            select,
        };
        for t in targets(cat, &e, nav.attr) {
            columns(&cat.entities[t], e.select.as_deref())?;
        }
        out.push(e);
    }
    Ok(out)
}

/// `$select=a,b` inside the parentheses; other nested options are refused.
fn nested_select(options: &str) -> Result<Option<Vec<String>>, EmulatorError> {
    let mut select = None;
    for option in options.split(';').map(str::trim).filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("$select", list)) => {
                select = Some(list.split(',').map(|s| s.trim().to_owned()).collect());
            }
            _ => {
                return Err(refused(format!(
                    "The query option '{option}' is not supported inside $expand of a single-valued navigation property."
                )));
            }
        }
    }
    Ok(select)
}

/// The tables an expansion may lead to.
fn targets(cat: &Catalog, e: &Expansion, attr: &AttrDef) -> Vec<usize> {
    match e.target {
        Some(t) => vec![t],
        None => attr.targets.iter().filter_map(|t| cat.index(t)).collect(),
    }
}

/// `nav(a,b)` parts of the `@odata.context` select list.
pub fn context_parts(expansions: &[Expansion]) -> Vec<String> {
    expansions
        .iter()
        .map(|e| {
            format!(
                "{}({})",
                e.name,
                e.select.as_deref().unwrap_or(&[]).join(",")
            )
        })
        .collect()
}

/// Appends the expanded rows to a row `write` has just written (before its closing brace).
pub fn append(
    store: &Store,
    def: &EntityDef,
    row: &Row,
    expansions: &[Expansion],
    buf: &mut String,
) {
    if expansions.is_empty() || !buf.ends_with('}') {
        return;
    }
    buf.pop();
    for e in expansions {
        buf.push(',');
        string(buf, &e.name);
        buf.push(':');
        match related(store, def, row, e) {
            Some((t, related)) => {
                let tdef = &store.catalog.entities[t];
                let cols = columns(tdef, e.select.as_deref()).unwrap_or_default();
                let w = RowWriter {
                    store,
                    def: tdef,
                    cols: &cols,
                    ann: Annotations::default(),
                };
                w.write(buf, &related, None);
            }
            None => buf.push_str("null"),
        }
    }
    buf.push('}');
}

/// The table and row the lookup of `row` points at, when it exists.
fn related<'a>(
    store: &'a Store,
    def: &EntityDef,
    row: &Row,
    e: &Expansion,
) -> Option<(usize, std::borrow::Cow<'a, Row>)> {
    let attr = &def.attributes[e.column];
    let (id, slot): (Uuid, usize) = match row.cell(e.column) {
        Cell::Ref(id, t) => (*id, *t as usize),
        Cell::Guid(id) => (*id, 0),
        _ => return None,
    };
    let named = store.catalog.index(attr.targets.get(slot)?)?;
    if e.target.is_some_and(|t| t != named) {
        return None; // a per-target property of a polymorphic lookup naming another table
    }
    Some((named, store.get(named, &id)?))
}
