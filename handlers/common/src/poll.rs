//! The `poll` function: on each timer tick, every stream of every active profile reads pages
//! until it is caught up or the budget (`DES_POLL_BUDGET_SECONDS`) is spent, streams in
//! parallel. Each step is [`Poller::step`], which checkpoints the cursor with an ETag
//! precondition, so an overlapping invocation (a slow tick, a second instance) loses the
//! race for a stream instead of reading its page twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use des_core::ports::ControlStore;
use des_core::profile::{Profile, ProfileState};
use des_engine::poller::{PollReport, Poller, PollerOptions, StepOutcome};
use des_engine::streams::StreamSpec;
use des_engine::{EngineError, EnginePorts};
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

use crate::protocol::{Invocation, InvocationRequest};

/// The timer trigger's binding name in `poll/function.json`.
pub const TIMER_BINDING: &str = "myTimer";

/// Polls invocations of the `poll` function.
pub struct PollFunction {
    poller: Arc<Poller>,
    control: Arc<dyn ControlStore>,
    ports: EnginePorts,
    budget: Duration,
    /// The profiles whose target this instance checked (`des_engine::check`, as `des run`
    /// does at start); a profile whose check failed is tried again on the next tick.
    checked: tokio::sync::Mutex<HashSet<Uuid>>,
}

impl PollFunction {
    pub fn new(ports: EnginePorts, budget: Duration) -> Self {
        let control = Arc::clone(&ports.control);
        Self {
            poller: Arc::new(Poller::new(ports.clone(), PollerOptions::default())),
            control,
            ports,
            budget,
            checked: tokio::sync::Mutex::default(),
        }
    }

    /// The start-up check of every replicating profile's target, on this instance's first
    /// tick (a profile activated later: on the first tick that sees it): tables the target lost are recreated and their streams resynced, with a line
    /// saying why. The poller is where the Azure deployment starts writing (it applies each
    /// stream's plan before its first batch), and one instance runs per tick.
    async fn check_targets(&self, profiles: &[Profile], logs: &mut Vec<String>) {
        let mut checked = self.checked.lock().await;
        for profile in profiles {
            if profile.state == ProfileState::Inactive || checked.contains(&profile.id) {
                continue;
            }
            match des_engine::check::check_profile(&self.ports, profile).await {
                Ok(repairs) => {
                    checked.insert(profile.id);
                    for repair in repairs {
                        tracing::warn!(profile = %profile.id, %repair, "Target check repaired a stream.");
                        logs.push(format!("target check: {repair}"));
                    }
                }
                Err(error) => {
                    tracing::warn!(profile = %profile.id, %error, "Target check failed; the next tick tries again.");
                    logs.push(format!(
                        "Profile {}: target check failed: {error}",
                        profile.id
                    ));
                }
            }
        }
    }

    /// One timer tick. Fails (500) only when the profiles cannot be listed.
    pub async fn invoke(&self, request: &InvocationRequest) -> Invocation {
        let deadline = Instant::now() + self.budget;
        let mut logs = Vec::new();
        if request.timer_past_due(TIMER_BINDING) == Some(true) {
            logs.push("The timer is past due.".to_owned());
        }
        let profiles = match self.control.profiles().await {
            Ok(profiles) => profiles,
            Err(error) => {
                return Invocation::failed(vec![format!("Cannot list profiles: {error}")]);
            }
        };
        let profiles: Vec<Profile> = profiles.into_iter().map(|p| p.value).collect();
        self.check_targets(&profiles, &mut logs).await;
        let mut tasks = JoinSet::new();
        for profile in profiles.iter().cloned() {
            if profile.state == ProfileState::Inactive {
                continue;
            }
            match self.poller.streams(&profile).await {
                Ok(specs) => self.spawn_streams(&mut tasks, profile, specs, deadline),
                Err(error) => logs.push(format!(
                    "Profile {}: cannot list streams: {error}",
                    profile.id
                )),
            }
        }
        let mut lines = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(line) => lines.push(line),
                Err(error) => lines.push(format!("A stream task failed: {error}")),
            }
        }
        lines.sort();
        logs.extend(lines);
        if logs.is_empty() {
            logs.push("No active profiles.".to_owned());
        }
        logs.extend(crate::figures::lines(&self.ports, &profiles).await);
        Invocation::ok(logs)
    }

    fn spawn_streams(
        &self,
        tasks: &mut JoinSet<String>,
        profile: Profile,
        specs: Vec<StreamSpec>,
        deadline: Instant,
    ) {
        let profile = Arc::new(profile);
        for spec in specs {
            let (poller, profile) = (Arc::clone(&self.poller), Arc::clone(&profile));
            tasks.spawn(async move {
                let (report, error) = poller.poll_until(&profile, &spec, deadline).await;
                if let Some(error) = &error {
                    // The tick still answers 200 (other streams went on), so its Logs reach
                    // the invocation; this line gives the failure its level in the log too.
                    tracing::warn!(stream = %spec.stream, %error, "A stream step failed; the next tick tries again.");
                }
                summary_line(&spec.stream.to_string(), &report, error.as_ref())
            });
        }
    }
}

/// What one stream did in one invocation (counts only, never record values).
fn summary_line(stream: &str, s: &PollReport, error: Option<&EngineError>) -> String {
    let last = match (error, s.last) {
        (Some(error), _) => format!("failed: {error}"),
        (None, _) if s.steps == 0 => "budget spent".into(),
        (None, StepOutcome::Progressed { more: true, .. }) => "more to read".into(),
        (None, StepOutcome::Progressed { .. }) => "caught up".into(),
        (None, StepOutcome::Idle) => "idle".into(),
        (None, StepOutcome::Backpressure) => "waiting for the applier".into(),
        (None, StepOutcome::Conflict) => "another poller has it".into(),
    };
    format!(
        "Stream {stream}: {} steps, {} batches, {} changes; {last}.",
        s.steps, s.batches, s.changes
    )
}
