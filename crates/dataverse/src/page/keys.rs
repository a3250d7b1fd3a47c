//! Property names of a row mapped to field slots, built once per page.

use std::collections::HashMap;

/// Maps the property names a page's rows carry to small slot numbers.
///
/// Rows of one page list their properties in nearly the same order (a null lookup drops its
/// annotation, nothing more), so each key is first compared with the key that followed the
/// previous key last time: one short comparison instead of hashing every key of every row.
/// A mismatch falls back to the map and relearns the successor.
pub(super) struct KeyTable {
    ids: HashMap<Box<str>, usize>,
    /// Every name seen, by id.
    keys: Vec<Key>,
    /// The id of the key that opened the previous row.
    first: Option<usize>,
    slots: usize,
}

struct Key {
    name: Box<str>,
    /// `None`: a property nobody reads.
    slot: Option<usize>,
    /// The id of the key that followed this one last time.
    next: Option<usize>,
}

/// Where a row's reading stands: at its start, or after the key with this id.
pub(super) type Cursor = Option<usize>;

impl KeyTable {
    pub(super) fn new() -> Self {
        Self {
            ids: HashMap::new(),
            keys: Vec::new(),
            first: None,
            slots: 0,
        }
    }

    /// The slot of `name`, adding it when new. Names read for several reasons share a slot.
    /// Call before reading rows.
    pub(super) fn intern(&mut self, name: &str) -> usize {
        if let Some(slot) = self.ids.get(name).and_then(|&id| self.keys[id].slot) {
            return slot;
        }
        self.slots += 1;
        self.add(name, Some(self.slots - 1));
        self.slots - 1
    }

    /// How many slots a row needs.
    pub(super) fn len(&self) -> usize {
        self.slots
    }

    /// Resolves the key read after `cursor`: the new cursor and the key's slot, if read.
    pub(super) fn resolve(&mut self, cursor: Cursor, key: &str) -> (Cursor, Option<usize>) {
        let predicted = match cursor {
            None => self.first,
            Some(id) => self.keys[id].next,
        };
        let id = match predicted {
            Some(id) if *self.keys[id].name == *key => id,
            _ => self.learn(cursor, key),
        };
        (Some(id), self.keys[id].slot)
    }

    fn learn(&mut self, cursor: Cursor, key: &str) -> usize {
        let id = match self.ids.get(key) {
            Some(&id) => id,
            None => self.add(key, None),
        };
        match cursor {
            None => self.first = Some(id),
            Some(previous) => self.keys[previous].next = Some(id),
        }
        id
    }

    fn add(&mut self, name: &str, slot: Option<usize>) -> usize {
        let id = self.keys.len();
        self.ids.insert(name.into(), id);
        self.keys.push(Key {
            name: name.into(),
            slot,
            next: None,
        });
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: &mut KeyTable, names: &[&str]) -> Vec<Option<usize>> {
        let mut cursor = None;
        let mut slots = Vec::new();
        for name in names {
            let (next, slot) = keys.resolve(cursor, name);
            cursor = next;
            slots.push(slot);
        }
        slots
    }

    #[test]
    fn slots_are_found_in_any_order() {
        let mut keys = KeyTable::new();
        let (a, b) = (keys.intern("a"), keys.intern("b"));
        assert_eq!(keys.intern("a"), a, "a name keeps its slot");
        assert_eq!(keys.len(), 2);
        assert_eq!(row(&mut keys, &["a", "x", "b"]), [Some(a), None, Some(b)]);
        assert_eq!(row(&mut keys, &["a", "x", "b"]), [Some(a), None, Some(b)]);
        assert_eq!(row(&mut keys, &["a", "b"]), [Some(a), Some(b)]);
        assert_eq!(
            row(&mut keys, &["b", "a", "a", "x"]),
            [Some(b), Some(a), Some(a), None]
        );
        assert_eq!(row(&mut keys, &["x", "x", "b"]), [None, None, Some(b)]);
    }
}
