//! In-process handoff of batch envelopes from the poller to the appliers.
//!
//! The poller already holds the decoded envelope it stored; when the applier in the same
//! process receives that batch's message, it takes the envelope from here instead of reading
//! and decoding the payload again. The payload stays the durable copy: a miss (another
//! process, a restart, a full handoff) simply reads it. Payloads are write-once per key, so a
//! held envelope always equals the stored one; `take` removes it, so a redelivery reads the
//! store. At most the back-pressure bound of envelopes is held (a poller further ahead than
//! that waits), so memory stays flat and the appliers rarely miss.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use crate::message::BatchEnvelope;

/// Envelopes by payload key, oldest first.
pub struct Handoff {
    held: Mutex<VecDeque<(String, BatchEnvelope)>>,
    /// Envelopes held at most; older ones are dropped (their payloads are still stored).
    capacity: usize,
}

impl Handoff {
    pub fn new(capacity: usize) -> Self {
        Self {
            held: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// Holds `envelope`, stored under `key`, for the applier.
    pub fn offer(&self, key: String, envelope: BatchEnvelope) {
        let mut held = self.lock();
        if held.len() >= self.capacity {
            held.pop_front();
        }
        held.push_back((key, envelope));
    }

    /// The envelope stored under `key`, if this process still holds it.
    pub fn take(&self, key: &str) -> Option<BatchEnvelope> {
        let mut held = self.lock();
        let at = held.iter().position(|(k, _)| k == key)?;
        held.remove(at).map(|(_, envelope)| envelope)
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<(String, BatchEnvelope)>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}
