//! A table or column dropped while the engine runs: the start-up check, for one stream, now.
//!
//! A write that fails for a missing table or column (`SinkError::Missing`) does not wait
//! for the next start: the applier applies the stream's plan again (recreating what is
//! missing), requests a resync of the stream (the rows went with the table; the resync
//! writes them again and its sweep deletes only what the source no longer has), says why in
//! a log line and in the notes `des run` prints, and offers the message again at once.
//! Once per message: when the same message fails for a missing table again, the plan cannot
//! heal it (a trigger naming a table of its own, say) and the stream waits for its operator.
//! A message is known by its body, not its id: the Functions applier offers it again as a
//! copy with a new id.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use des_core::ports::Delivery;

use super::Applier;
use crate::error::EngineError;
use crate::message::WorkMessage;

/// Messages already repaired for (by a hash of their body), and what was repaired (drained
/// by `des run`'s status).
#[derive(Default)]
pub(super) struct Repairs {
    repaired: Mutex<HashSet<u64>>,
    notes: Mutex<Vec<String>>,
}

impl Repairs {
    /// `true` the first time for a message with this body.
    fn first(&self, body: &[u8]) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut hasher);
        let mut repaired = self.repaired.lock().unwrap_or_else(|p| p.into_inner());
        if repaired.len() > 10_000 {
            repaired.clear(); // A bound, not a cache: a second repair is harmless.
        }
        repaired.insert(hasher.finish())
    }

    fn note(&self, note: String) {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        notes.push(note);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Applier {
    /// What the applier repaired since the last call, one line each.
    pub fn take_repairs(&self) -> Vec<String> {
        self.repairs.take()
    }

    /// Repairs the delivery's stream and offers the message again now; `false` when this
    /// message was repaired for already (the caller stops the stream instead).
    pub(super) async fn repair(
        &self,
        delivery: &Delivery,
        error: &EngineError,
    ) -> Result<bool, EngineError> {
        if !self.repairs.first(&delivery.body) {
            return Ok(false);
        }
        let Ok(message) = WorkMessage::decode(&delivery.body) else {
            return Ok(false);
        };
        let stream = message.stream();
        let Some(profile) = self.ports.control.profile(stream.profile_id).await? else {
            return Ok(false);
        };
        let repaired = {
            let lock = self.stream_lock(stream);
            let _serial = lock.lock().await;
            crate::check::repair_stream(&self.ports, &profile.value, stream).await?
        };
        if repaired.is_none() {
            return Ok(false);
        }
        let note = format!(
            "{}: a write failed for a missing table or column ({error}); the schema was \
             applied again and the stream is resyncing",
            stream.entity
        );
        tracing::warn!(%stream, %error, "Target schema missing; recreated it and resyncing the stream.");
        self.repairs.note(note);
        self.ports.queue.release(delivery, Duration::ZERO).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_repaired_for_once_whatever_its_id() {
        let repairs = Repairs::default();
        assert!(repairs.first(br#"{"Batch":{"seq":7}}"#));
        // The Functions applier's copy: the same body under a new id.
        assert!(!repairs.first(br#"{"Batch":{"seq":7}}"#));
        assert!(repairs.first(br#"{"Batch":{"seq":8}}"#));
        repairs.note("account: repaired".into());
        assert_eq!(repairs.take(), ["account: repaired"]);
        assert!(repairs.take().is_empty());
    }
}
