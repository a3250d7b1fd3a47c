//! The resync sweep's guard. A `ResyncComplete` batch makes the sink delete every row its
//! resync did not carry, so it may run only when the resync's every batch reached the sink.
//! A batch that was poisoned was skipped, its ids never marked seen; the poison path then
//! requests a new resync (before skipping), which moves the cursor's `last_resync_seq` past
//! every batch already sent. So a `ResyncComplete` of a resync older than the cursor's latest
//! is applied without its sweep: the newer resync sweeps when it completes. A fault can delay
//! a sweep, never widen one.

use std::borrow::Cow;

use des_core::{Batch, BatchKind};

use super::Applier;
use crate::error::EngineError;

impl Applier {
    pub(super) async fn guard_sweep<'b>(
        &self,
        batch: &'b Batch,
    ) -> Result<Cow<'b, Batch>, EngineError> {
        let BatchKind::ResyncComplete { first_seq } = batch.kind else {
            return Ok(Cow::Borrowed(batch));
        };
        let stream = &batch.stream;
        let cursor = self
            .ports
            .control
            .cursor(stream.profile_id, &stream.entity)
            .await?;
        let latest = cursor.map_or(0, |c| c.value.last_resync_seq);
        if latest <= first_seq {
            return Ok(Cow::Borrowed(batch));
        }
        tracing::warn!(%stream, first_seq, latest, "A newer resync was requested; this one does not sweep.");
        Ok(Cow::Owned(Batch {
            kind: BatchKind::Resync { first_seq },
            ..batch.clone()
        }))
    }
}
