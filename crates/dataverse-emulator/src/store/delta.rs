//! Delta reads: rows changed in a version window, upserts by version first, then deletions.

use super::{Row, Slot, Store};
use uuid::Uuid;

pub enum DeltaEntry<'a> {
    Upsert(&'a Row),
    Deleted(Uuid),
}

/// Where a paged delta read continues: phase 0 walks upserts, phase 1 deletions; `after` is
/// the last version already returned in that phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaPos {
    pub phase: u8,
    pub after: u64,
}

impl Store {
    /// Up to `limit` changes with `from < version <= to`, starting at `pos`; also the position
    /// of the next page when more remain.
    pub fn delta_page(
        &self,
        e: usize,
        from: u64,
        to: u64,
        pos: DeltaPos,
        limit: usize,
    ) -> (Vec<DeltaEntry<'_>>, Option<DeltaPos>) {
        let mut out = Vec::new();
        let mut last = pos;
        let t = &self.tables[e];
        for phase in pos.phase..2 {
            let start = if phase == pos.phase {
                pos.after.max(from)
            } else {
                from
            };
            if start >= to {
                continue;
            }
            for (&v, id) in t.changes.range(start + 1..=to) {
                let entry = match (phase, t.slots.get(id)) {
                    (0, Some(Slot::Live(row))) => DeltaEntry::Upsert(row),
                    (1, Some(Slot::Deleted(_))) => DeltaEntry::Deleted(*id),
                    _ => continue,
                };
                if out.len() == limit {
                    return (out, Some(last));
                }
                out.push(entry);
                last = DeltaPos { phase, after: v };
            }
        }
        (out, None)
    }
}
