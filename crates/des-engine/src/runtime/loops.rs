//! The poller loop and the applier loops.

use std::sync::Arc;
use std::time::{Duration, Instant};

use des_core::StreamId;
use des_core::ports::Delivery;
use des_core::profile::{Profile, ProfileState};
use tokio::task::JoinSet;

use super::{RuntimeState, status};
use crate::applier::{ApplyOutcome, Ticket};
use crate::poller::StepOutcome;
use crate::streams::StreamSpec;

/// How often an idle applier looks for delayed messages (retries, released batches).
const IDLE_RECEIVE: Duration = Duration::from_millis(100);
/// Messages taken per receive.
const RECEIVE_BATCH: usize = 4;

/// How a round ended, deciding when the next one starts.
#[derive(Default)]
struct Round {
    /// Some stream has more to read right away.
    busy: bool,
    /// Some stream waits for the appliers.
    backpressured: bool,
    streams: Vec<StreamId>,
}

pub(super) async fn poll_loop(state: Arc<RuntimeState>) {
    let mut stop = state.stop.clone();
    while !*stop.borrow() {
        let round = poll_round(&state).await;
        let snapshot = status::snapshot(&state, &round.streams).await;
        *state.status.lock().unwrap_or_else(|p| p.into_inner()) = snapshot;
        if round.busy {
            continue;
        }
        let interval = tokio::time::sleep(state.options.poll_interval);
        tokio::select! {
            () = interval => {}
            () = state.applied.notified(), if round.backpressured => {}
            _ = stop.changed() => {}
        }
    }
}

async fn poll_round(state: &Arc<RuntimeState>) -> Round {
    let mut round = Round::default();
    let profiles = match state.ports.control.profiles().await {
        Ok(profiles) => profiles,
        Err(error) => {
            tracing::warn!(%error, "Cannot list profiles.");
            return round;
        }
    };
    let mut tasks = JoinSet::new();
    for profile in profiles.into_iter().map(|p| p.value) {
        if profile.state == ProfileState::Inactive {
            continue;
        }
        let specs = match state.poller.streams(&profile).await {
            Ok(specs) => specs,
            Err(error) => {
                tracing::warn!(profile = %profile.id, %error, "Cannot list streams.");
                continue;
            }
        };
        let profile = Arc::new(profile);
        // Half an interval early counts as due, so a round that starts right after the sleep
        // does not miss a stream whose time is a moment later (delta latency stays ~1 interval).
        let now = Instant::now() + state.options.poll_interval / 2;
        for spec in specs {
            round.streams.push(spec.stream.clone());
            if state.not_due(&spec.stream, now) {
                continue;
            }
            tasks.spawn(poll_one(Arc::clone(state), Arc::clone(&profile), spec));
        }
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Some(StepOutcome::Progressed { more: true, .. })) => round.busy = true,
            Ok(Some(StepOutcome::Backpressure)) => round.backpressured = true,
            _ => {}
        }
    }
    round
}

/// Polls one stream; a stream with nothing more to read right away is not due again for a
/// poll interval, so while other streams page through an initial sync (busy rounds back to
/// back) caught-up streams do not spend the service's request budget on empty deltas.
async fn poll_one(
    state: Arc<RuntimeState>,
    profile: Arc<Profile>,
    spec: StreamSpec,
) -> Option<StepOutcome> {
    let budget = state.options.pages_per_round;
    let outcome = match state.poller.poll_stream(&profile, &spec, budget).await {
        Ok(report) => Some(report.last),
        Err(error) => {
            tracing::warn!(stream = %spec.stream, %error, "Poll step failed.");
            None
        }
    };
    let again_at_once = matches!(
        outcome,
        Some(StepOutcome::Progressed { more: true, .. } | StepOutcome::Backpressure)
    );
    if !again_at_once {
        state.due_after(spec.stream, state.options.poll_interval);
    }
    outcome
}

pub(super) async fn apply_loop(state: Arc<RuntimeState>) {
    let mut stop = state.stop.clone();
    while !*stop.borrow() {
        let woken = state.enqueued.notified();
        let visibility = state.options.visibility;
        match state.ports.queue.receive(RECEIVE_BATCH, visibility).await {
            Ok(deliveries) if !deliveries.is_empty() => {
                for (delivery, ticket) in state.applier.admit(deliveries) {
                    apply_delivery(&state, &delivery, ticket.as_ref()).await;
                }
            }
            Ok(_) => {
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(IDLE_RECEIVE) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "Cannot receive from the work queue.");
                tokio::time::sleep(state.options.poll_interval).await;
            }
        }
    }
}

async fn apply_delivery(state: &RuntimeState, delivery: &Delivery, ticket: Option<&Ticket>) {
    match state.applier.apply_admitted(delivery, ticket).await {
        Ok(ApplyOutcome::Applied { .. } | ApplyOutcome::Duplicate) => {
            state.applied.notify_waiters()
        }
        Ok(_) => {}
        Err(error) => {
            if let Err(settle) = state.applier.settle_error(delivery, &error).await {
                tracing::warn!(message = %delivery.id, error = %settle, "Cannot settle a message.");
            }
        }
    }
}
