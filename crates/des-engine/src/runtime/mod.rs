//! The local runtime: one poller loop and a few applier loops in one process (`des run`).
//!
//! - The poller loop runs a round every `poll_interval` over every stream of every active
//!   profile, streams in parallel. A stream that still has pages to read (an initial sync, a
//!   resync, a long delta) gets the next round at once instead of waiting for the interval,
//!   until it has `max_unapplied_batches` batches waiting: then it waits for the appliers
//!   (back-pressure, so memory stays flat whatever the table size). A caught-up stream is
//!   polled once per interval even while others keep the rounds busy: empty deltas would
//!   spend the service's request and execution-time budget that the reads need. How many
//!   requests are in flight at once is the source's business (the Dataverse client paces
//!   every caller against one budget per app user).
//! - Appliers receive continuously. The poller wakes them as soon as it enqueues (a
//!   [`Notify`]), so delta latency is about one poll interval. Different streams are applied
//!   in parallel; one stream in order (the applier's per-stream lock and the sink's seq).
//! - [`RuntimeHandle::shutdown`] lets the current round and the current deliveries finish:
//!   nothing is lost. Dropping the handle (or [`RuntimeHandle::abort`]) aborts the tasks
//!   mid-flight, which is what a crash looks like; the next start resumes from the
//!   checkpoints and redelivers whatever was not acknowledged.

mod handoff;
mod loops;
mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use des_core::StreamId;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::applier::{Applier, ApplierOptions};
use crate::poller::{Poller, PollerOptions};
use crate::ports::EnginePorts;

pub use handoff::Handoff;
pub use status::StreamStatus;

/// Runtime settings; `..Default::default()` fills the rest.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub poll_interval: Duration,
    /// Applier loops.
    pub appliers: usize,
    pub metadata_refresh: Duration,
    /// Page size for sources; applied by the wiring when it builds the source (the engine
    /// reads whatever page the source returns).
    pub page_size: Option<u32>,
    /// Back-pressure bound per stream.
    pub max_unapplied_batches: u64,
    /// How long a received message stays hidden; after a crash it comes back after this.
    pub visibility: Duration,
    /// Pages a stream may read per round before other work gets a turn.
    pub pages_per_round: u32,
    pub applier: ApplierOptions,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(1),
            appliers: 2,
            metadata_refresh: Duration::from_secs(60),
            page_size: None,
            // Two keep the appliers fed while the next page is read ahead; four held two more
            // decoded pages of 5,000 rows and were no faster (crates/des-cli/README.md, "Memory").
            max_unapplied_batches: 2,
            visibility: Duration::from_secs(30),
            pages_per_round: 4,
            applier: ApplierOptions::default(),
        }
    }
}

/// Starts the runtime's tasks.
pub struct Runtime;

/// What the loops share.
pub(crate) struct RuntimeState {
    pub ports: EnginePorts,
    pub options: RuntimeOptions,
    pub poller: Poller,
    pub applier: Applier,
    /// Wakes appliers: the poller enqueued something.
    pub enqueued: Arc<Notify>,
    /// Wakes a back-pressured poller: a batch was applied.
    pub applied: Notify,
    pub stop: watch::Receiver<bool>,
    pub status: Mutex<Vec<StreamStatus>>,
    /// When a caught-up stream is next polled; absent: at the next round.
    pub due: Mutex<HashMap<StreamId, Instant>>,
}

impl RuntimeState {
    fn due_map(&self) -> std::sync::MutexGuard<'_, HashMap<StreamId, Instant>> {
        self.due.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn not_due(&self, stream: &StreamId, now: Instant) -> bool {
        self.due_map().get(stream).is_some_and(|at| *at > now)
    }

    pub(crate) fn due_after(&self, stream: StreamId, wait: Duration) {
        self.due_map().insert(stream, Instant::now() + wait);
    }
}

impl Runtime {
    /// Spawns the poller loop and `options.appliers` applier loops on the current Tokio
    /// runtime.
    pub fn start(ports: EnginePorts, options: RuntimeOptions) -> RuntimeHandle {
        let (stop_tx, stop_rx) = watch::channel(false);
        let enqueued = Arc::new(Notify::new());
        let poller_options = PollerOptions {
            metadata_refresh: options.metadata_refresh,
            max_unapplied_batches: options.max_unapplied_batches,
        };
        // One more than the back-pressure bound: a resync's last page comes with its completion.
        let held = usize::try_from(options.max_unapplied_batches).unwrap_or(usize::MAX);
        let handoff = Arc::new(Handoff::new(held.saturating_add(1)));
        let poller = Poller::new(ports.clone(), poller_options)
            .with_wake(Arc::clone(&enqueued))
            .with_handoff(Arc::clone(&handoff));
        let applier = Applier::new(ports.clone(), options.applier.clone()).with_handoff(handoff);
        let state = Arc::new(RuntimeState {
            applier,
            poller,
            ports,
            enqueued,
            applied: Notify::new(),
            stop: stop_rx,
            status: Mutex::default(),
            due: Mutex::default(),
            options,
        });
        let mut tasks = vec![tokio::spawn(loops::poll_loop(Arc::clone(&state)))];
        for _ in 0..state.options.appliers.max(1) {
            tasks.push(tokio::spawn(loops::apply_loop(Arc::clone(&state))));
        }
        RuntimeHandle {
            state,
            stop: stop_tx,
            tasks,
        }
    }
}

/// A running engine.
pub struct RuntimeHandle {
    state: Arc<RuntimeState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RuntimeHandle {
    /// Per-stream progress, as of the poller's last round.
    pub fn status(&self) -> Vec<StreamStatus> {
        self.state
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What the appliers repaired in the target since the last call (a table dropped while
    /// running, recreated and resynced), one line each, for the status display.
    pub fn take_repairs(&self) -> Vec<String> {
        self.state.applier.take_repairs()
    }

    /// Runs a poller round now instead of at the next interval.
    pub fn wake(&self) {
        self.state.due_map().clear();
        self.state.enqueued.notify_waiters();
    }

    /// Stops cleanly: the current page and the current deliveries finish, nothing is lost.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.state.enqueued.notify_waiters();
        self.state.applied.notify_waiters();
        for task in std::mem::take(&mut self.tasks) {
            if let Err(error) = task.await {
                tracing::error!(%error, "A runtime task failed.");
            }
        }
    }

    /// Stops at once, mid-flight, like a crash.
    pub fn abort(mut self) {
        for task in std::mem::take(&mut self.tasks) {
            task.abort();
        }
    }
}

impl Drop for RuntimeHandle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
