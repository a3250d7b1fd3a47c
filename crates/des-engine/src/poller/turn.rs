//! A stream's turn: steps back to back while they report more work, until a step budget
//! (`des run`'s rounds) or a deadline (a Functions timer tick) ends it. One loop for both, so
//! the two deployments page a stream the same way.

use tokio::time::Instant;

use super::{PollReport, Poller, StepOutcome};
use crate::error::EngineError;
use crate::streams::StreamSpec;
use des_core::profile::Profile;

impl Poller {
    /// At most `budget` steps (at least one); the first error ends the turn and is returned.
    pub async fn poll_stream(
        &self,
        profile: &Profile,
        spec: &StreamSpec,
        budget: u32,
    ) -> Result<PollReport, EngineError> {
        match self.turn(profile, spec, budget.max(1), None).await {
            (report, None) => Ok(report),
            (_, Some(error)) => Err(error),
        }
    }

    /// Steps until `deadline`; a step still running then is cut (it had checkpointed
    /// nothing, so the next turn redoes it). The error that ended the turn comes with what
    /// was done before it; no step at all leaves `steps` at 0.
    pub async fn poll_until(
        &self,
        profile: &Profile,
        spec: &StreamSpec,
        deadline: Instant,
    ) -> (PollReport, Option<EngineError>) {
        self.turn(profile, spec, u32::MAX, Some(deadline)).await
    }

    async fn turn(
        &self,
        profile: &Profile,
        spec: &StreamSpec,
        budget: u32,
        deadline: Option<Instant>,
    ) -> (PollReport, Option<EngineError>) {
        let mut report = PollReport {
            steps: 0,
            batches: 0,
            changes: 0,
            last: StepOutcome::Idle,
        };
        while report.steps < budget && deadline.is_none_or(|at| Instant::now() < at) {
            let step = self.step(profile, spec);
            let done = match deadline {
                Some(at) => match tokio::time::timeout_at(at, step).await {
                    Ok(done) => done,
                    Err(_) => break,
                },
                None => step.await,
            };
            let outcome = match done {
                Ok(outcome) => outcome,
                Err(error) => return (report, Some(error)),
            };
            report.steps += 1;
            report.last = outcome;
            let StepOutcome::Progressed {
                batches,
                changes,
                more,
            } = outcome
            else {
                break;
            };
            report.batches += batches;
            report.changes += changes;
            if !more {
                break;
            }
        }
        (report, None)
    }
}
