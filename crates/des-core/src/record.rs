//! Records as they travel from the source through the queue to a sink.
//!
//! A [`Batch`] is one page of one entity's ordered change stream. Its `seq` numbers are dense
//! per stream (1, 2, 3, ...), assigned by the poller; sinks apply batches strictly in `seq`
//! order and store the applied `seq` in the target database in the same transaction as the rows.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// One cell. Decimal and Money keep the exact text Dataverse sent, so no precision is lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An exact decimal literal such as `"20000.0000"` or `"-1.5"`.
    Decimal(String),
    Float(f64),
    Text(String),
    Guid(Uuid),
    #[serde(with = "time::serde::rfc3339")]
    DateTime(OffsetDateTime),
    Date(Date),
    /// A lookup: the referenced id and, when known, the referenced table's logical name.
    Lookup {
        id: Uuid,
        target: Option<TableName>,
    },
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

/// The logical name of the table a lookup refers to, shared and behind one thin pointer: the
/// cells of a page that name one table can hold one copy, and a [`Value`] stays 32 bytes (a
/// `String` inline made it 48, and a page holds a value for every cell). On the wire it is
/// the plain string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TableName(Arc<String>);

impl TableName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for TableName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for TableName {
    fn from(name: String) -> Self {
        Self(Arc::new(name))
    }
}

impl From<&str> for TableName {
    fn from(name: &str) -> Self {
        Self(Arc::new(name.to_owned()))
    }
}

impl PartialEq<str> for TableName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl fmt::Debug for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for TableName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for TableName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// A new or updated row: the primary key, the row version and one value per batch column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub id: Uuid,
    /// Dataverse `versionnumber`: a database-wide counter that grows on every write.
    pub version: i64,
    pub values: Vec<Value>,
}

/// One entry of a change stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Change {
    Upsert(Row),
    Delete(Uuid),
}

impl Change {
    pub fn id(&self) -> Uuid {
        match self {
            Self::Upsert(row) => row.id,
            Self::Delete(id) => *id,
        }
    }
}

/// Identifies one ordered stream: an entity (or M:N intersect entity) of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamId {
    pub profile_id: Uuid,
    pub entity: String,
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.profile_id, self.entity)
    }
}

/// Where a batch sits in the entity's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchKind {
    /// A page of the first full read.
    Initial,
    /// Changes read from a delta link.
    Delta,
    /// A page of a full re-read (expired change token or resync on demand). `first_seq` names
    /// the resync; the sink remembers which ids it saw under that name.
    Resync { first_seq: u64 },
    /// The end of a resync: the sink deletes every row it did not see under `first_seq`.
    ResyncComplete { first_seq: u64 },
}

/// One page of one stream's changes, in the order the source returned them
/// (upserts by ascending version, then deletes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub stream: StreamId,
    pub seq: u64,
    pub kind: BatchKind,
    /// Attribute logical names; `Row::values` follow this order.
    pub columns: Vec<String>,
    pub changes: Vec<Change>,
    /// When the poller read the page: DES's `NotificationTime`.
    #[serde(with = "time::serde::rfc3339")]
    pub read_at: OffsetDateTime,
}

/// A change that failed in the sink and waits for its next try. It is applied out of band,
/// so sinks guard it: a newer row version or a later delete (tombstone) wins over it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryChange {
    pub stream: StreamId,
    /// The `seq` of the batch the change came from.
    pub origin_seq: u64,
    pub kind: BatchKind,
    pub columns: Vec<String>,
    pub change: Change,
    /// Tries made so far (1 after the first failure).
    pub attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub read_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_takes_32_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    /// Payloads and failure lines written before the target was shared read the same.
    #[test]
    fn a_lookup_target_is_a_plain_string_on_the_wire() {
        let id = Uuid::nil();
        let value = Value::Lookup {
            id,
            target: Some("team".into()),
        };
        let json = serde_json::to_string(&value).expect("json");
        let expected = format!(r#"{{"Lookup":{{"id":"{id}","target":"team"}}}}"#);
        assert_eq!(json, expected);
        assert_eq!(serde_json::from_str::<Value>(&json).expect("read"), value);
    }
}
