//! Monitoring: the engine's per-stream figures ([`des_engine::monitor`]) sampled every
//! [`SAMPLE_EVERY`] and kept for [`HISTORY`] in memory, the API's request counts, and their
//! Prometheus text ([`prometheus`]). The portal's charts read the history through the
//! `x-monitor` extension; monitoring tools scrape `/metrics` where the host mounts it.
//!
//! The history lives in this process: it starts when the process does (a scaled-out or
//! restarted Functions app starts afresh; Application Insights keeps the long view there).

mod prometheus;
mod requests;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use des_core::profile::Profile;
use des_engine::EnginePorts;
use des_engine::monitor::{StreamFigures, figures};
use time::OffsetDateTime;
use uuid::Uuid;

pub use prometheus::metrics;
pub use requests::count_requests;

/// How often the sampler reads the figures.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// How much history is kept per profile.
pub const HISTORY: Duration = Duration::from_secs(3600);
/// A sampler started by a reader (not by the host) stops after this long without one, so an
/// API nobody watches does not read its stores every few seconds.
pub const IDLE_STOP: Duration = Duration::from_secs(900);

/// One profile's figures at one moment.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: OffsetDateTime,
    pub streams: Vec<StreamFigures>,
}

/// Sampled figures and request counts of this process.
#[derive(Default)]
pub struct Monitor {
    history: Mutex<HashMap<Uuid, VecDeque<Sample>>>,
    requests: requests::Counts,
    sampling: AtomicBool,
    last_read: Mutex<Option<Instant>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Monitor {
    /// The samples of `profile_id`, oldest first.
    pub fn history(&self, profile_id: Uuid) -> Vec<Sample> {
        lock(&self.history)
            .get(&profile_id)
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The newest sample of every profile sampled so far.
    pub fn latest(&self) -> Vec<(Uuid, Sample)> {
        lock(&self.history)
            .iter()
            .filter_map(|(id, h)| Some((*id, h.back()?.clone())))
            .collect()
    }

    fn record(&self, profile_id: Uuid, sample: Sample) {
        let oldest = sample.at - HISTORY;
        let mut history = lock(&self.history);
        let samples = history.entry(profile_id).or_default();
        samples.push_back(sample);
        while samples.front().is_some_and(|s| s.at < oldest) {
            samples.pop_front();
        }
    }

    fn forget_all_but(&self, kept: &[Uuid]) {
        lock(&self.history).retain(|id, _| kept.contains(id));
    }

    /// Samples one profile now.
    pub async fn sample(&self, ports: &EnginePorts, profile: &Profile) -> Option<Sample> {
        match figures(ports, profile).await {
            Ok(streams) => {
                let sample = Sample {
                    at: ports.clock.now(),
                    streams,
                };
                self.record(profile.id, sample.clone());
                Some(sample)
            }
            Err(error) => {
                tracing::warn!(profile = %profile.id, %error, "Cannot read the monitoring figures.");
                None
            }
        }
    }

    /// Samples every profile now.
    pub async fn sample_all(&self, ports: &EnginePorts) {
        let Ok(profiles) = ports.control.profiles().await else {
            tracing::warn!("Cannot list profiles for monitoring.");
            return;
        };
        let ids: Vec<Uuid> = profiles.iter().map(|p| p.value.id).collect();
        self.forget_all_but(&ids);
        for profile in profiles {
            self.sample(ports, &profile.value).await;
        }
    }

    /// Starts the sampler for as long as the monitor lives (what a host that always wants
    /// history does, like `des run`).
    pub fn start_sampling(self: &Arc<Self>, ports: EnginePorts) {
        self.spawn_sampler(ports, None, Duration::ZERO);
    }

    /// Notes a reader and makes sure a sampler runs; one started here stops after
    /// [`IDLE_STOP`] without readers. Its first sample is one interval away: the reader
    /// samples now itself, and two samples of one moment would chart a step that never was.
    pub fn read_by_someone(self: &Arc<Self>, ports: &EnginePorts) {
        *lock(&self.last_read) = Some(Instant::now());
        self.spawn_sampler(ports.clone(), Some(IDLE_STOP), SAMPLE_EVERY);
    }

    fn idle_for(&self, limit: Duration) -> bool {
        lock(&self.last_read).is_none_or(|at| at.elapsed() > limit)
    }

    fn spawn_sampler(
        self: &Arc<Self>,
        ports: EnginePorts,
        idle_stop: Option<Duration>,
        first_in: Duration,
    ) {
        if self.sampling.swap(true, Ordering::SeqCst) {
            return;
        }
        let monitor: Weak<Monitor> = Arc::downgrade(self);
        tokio::spawn(async move {
            let first = tokio::time::Instant::now() + first_in;
            let mut tick = tokio::time::interval_at(first, SAMPLE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(monitor) = monitor.upgrade() else {
                    return;
                };
                if idle_stop.is_some_and(|limit| monitor.idle_for(limit)) {
                    monitor.sampling.store(false, Ordering::SeqCst);
                    return;
                }
                monitor.sample_all(&ports).await;
            }
        });
    }

    pub fn request_counts(&self) -> Vec<((String, String, u16), u64)> {
        self.requests.snapshot()
    }
}
