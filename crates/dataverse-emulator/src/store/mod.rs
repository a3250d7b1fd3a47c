//! The row store: generated rows plus written overrides, one row-version counter for all
//! tables and a version-ordered change index per table for delta reads.

mod computed;
pub mod delta;
mod scan;
mod write;

pub use delta::DeltaEntry;
pub use scan::{RowSource, Scan};
pub use write::SchemaOp;

use crate::generate::{gen_id, gen_index, generate, row_ctx};
use crate::schema::Catalog;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// One stored value. Decimal and Money are integers scaled by the column's precision.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Dec(i64),
    Float(f64),
    // A `String`, not `Box<str>`: shrinking every generated string would cost a realloc.
    Text(String),
    Guid(Uuid),
    /// A lookup: the id and the index of the target in the column's `targets`.
    Ref(Uuid, u8),
    /// Unix seconds (UTC).
    Time(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub version: u64,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, i: usize) -> &Cell {
        self.cells.get(i).unwrap_or(&Cell::Null)
    }
}

/// A written row, or the tombstone of a deleted one with the version of its deletion.
#[derive(Debug, Clone)]
pub enum Slot {
    Live(Row),
    Deleted(u64),
}

impl Slot {
    pub fn version(&self) -> u64 {
        match self {
            Slot::Live(r) => r.version,
            Slot::Deleted(v) => *v,
        }
    }
}

#[derive(Debug, Default)]
pub struct Table {
    /// Rows `0..generated` exist unless a slot overrides them.
    pub generated: usize,
    /// Generated row `i` has version `version_base + i + 1`.
    pub version_base: u64,
    pub slots: BTreeMap<Uuid, Slot>,
    /// Latest version of every row written since start, live or deleted.
    pub changes: BTreeMap<u64, Uuid>,
}

/// The whole mutable state of the organisation.
pub struct Store {
    pub catalog: Catalog,
    pub tables: Vec<Table>,
    pub counts: Vec<usize>,
    pub seed: u64,
    pub counter: u64,
    /// Delta tokens below this version are expired.
    pub min_valid: u64,
    pub schema_log: Vec<SchemaOp>,
    pub dirty: bool,
    /// Who writes are attributed to (`createdby`, `modifiedby`, a new row's owner).
    pub actor: Uuid,
}

/// Generated row counts: the sample tables get `records`, fixed tables their natural size.
pub fn default_counts(
    catalog: &Catalog,
    records: usize,
    overrides: &HashMap<String, usize>,
) -> Vec<usize> {
    let users = overrides.get("systemuser").copied().unwrap_or(records);
    catalog
        .entities
        .iter()
        .map(|e| {
            let natural = match e.logical_name.as_str() {
                "businessunit" | "transactioncurrency" => 1,
                "team" => 2,
                "role" => 3,
                "systemuserroles" => users,
                "teammembership" | "teamroles" => 0,
                _ => records,
            };
            overrides.get(&e.logical_name).copied().unwrap_or(natural)
        })
        .collect()
}

impl Store {
    pub fn new(catalog: Catalog, counts: Vec<usize>, seed: u64) -> Store {
        let mut base = 0u64;
        let tables = counts
            .iter()
            .map(|&n| {
                let t = Table {
                    generated: n,
                    version_base: base,
                    ..Table::default()
                };
                base += n as u64;
                t
            })
            .collect();
        Store {
            catalog,
            tables,
            counts,
            seed,
            counter: base,
            min_valid: 0,
            schema_log: Vec::new(),
            dirty: false,
            actor: Uuid::nil(),
        }
    }

    pub fn entity_index(&self, logical_name: &str) -> Option<usize> {
        self.catalog.index(logical_name)
    }

    pub fn generated_row(&self, e: usize, i: usize) -> Row {
        let mut ctx = row_ctx(&self.catalog, &self.counts, self.seed, e, i);
        generate(&mut ctx, self.tables[e].version_base + i as u64 + 1)
    }

    pub fn generated_id(&self, e: usize, i: usize) -> Uuid {
        gen_id(self.seed, e, i)
    }

    /// The current row with this id, if present.
    pub fn get(&self, e: usize, id: &Uuid) -> Option<Cow<'_, Row>> {
        let t = &self.tables[e];
        match t.slots.get(id) {
            Some(Slot::Live(r)) => Some(Cow::Borrowed(r)),
            Some(Slot::Deleted(_)) => None,
            None => gen_index(self.seed, e, t.generated, id)
                .map(|i| Cow::Owned(self.generated_row(e, i))),
        }
    }

    /// Rows in id order, starting after `after`.
    pub fn scan(
        &self,
        e: usize,
        after: Option<Uuid>,
    ) -> impl Iterator<Item = (Uuid, Cow<'_, Row>)> {
        Scan::new(self, e, after).map(move |(id, src)| (id, self.materialize(e, src)))
    }

    /// Like [`Store::scan`], without generating rows yet.
    pub fn scan_sources(&self, e: usize, after: Option<Uuid>) -> Scan<'_> {
        Scan::new(self, e, after)
    }

    /// Rows currently in the table (a full count; used for `$count`, capped by the caller).
    pub fn live_count(&self, e: usize) -> usize {
        let t = &self.tables[e];
        let mut n = t.generated;
        for (id, slot) in &t.slots {
            let generated = gen_index(self.seed, e, t.generated, id).is_some();
            match (slot, generated) {
                (Slot::Live(_), false) => n += 1,
                (Slot::Deleted(_), true) => n -= 1,
                _ => {}
            }
        }
        n
    }

    fn next_version(&mut self) -> u64 {
        self.counter += 1;
        self.dirty = true;
        self.counter
    }

    /// Stores `cells` as the new content of row `id`, giving it a fresh version.
    pub fn put(&mut self, e: usize, id: Uuid, cells: Vec<Cell>) -> u64 {
        let version = self.next_version();
        let t = &mut self.tables[e];
        if let Some(old) = t.slots.get(&id) {
            t.changes.remove(&old.version());
        }
        t.changes.insert(version, id);
        t.slots.insert(id, Slot::Live(Row { version, cells }));
        version
    }

    /// Deletes row `id`; false when it was not present.
    pub fn remove(&mut self, e: usize, id: &Uuid) -> bool {
        if self.get(e, id).is_none() {
            return false;
        }
        let version = self.next_version();
        let t = &mut self.tables[e];
        if let Some(old) = t.slots.get(id) {
            t.changes.remove(&old.version());
        }
        t.changes.insert(version, *id);
        t.slots.insert(*id, Slot::Deleted(version));
        true
    }

    /// Makes every delta token issued so far expire.
    pub fn expire_tokens(&mut self) {
        let v = self.next_version();
        self.min_valid = v;
    }
}
