//! State files: written overrides, tombstones, the change index, counters and schema changes.
//! Generated rows are not saved; they are regenerated from the seed and counts.

use crate::error::EmulatorError;
use crate::schema::Catalog;
use crate::server::ServerState;
use crate::store::{Cell, Row, SchemaOp, Slot, Store};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

#[derive(Serialize, Deserialize)]
enum SavedCell {
    N,
    B(bool),
    I(i64),
    D(i64),
    F(f64),
    T(String),
    G(Uuid),
    R(Uuid, u8),
    S(i64),
}

#[derive(Serialize, Deserialize)]
struct SavedSlot {
    id: Uuid,
    version: u64,
    /// `None` for a tombstone.
    cells: Option<Vec<SavedCell>>,
}

#[derive(Serialize, Deserialize)]
struct SavedTable {
    entity: String,
    /// The columns' logical names in the order of each row's cells; empty in files written
    /// before columns were named (their cells are in today's order).
    #[serde(default)]
    columns: Vec<String>,
    generated: usize,
    slots: Vec<SavedSlot>,
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    seed: u64,
    counter: u64,
    min_valid: u64,
    schema_log: Vec<SchemaOp>,
    tables: Vec<SavedTable>,
}

fn save_cell(c: &Cell) -> SavedCell {
    match c {
        Cell::Null => SavedCell::N,
        Cell::Bool(b) => SavedCell::B(*b),
        Cell::Int(i) => SavedCell::I(*i),
        Cell::Dec(d) => SavedCell::D(*d),
        Cell::Float(f) => SavedCell::F(*f),
        Cell::Text(t) => SavedCell::T(t.clone()),
        Cell::Guid(g) => SavedCell::G(*g),
        Cell::Ref(g, t) => SavedCell::R(*g, *t),
        Cell::Time(t) => SavedCell::S(*t),
    }
}

fn load_cell(c: SavedCell) -> Cell {
    match c {
        SavedCell::N => Cell::Null,
        SavedCell::B(b) => Cell::Bool(b),
        SavedCell::I(i) => Cell::Int(i),
        SavedCell::D(d) => Cell::Dec(d),
        SavedCell::F(f) => Cell::Float(f),
        SavedCell::T(t) => Cell::Text(t),
        SavedCell::G(g) => Cell::Guid(g),
        SavedCell::R(g, t) => Cell::Ref(g, t),
        SavedCell::S(t) => Cell::Time(t),
    }
}

fn snapshot(store: &Store) -> SavedState {
    let tables = store
        .tables
        .iter()
        .zip(&store.catalog.entities)
        .map(|(t, def)| SavedTable {
            entity: def.logical_name.clone(),
            columns: def
                .attributes
                .iter()
                .map(|a| a.logical_name.clone())
                .collect(),
            generated: t.generated,
            slots: t
                .slots
                .iter()
                .map(|(id, slot)| match slot {
                    Slot::Live(r) => SavedSlot {
                        id: *id,
                        version: r.version,
                        cells: Some(r.cells.iter().map(save_cell).collect()),
                    },
                    Slot::Deleted(v) => SavedSlot {
                        id: *id,
                        version: *v,
                        cells: None,
                    },
                })
                .collect(),
        })
        .collect();
    SavedState {
        seed: store.seed,
        counter: store.counter,
        min_valid: store.min_valid,
        schema_log: store.schema_log.clone(),
        tables,
    }
}

pub fn load(path: &Path) -> Result<Store, EmulatorError> {
    let text = std::fs::read_to_string(path)?;
    let saved: SavedState =
        serde_json::from_str(&text).map_err(|e| EmulatorError::State(e.to_string()))?;
    let catalog = Catalog::sample();
    let counts = catalog
        .entities
        .iter()
        .map(|e| {
            saved
                .tables
                .iter()
                .find(|t| t.entity == e.logical_name)
                .map_or(0, |t| t.generated)
        })
        .collect();
    let mut store = Store::new(catalog, counts, saved.seed);
    for op in saved.schema_log {
        store.apply_schema(op)?;
    }
    for t in saved.tables {
        let Some(e) = store.entity_index(&t.entity) else {
            continue;
        };
        let place = placement(&store.catalog.entities[e], &t.columns);
        let width = store.catalog.entities[e].attributes.len();
        let table = &mut store.tables[e];
        for s in t.slots {
            let slot = match s.cells {
                Some(cells) => Slot::Live(Row {
                    version: s.version,
                    cells: placed(cells, &place, width),
                }),
                None => Slot::Deleted(s.version),
            };
            table.changes.insert(s.version, s.id);
            table.slots.insert(s.id, slot);
        }
    }
    store.counter = saved.counter;
    store.min_valid = saved.min_valid;
    store.dirty = false;
    Ok(store)
}

/// Where each saved cell goes today, by column name (a column gone today is dropped).
fn placement(def: &crate::schema::EntityDef, saved: &[String]) -> Option<Vec<Option<usize>>> {
    (!saved.is_empty()).then(|| saved.iter().map(|c| def.attr_index(c)).collect())
}

fn placed(cells: Vec<SavedCell>, place: &Option<Vec<Option<usize>>>, width: usize) -> Vec<Cell> {
    let Some(place) = place else {
        return cells.into_iter().map(load_cell).collect();
    };
    let mut out = vec![Cell::Null; width];
    for (cell, to) in cells.into_iter().zip(place) {
        if let Some(i) = to.filter(|&i| i < width) {
            out[i] = load_cell(cell);
        }
    }
    out
}

/// Writes the state file now (atomically, through a temporary file).
pub async fn save_now(sh: &Arc<ServerState>) -> Result<(), EmulatorError> {
    let Some(path) = sh.state_file.clone() else {
        return Ok(());
    };
    let _guard = sh.save_lock.lock().await;
    let text = {
        let mut store = sh.write();
        store.dirty = false;
        serde_json::to_string(&snapshot(&store)).map_err(|e| EmulatorError::State(e.to_string()))?
    };
    let tmp = path.with_extension("tmp");
    tokio::task::spawn_blocking(move || {
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    })
    .await
    .map_err(|e| EmulatorError::State(e.to_string()))??;
    Ok(())
}

/// Saves every few seconds while there are unsaved changes.
pub async fn autosave(sh: Arc<ServerState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        let dirty = sh.read().dirty;
        if dirty && let Err(e) = save_now(&sh).await {
            tracing::warn!(error = %e, "autosave failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_cells_find_their_columns_by_name() {
        let def = &Catalog::sample().entities[0];
        let (name, pk) = (def.attr_index("name").unwrap(), def.primary_index());
        let saved = vec!["name".to_owned(), "gone".to_owned(), def.primary_id.clone()];
        let place = placement(def, &saved);
        let id = Uuid::nil();
        let cells = vec![SavedCell::T("x".into()), SavedCell::N, SavedCell::G(id)];
        let row = placed(cells, &place, def.attributes.len());
        assert_eq!(row[name], Cell::Text("x".into()));
        assert_eq!(row[pk], Cell::Guid(id));
        assert_eq!(row.len(), def.attributes.len());
    }
}
