//! What travels on the work queue and in the payload store.
//!
//! Queue messages stay small: a batch message names its stream, its `seq` and the payload key
//! of its [`BatchEnvelope`]; the envelope (rows, and the link the poller continues from) lives
//! in the [`PayloadStore`](des_core::ports::PayloadStore). Both name the schema plan they were
//! read under by its payload key, so the applier writes with the columns the poller read.

use des_core::ports::NextLink;
use des_core::{Batch, RetryChange, StreamId};
use serde::{Deserialize, Serialize};

/// One unit of applier work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WorkMessage {
    /// Batch `seq` of a stream; its envelope is stored under `key`.
    Batch {
        stream: StreamId,
        seq: u64,
        key: String,
        plan_key: String,
    },
    /// A change that failed in the sink, due for another try.
    Retry {
        retry: RetryChange,
        plan_key: String,
    },
}

impl WorkMessage {
    pub fn stream(&self) -> &StreamId {
        match self {
            Self::Batch { stream, .. } => stream,
            Self::Retry { retry, .. } => &retry.stream,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        // Serialising these plain data types cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The stored form of a batch: the outbox entry the poller writes before it moves its cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchEnvelope {
    pub batch: Batch,
    /// Where the read goes on after this page; a re-read after a crash continues from here,
    /// never from a second read of the same page.
    pub next: NextLinkDto,
    pub plan_key: String,
}

/// First byte of an envelope in the binary (postcard) form. JSON envelopes, written before it,
/// start with `{`, so both stay readable; any other first byte is refused.
const ENVELOPE_V1: u8 = 1;

/// Why stored envelope bytes cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("binary envelope: {0}")]
    Binary(#[from] postcard::Error),
    #[error("JSON envelope: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unknown envelope format (first byte {0:#04x})")]
    UnknownFormat(u8),
    #[error("empty envelope")]
    Empty,
}

impl BatchEnvelope {
    /// A version byte, then postcard: a fraction of the size and the work of JSON for a page
    /// of thousands of rows (the payload is ours; queue messages stay JSON).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.size_hint());
        out.push(ENVELOPE_V1);
        // Serialising these plain data types into a Vec cannot fail.
        postcard::to_extend(self, out).unwrap_or_default()
    }

    /// About the encoded size, a little over: the first rows' size times the rows (a page's
    /// rows are alike). Why: growing by doubling to a page's megabytes held up to twice them
    /// for a moment and left the allocator a trail of freed buffers, one per page.
    fn size_hint(&self) -> usize {
        const SAMPLE: usize = 16;
        let changes = &self.batch.changes;
        let sample = &changes[..changes.len().min(SAMPLE)];
        let sampled: usize = sample
            .iter()
            .map(|c| postcard::experimental::serialized_size(c).unwrap_or(0))
            .sum();
        let per_change = sampled / sample.len().max(1);
        (per_change.saturating_mul(changes.len()) / 8)
            .saturating_mul(9)
            .saturating_add(1024)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        match bytes.first() {
            Some(&ENVELOPE_V1) => Ok(postcard::from_bytes(&bytes[1..])?),
            Some(b'{') => Ok(serde_json::from_slice(bytes)?),
            Some(&other) => Err(EnvelopeError::UnknownFormat(other)),
            None => Err(EnvelopeError::Empty),
        }
    }
}

/// [`NextLink`] in a serialisable shape (the port type is not serde).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextLinkDto {
    More(String),
    Done(String),
}

impl From<&NextLink> for NextLinkDto {
    fn from(link: &NextLink) -> Self {
        match link {
            NextLink::More(l) => Self::More(l.clone()),
            NextLink::Done(l) => Self::Done(l.clone()),
        }
    }
}

impl From<&NextLinkDto> for NextLink {
    fn from(link: &NextLinkDto) -> Self {
        match link {
            NextLinkDto::More(l) => Self::More(l.clone()),
            NextLinkDto::Done(l) => Self::Done(l.clone()),
        }
    }
}

/// Payload key of batch `seq` of a stream.
pub fn batch_key(stream: &StreamId, seq: u64) -> String {
    format!("batches/{}/{}/{seq}", stream.profile_id, stream.entity)
}

/// Payload key of a stream's schema plan with this fingerprint.
pub fn plan_key(stream: &StreamId, fingerprint: &str) -> String {
    format!(
        "plans/{}/{}/{fingerprint}",
        stream.profile_id, stream.entity
    )
}

/// Payload key under which a poisoned message is kept for an operator.
pub fn poison_key(stream: &StreamId, message_id: &str) -> String {
    format!(
        "poison/{}/{}/{message_id}",
        stream.profile_id, stream.entity
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use des_core::{BatchKind, Change, Row, Value};
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    pub(crate) fn stream() -> StreamId {
        StreamId {
            profile_id: Uuid::nil(),
            entity: "account".into(),
        }
    }

    #[test]
    fn batch_message_round_trips_and_stays_small() {
        let msg = WorkMessage::Batch {
            stream: stream(),
            seq: 7,
            key: batch_key(&stream(), 7),
            plan_key: plan_key(&stream(), "abc"),
        };
        let bytes = msg.encode();
        assert!(bytes.len() < 300, "{} bytes", bytes.len());
        assert_eq!(WorkMessage::decode(&bytes).unwrap(), msg);
        assert_eq!(msg.stream(), &stream());
    }

    #[test]
    fn envelope_and_retry_round_trip_every_value_kind() {
        let row = Row {
            id: Uuid::from_u128(1),
            version: 42,
            values: vec![
                Value::Null,
                Value::Decimal("20000.0000".into()),
                Value::DateTime(datetime!(2024-05-01 10:00:00.123 UTC)),
                Value::Lookup {
                    id: Uuid::from_u128(2),
                    target: Some("contact".into()),
                },
            ],
        };
        let batch = Batch {
            stream: stream(),
            seq: 3,
            kind: BatchKind::Resync { first_seq: 2 },
            columns: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            changes: vec![
                Change::Upsert(row.clone()),
                Change::Delete(Uuid::from_u128(3)),
            ],
            read_at: datetime!(2024-05-01 10:00:01 UTC),
        };
        let env = BatchEnvelope {
            batch: batch.clone(),
            next: NextLinkDto::Done("delta".into()),
            plan_key: "p".into(),
        };
        assert_eq!(BatchEnvelope::decode(&env.encode()).unwrap(), env);
        // Envelopes stored as JSON by earlier versions stay readable.
        let json = serde_json::to_vec(&env).unwrap();
        assert_eq!(BatchEnvelope::decode(&json).unwrap(), env);
        let retry = WorkMessage::Retry {
            retry: RetryChange {
                stream: stream(),
                origin_seq: 3,
                kind: batch.kind,
                columns: batch.columns,
                change: Change::Upsert(row),
                attempts: 1,
                read_at: batch.read_at,
            },
            plan_key: "p".into(),
        };
        assert_eq!(WorkMessage::decode(&retry.encode()).unwrap(), retry);
    }

    #[test]
    fn a_page_of_alike_rows_is_encoded_without_growing_its_buffer() {
        let row = |n: u128| Row {
            id: Uuid::from_u128(n),
            version: 7,
            values: vec![Value::Text(format!("name {n:04}")), Value::Int(1)],
        };
        let env = BatchEnvelope {
            batch: Batch {
                stream: stream(),
                seq: 1,
                kind: BatchKind::Initial,
                columns: vec!["a".into(), "b".into()],
                changes: (0..2_000).map(|n| Change::Upsert(row(n))).collect(),
                read_at: datetime!(2024-05-01 10:00:01 UTC),
            },
            next: NextLinkDto::More("next".into()),
            plan_key: "p".into(),
        };
        let hint = env.size_hint();
        let bytes = env.encode();
        assert!(hint >= bytes.len(), "{hint} for {}", bytes.len());
        assert!(hint < bytes.len() / 4 * 5, "{hint} for {}", bytes.len());
        assert_eq!(bytes.capacity(), hint, "no growth");
        assert_eq!(BatchEnvelope::decode(&bytes).unwrap(), env);
    }

    #[test]
    fn garbage_does_not_decode() {
        assert!(WorkMessage::decode(b"{\"Nope\":1}").is_err());
        assert!(matches!(
            BatchEnvelope::decode(&[9, 1, 2]),
            Err(EnvelopeError::UnknownFormat(9))
        ));
        assert!(BatchEnvelope::decode(&[]).is_err());
        assert!(BatchEnvelope::decode(&[ENVELOPE_V1, 0xff]).is_err());
    }
}
