//! Everything the engine drives, as trait objects; entry points wire the adapters.

use std::sync::Arc;

use des_core::ports::{Clock, ControlStore, FailureLog, PayloadStore, WorkQueue};

use crate::resolve::{SinkResolver, SourceResolver};

/// The ports the poller, the applier and the admin operations share.
#[derive(Clone)]
pub struct EnginePorts {
    pub control: Arc<dyn ControlStore>,
    pub queue: Arc<dyn WorkQueue>,
    pub payloads: Arc<dyn PayloadStore>,
    pub failures: Arc<dyn FailureLog>,
    pub clock: Arc<dyn Clock>,
    pub sources: Arc<dyn SourceResolver>,
    pub sinks: Arc<dyn SinkResolver>,
}
