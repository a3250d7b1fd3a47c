//! State files: written overrides, tombstones, the change index, counters and schema changes.
//! Generated rows are not saved; they are regenerated from the seed and counts.

use crate::error::EmulatorError;
use crate::schema::Catalog;
use crate::server::Shared;
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
        let table = &mut store.tables[e];
        for s in t.slots {
            let slot = match s.cells {
                Some(cells) => Slot::Live(Row {
                    version: s.version,
                    cells: cells.into_iter().map(load_cell).collect(),
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

/// Writes the state file now (atomically, through a temporary file).
pub async fn save_now(sh: &Arc<Shared>) -> Result<(), EmulatorError> {
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
pub async fn autosave(sh: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
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
