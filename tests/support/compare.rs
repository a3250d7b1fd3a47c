//! Compares a target table with the source rows, value by value, normalised per column type.
//!
//! Source rows are the emulator's full-`$select` Web API JSON; target rows are read straight
//! from the SQLite file ([`sqlite_rows`]) or the PostgreSQL database (`crate::postgres`), each
//! cell normalised per column type into a [`Cell`]. System columns (`SinkCreatedOn`, `SinkModifiedOn`) are skipped, and
//! `<attr>_entitytype` is checked for presence only. A lookup's type column is compared with
//! the lookup's `lookuplogicalname` annotation in the source row; its name column only for
//! belonging to a set lookup (see [`name_of_a_set_lookup`]).

use std::collections::BTreeMap;
use std::path::Path;

use des_core::schema::{ColumnDef, ColumnSource, SqlType, TableDef};
use des_core::{AttributeMetadata, EntityMetadata, LookupPart};
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value as Json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// A source row by id.
pub type SourceRows = BTreeMap<String, Map<String, Json>>;

/// Keys the source rows by their primary id.
pub fn by_id(metadata: &EntityMetadata, rows: Vec<Map<String, Json>>) -> SourceRows {
    let key = &metadata.primary_id_attribute;
    rows.into_iter()
        .filter_map(|r| Some((r.get(key)?.as_str()?.to_lowercase(), r)))
        .collect()
}

/// A target's rows by lower-case `Id`, as normalised cells in column order.
pub type TargetRows = BTreeMap<String, Vec<Cell>>;

/// Rows of normalised cells (in `table`'s column order) keyed by their lower-case `Id`.
pub fn keyed_by_id(
    table: &TableDef,
    rows: impl IntoIterator<Item = Vec<Cell>>,
) -> Result<TargetRows, String> {
    let id_index = table
        .columns
        .iter()
        .position(|c| c.source == ColumnSource::Id)
        .unwrap_or(0);
    let mut out = BTreeMap::new();
    for cells in rows {
        let id = cells.get(id_index).cloned().flatten().ok_or("Id is null")?;
        out.insert(id.to_lowercase(), cells);
    }
    Ok(out)
}

/// Every row of the SQLite target table by `Id`, normalised per column type.
pub fn sqlite_rows(db: &Path, table: &TableDef) -> Result<TargetRows, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    let cols: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let sql = format!("SELECT {} FROM \"{}\"", cols.join(", "), table.name);
    let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
    let id_index = table
        .columns
        .iter()
        .position(|c| c.source == ColumnSource::Id)
        .unwrap_or(0);
    let rows = stmt
        .query_map([], |r| {
            (0..cols.len())
                .map(|i| r.get::<_, Sql>(i))
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for row in rows {
        let row = row.map_err(|e| e.to_string())?;
        let Sql::Text(id) = &row[id_index] else {
            return Err("Id is not text".into());
        };
        let cells = table
            .columns
            .iter()
            .zip(&row)
            .map(|(c, v)| from_sql(c.ty, v))
            .collect();
        out.insert(id.to_lowercase(), cells);
    }
    Ok(out)
}

/// `Ok` when the SQLite table holds exactly the source rows; otherwise the first difference.
pub fn compare(
    db: &Path,
    table: &TableDef,
    metadata: &EntityMetadata,
    source: &SourceRows,
) -> Result<(), String> {
    compare_rows(&sqlite_rows(db, table)?, table, metadata, source)
}

/// `Ok` when the target rows are exactly the source rows; otherwise the first difference.
pub fn compare_rows(
    target: &TargetRows,
    table: &TableDef,
    metadata: &EntityMetadata,
    source: &SourceRows,
) -> Result<(), String> {
    if let Some(id) = source.keys().find(|id| !target.contains_key(*id)) {
        return Err(format!(
            "{}: row {id} is missing from the target",
            table.name
        ));
    }
    if let Some(id) = target.keys().find(|id| !source.contains_key(*id)) {
        return Err(format!(
            "{}: row {id} is in the target but not in the source",
            table.name
        ));
    }
    for (id, row) in target {
        for (column, value) in table.columns.iter().zip(row) {
            check_cell(metadata, column, &source[id], value)
                .map_err(|e| format!("{}: row {id}, column {}: {e}", table.name, column.name))?;
        }
    }
    Ok(())
}

/// The source row's key holding a lookup part: an annotation of the lookup, or none for the
/// yomi name (no annotation carries it; the target holds null).
fn part_key(lookup: &AttributeMetadata, part: LookupPart) -> String {
    let term = match part {
        LookupPart::Name => "OData.Community.Display.V1.FormattedValue",
        LookupPart::EntityType => "Microsoft.Dynamics.CRM.lookuplogicalname",
        LookupPart::YomiName => return String::new(),
    };
    format!("{}@{term}", lookup.wire_name())
}

/// A lookup's name is the referenced row's name when the referencing row was read: renaming,
/// deleting or re-creating the referenced row records no change of the rows pointing to it
/// (Dataverse computes the name when it is read), so the target keeps the name it read, as
/// DES's did, and under random changes it need not equal the source's name now. Checked: a
/// name in the target belongs to a set lookup. Exact names are tested where nothing renames
/// (`tests/engine` `owner_and_creator_names_reach_the_target_as_the_source_names_them`).
fn name_of_a_set_lookup(
    source: &Map<String, Json>,
    lookup: &AttributeMetadata,
    target: &Cell,
) -> Result<(), String> {
    let set = source
        .get(&lookup.wire_name())
        .is_some_and(|v| !v.is_null());
    match (set, target.is_some()) {
        (false, true) => Err("the target names a reference the source does not have".into()),
        _ => Ok(()),
    }
}

fn check_cell(
    metadata: &EntityMetadata,
    column: &ColumnDef,
    source: &Map<String, Json>,
    target: &Cell,
) -> Result<(), String> {
    let wire = |attr: &str| {
        metadata
            .attribute(attr)
            .map_or(attr.to_owned(), |a| a.wire_name())
    };
    match &column.source {
        ColumnSource::Attribute(attr) => {
            let part = metadata
                .attribute(attr)
                .and_then(|a| metadata.lookup_part(a));
            if let Some((lookup, LookupPart::Name)) = part {
                return name_of_a_set_lookup(source, lookup, target);
            }
            let key = part.map_or_else(|| wire(attr), |(lookup, part)| part_key(lookup, part));
            let json = source.get(&key).unwrap_or(&Json::Null);
            let want = from_json(column.ty, json);
            if same(column.ty, &want, target) {
                Ok(())
            } else {
                Err(format!("source {want:?} != target {target:?}"))
            }
        }
        ColumnSource::LookupEntityType(attr) => {
            let json = source.get(&wire(attr)).unwrap_or(&Json::Null);
            match (json.is_null(), target.is_none()) {
                (a, b) if a == b => Ok(()),
                _ => Err(format!(
                    "entity type presence differs (source lookup null: {})",
                    json.is_null()
                )),
            }
        }
        _ => Ok(()),
    }
}

/// A normalised cell: `None` for null.
pub type Cell = Option<String>;

fn from_json(ty: SqlType, value: &Json) -> Cell {
    match value {
        Json::Null => None,
        Json::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        Json::Number(n) => Some(n.to_string()),
        Json::String(s) => Some(normal_text(ty, s)),
        other => Some(other.to_string()),
    }
}

fn from_sql(ty: SqlType, value: &Sql) -> Cell {
    match value {
        Sql::Null => None,
        Sql::Integer(i) => Some(i.to_string()),
        Sql::Real(f) => Some(f.to_string()),
        Sql::Text(s) => Some(normal_text(ty, s)),
        Sql::Blob(b) => Some(format!("{b:?}")),
    }
}

/// Text of a cell in the form both sides are compared in: ids lower-case, instants as
/// milliseconds since the epoch, the rest as is.
pub fn normal_text(ty: SqlType, text: &str) -> String {
    match ty {
        SqlType::Guid => text.to_lowercase(),
        SqlType::DateTime => instant(text).map_or_else(|| text.to_owned(), |t| t.to_string()),
        _ => text.to_owned(),
    }
}

/// Milliseconds since the epoch of an ISO date or date-time.
fn instant(text: &str) -> Option<i128> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(text, format)
            .ok()
            .map(|d| d.midnight().assume_utc())
    })?;
    Some(t.unix_timestamp_nanos() / 1_000_000)
}

fn same(ty: SqlType, want: &Cell, got: &Cell) -> bool {
    match (ty, want, got) {
        (SqlType::Decimal { scale, .. }, Some(a), Some(b)) => {
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(a), Ok(b)) => {
                    (a - b).abs() <= 0.5 * 10f64.powi(-i32::from(scale)) + 1e-9 * a.abs().max(1.0)
                }
                _ => a == b,
            }
        }
        _ => want == got,
    }
}
