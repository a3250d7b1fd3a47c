//! One row of a page: its properties captured as raw JSON slices into fixed slots, then turned
//! into a [`Change`] through the plan.

use std::fmt;

use des_core::ports::SourceError;
use des_core::{Change, Row, TableName, Value};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::keys::{Cursor, KeyTable};
use super::protocol;
use crate::cell::Target;
use crate::plan::{ColumnPlan, VERSION_NUMBER, WireSource};

/// The slots of the properties read besides the planned columns.
struct Special {
    context: usize,
    deleted_id: usize,
    primary_id: usize,
    version: usize,
    etag: usize,
}

/// Why a row was not read.
pub(super) enum RowError {
    /// Its text is not a JSON object.
    Json(serde_json::Error),
    /// It is one, but does not convert.
    Rejected(SourceError),
}

/// Reads the rows of one page of `plan`. The key table and slot layout are built once per
/// page; a row costs its slots and its own values, no map.
pub(super) struct RowReader<'p> {
    plan: &'p ColumnPlan,
    keys: KeyTable,
    /// Per planned column: the slot of its value (none when it is nowhere on the wire) and,
    /// for lookups, of its target annotation.
    columns: Vec<(Option<usize>, Option<usize>)>,
    special: Special,
    /// Per planned column: the table its last lookup named.
    targets: Vec<Option<TableName>>,
}

impl<'p> RowReader<'p> {
    pub(super) fn new(plan: &'p ColumnPlan) -> Self {
        let mut keys = KeyTable::new();
        let columns: Vec<_> = plan
            .columns
            .iter()
            .map(|c| {
                let value = (c.source != WireSource::Absent).then(|| keys.intern(&c.wire_name));
                let annotation = c.kind.is_lookup().then(|| c.target_annotation());
                (value, annotation.map(|a| keys.intern(&a)))
            })
            .collect();
        let special = Special {
            context: keys.intern("@odata.context"),
            deleted_id: keys.intern("id"),
            primary_id: keys.intern(&plan.primary_id),
            version: keys.intern(VERSION_NUMBER),
            etag: keys.intern("@odata.etag"),
        };
        Self {
            plan,
            keys,
            targets: vec![None; columns.len()],
            columns,
            special,
        }
    }

    /// Reads the row object `text` (valid UTF-8, as a `str` is) as a change.
    pub(super) fn read(&mut self, text: &str) -> Result<Change, RowError> {
        let (fields, _) = self.capture(text).map_err(RowError::Json)?;
        self.change(&fields).map_err(RowError::Rejected)
    }

    /// Reads the row object that starts `rest` where it lies, with no scan for its end first:
    /// the change and the row's length. `None` when the row does not end in `rest`, or
    /// anything is wrong with it: then it is cut out and read as usual, which says what is
    /// wrong the same way whatever pieces the body came in.
    pub(super) fn read_in_place(&mut self, rest: &str) -> Option<(Change, usize)> {
        let (fields, last_value_end) = self.capture(rest).ok()?;
        let end = row_end(rest.as_bytes(), last_value_end)?;
        Some((self.change(&fields).ok()?, end))
    }

    /// The properties of the row object `text` starts with, by slot, and where its last
    /// value ends.
    fn capture<'de>(&mut self, text: &'de str) -> Result<Captures<'de>, serde_json::Error> {
        let mut fields = vec![None; self.keys.len()];
        let capture = Capture {
            keys: &mut self.keys,
            fields: &mut fields,
        };
        let last_value_end = capture.deserialize(&mut serde_json::Deserializer::from_str(text))?;
        Ok((fields, last_value_end))
    }

    fn change(&mut self, fields: &[Option<&RawValue>]) -> Result<Change, SourceError> {
        Captured {
            reader: self,
            fields,
        }
        .change()
    }
}

/// Where the row object that starts `rest` ends: just past the `}` that follows its last
/// value (at `last_value_end`, an address in `rest`), or its `{` when it has none.
fn row_end(rest: &[u8], last_value_end: Option<usize>) -> Option<usize> {
    let from = match last_value_end {
        Some(address) => address.checked_sub(rest.as_ptr() as usize)?,
        None => 1,
    };
    let gap = rest.get(from..)?;
    let close = gap
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    (gap[close] == b'}').then_some(from + close + 1)
}

/// One row's captured properties, by slot.
struct Captured<'a, 'p, 'de> {
    reader: &'a mut RowReader<'p>,
    fields: &'a [Option<&'de RawValue>],
}

impl Captured<'_, '_, '_> {
    /// The row as a change. Checks run in the order a reader of the row would: a
    /// deleted-entity marker first, then the key, the version and the columns.
    fn change(&mut self) -> Result<Change, SourceError> {
        let special = &self.reader.special;
        if self.is_deleted_entity() {
            return Ok(Change::Delete(self.guid(special.deleted_id, "id")?));
        }
        let id = self.guid(special.primary_id, &self.reader.plan.primary_id)?;
        let version = self.version()?;
        let values = self.values().map_err(|e| protocol(&e))?;
        Ok(Change::Upsert(Row {
            id,
            version,
            values,
        }))
    }

    fn values(&mut self) -> Result<Vec<Value>, String> {
        let RowReader {
            plan,
            columns,
            targets,
            ..
        } = &mut *self.reader;
        let mut values = Vec::with_capacity(columns.len());
        let planned = plan.columns.iter().zip(columns.iter()).zip(targets);
        for ((column, &(value, annotation)), last) in planned {
            let annotation = annotation.and_then(|a| self.fields[a]);
            let raw = value.and_then(|v| self.fields[v]);
            let target = Target { annotation, last };
            values.push(crate::cell::to_value(raw, column, target)?);
        }
        Ok(values)
    }

    fn is_deleted_entity(&self) -> bool {
        let context = self.fields[self.reader.special.context];
        context.is_some_and(|c| c.get().contains("$deletedEntity"))
    }

    fn guid(&self, slot: usize, name: &str) -> Result<Uuid, SourceError> {
        let raw = self.fields[slot].ok_or_else(|| protocol(&format!("row without {name}")))?;
        // Only an unescaped string: keys were always read as borrowed text.
        crate::cell::plain_str(raw.get())
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| protocol(&format!("{name} is not a GUID")))
    }

    /// `versionnumber`, or the number in the weak ETag (`W/"915244"`) when it was not sent.
    fn version(&self) -> Result<i64, SourceError> {
        let special = &self.reader.special;
        let sent = self.fields[special.version].filter(|r| r.get() != "null");
        if let Some(raw) = sent {
            let text = raw.get().trim_matches('"');
            return text
                .parse()
                .map_err(|_| protocol("versionnumber is not an integer"));
        }
        let etag = self.fields[special.etag].and_then(|r| crate::cell::string(r.get()));
        etag.as_deref()
            .and_then(|e| e.trim_start_matches("W/").trim_matches('"').parse().ok())
            .ok_or_else(|| protocol("row without versionnumber or numeric ETag"))
    }
}

/// Reads one row object into its slots.
struct Capture<'r, 'de> {
    keys: &'r mut KeyTable,
    fields: &'r mut [Option<&'de RawValue>],
}

/// What a capture gives: the address just past the row's last value, if it has one.
type LastValueEnd = Option<usize>;

/// A row's raw values by slot, and where its last value ends.
type Captures<'de> = (Vec<Option<&'de RawValue>>, LastValueEnd);

impl<'de> DeserializeSeed<'de> for Capture<'_, 'de> {
    type Value = LastValueEnd;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<LastValueEnd, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Capture<'_, 'de> {
    type Value = LastValueEnd;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LastValueEnd, A::Error> {
        let (mut cursor, mut last_value_end) = (None, None);
        while let Some((next, slot)) = map.next_key_seed(KeySlot {
            keys: self.keys,
            cursor,
        })? {
            // Every value is taken raw, read or not, for where it ends.
            let value: &'de RawValue = map.next_value()?;
            let text = value.get();
            last_value_end = Some(text.as_ptr() as usize + text.len());
            // A repeated property overwrites the earlier one, as a map would.
            if let Some(slot) = slot {
                self.fields[slot] = Some(value);
            }
            cursor = next;
        }
        Ok(last_value_end)
    }
}

/// Resolves one property name to its slot without allocating, escaped or not.
struct KeySlot<'k> {
    keys: &'k mut KeyTable,
    cursor: Cursor,
}

impl<'de> DeserializeSeed<'de> for KeySlot<'_> {
    type Value = (Cursor, Option<usize>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySlot<'_> {
    type Value = (Cursor, Option<usize>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.keys.resolve(self.cursor, key))
    }
}

#[cfg(test)]
mod tests {
    use des_core::AttributeKind;

    use super::*;
    use crate::plan::PlannedColumn;

    fn plan() -> ColumnPlan {
        let name = PlannedColumn::property("name", "name", AttributeKind::String);
        ColumnPlan::from_columns("accounts", "accountid", vec![name])
    }

    #[test]
    fn a_whole_row_is_read_where_it_lies_and_a_cut_one_is_not() {
        let plan = plan();
        let mut reader = RowReader::new(&plan);
        let row = r#"{"name":"a}","x":[{}],"accountid":"3e4259cc-0879-410d-8dae-81f2889b4259","versionnumber":1 }"#;
        let rest = format!("{row} ,{{\"name\":");
        let (change, length) = reader.read_in_place(&rest).expect("in place");
        assert_eq!(length, row.len());
        assert_eq!(
            change.id().to_string(),
            "3e4259cc-0879-410d-8dae-81f2889b4259"
        );
        assert!(reader.read_in_place(&row[..row.len() - 1]).is_none());
        assert!(
            reader.read_in_place("{ } ,").is_none(),
            "a row without its key"
        );
    }
}
