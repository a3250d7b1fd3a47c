//! A stream that waits for its operator (a target- or configuration-class fault): the
//! hint says what to do, the counters say `Failure`, and nothing is poisoned or lost.

use std::collections::HashMap;
use std::sync::Mutex;

use des_core::StreamId;
use des_core::ports::Delivery;
use des_core::sync::StatsDelta;

use super::Applier;
use crate::error::EngineError;
use crate::message::WorkMessage;

/// The operator hints of streams that wait, in memory (the stored one is in the stream's
/// counters, `EntityStats::hint`).
#[derive(Default)]
pub(super) struct Hints(Mutex<HashMap<StreamId, String>>);

impl Hints {
    fn set(&self, stream: &StreamId, hint: String) {
        self.lock().insert(stream.clone(), hint);
    }

    pub(super) fn clear(&self, stream: &StreamId) {
        let mut hints = self.lock();
        if !hints.is_empty() {
            hints.remove(stream);
        }
    }

    fn get(&self, stream: &StreamId) -> Option<String> {
        self.lock().get(stream).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Applier {
    /// What the operator should do for `stream`, while it waits for them.
    pub fn hint(&self, stream: &StreamId) -> Option<String> {
        self.hints.get(stream)
    }

    /// Marks the delivery's stream as waiting: hint and `LastExportStatus: Failure`. Best
    /// effort: the message is released either way.
    pub(super) async fn stopped(&self, delivery: &Delivery, error: &EngineError, hint: &str) {
        let Ok(message) = WorkMessage::decode(&delivery.body) else {
            return;
        };
        let stream = message.stream();
        let hint = format!("{error}: {hint}");
        self.hints.set(stream, hint.clone());
        // Stored with the counters, so the API and every process read it; the next batch
        // that goes through clears it (`settle::count_written`).
        let delta = StatsDelta {
            last_export_date: Some(self.ports.clock.now()),
            last_export_status: Some("Failure".into()),
            hint: Some(Some(hint)),
            ..Default::default()
        };
        if let Err(e) = self.add_stats(stream, &delta).await {
            tracing::warn!(%stream, error = %e, "Could not mark the stream failed.");
        }
    }
}
