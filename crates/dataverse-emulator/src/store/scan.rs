//! Id-ordered iteration merging generated rows with written slots.

use super::{Row, Slot, Store};
use crate::generate::gen_id;
use std::borrow::Cow;

/// Where a row comes from: generated on demand, or stored after a write.
#[derive(Debug, Clone, Copy)]
pub enum RowSource<'a> {
    Generated(usize),
    Stored(&'a Row),
}

impl Store {
    /// The row behind a source (generating it when needed).
    pub fn materialize<'a>(&'a self, e: usize, src: RowSource<'a>) -> Cow<'a, Row> {
        match src {
            RowSource::Generated(i) => Cow::Owned(self.generated_row(e, i)),
            RowSource::Stored(r) => Cow::Borrowed(r),
        }
    }
}
use std::collections::btree_map;
use std::iter::Peekable;
use std::ops::Bound;
use uuid::Uuid;

pub struct Scan<'a> {
    store: &'a Store,
    entity: usize,
    next_gen: usize,
    gen_peek: Option<Uuid>,
    slots: Peekable<btree_map::Range<'a, Uuid, Slot>>,
}

impl<'a> Scan<'a> {
    pub fn new(store: &'a Store, entity: usize, after: Option<Uuid>) -> Scan<'a> {
        let t = &store.tables[entity];
        let (next_gen, range) = match after {
            Some(a) => {
                // Generated ids grow with the row index, so a binary search finds the start.
                let start = partition(t.generated, |i| gen_id(store.seed, entity, i) <= a);
                (start, t.slots.range((Bound::Excluded(a), Bound::Unbounded)))
            }
            None => (0, t.slots.range::<Uuid, _>(..)),
        };
        let mut scan = Scan {
            store,
            entity,
            next_gen,
            gen_peek: None,
            slots: range.peekable(),
        };
        scan.refill();
        scan
    }

    fn refill(&mut self) {
        let t = &self.store.tables[self.entity];
        self.gen_peek = (self.next_gen < t.generated)
            .then(|| gen_id(self.store.seed, self.entity, self.next_gen));
    }

    fn take_generated(&mut self) -> (Uuid, RowSource<'a>) {
        let id = self.gen_peek.unwrap_or_default();
        let src = RowSource::Generated(self.next_gen);
        self.next_gen += 1;
        self.refill();
        (id, src)
    }
}

fn partition(n: usize, mut below: impl FnMut(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) { lo = mid + 1 } else { hi = mid }
    }
    lo
}

impl<'a> Iterator for Scan<'a> {
    type Item = (Uuid, RowSource<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let slot_id = self.slots.peek().map(|(id, _)| **id);
            match (self.gen_peek, slot_id) {
                (None, None) => return None,
                (Some(g), Some(s)) if g < s => return Some(self.take_generated()),
                (Some(_), None) => return Some(self.take_generated()),
                (g, Some(s)) => {
                    if g == Some(s) {
                        // The slot overrides the generated row with the same id.
                        self.next_gen += 1;
                        self.refill();
                    }
                    let (id, slot) = self.slots.next()?;
                    if let Slot::Live(row) = slot {
                        return Some((*id, RowSource::Stored(row)));
                    }
                }
            }
        }
    }
}
