//! After each poll tick, one log line per stream with the monitoring figures, under the same
//! names as the Prometheus metrics of `des run` (`des_api::monitor`), as `name=value` fields
//! that Application Insights queries extract (`docs/monitoring.md` has the lag alert). Ids,
//! logical names and numbers only, never record values.

use des_core::profile::{Profile, ProfileState};
use des_engine::EnginePorts;
use des_engine::monitor::{StreamFigures, figures};
use uuid::Uuid;

/// Every line starts with this, so a query finds them.
pub const PREFIX: &str = "des.metrics";

/// The figure lines of the active profiles, then the queue depth.
pub async fn lines(ports: &EnginePorts, profiles: &[Profile]) -> Vec<String> {
    let mut out = Vec::new();
    for profile in profiles
        .iter()
        .filter(|p| p.state != ProfileState::Inactive)
    {
        match figures(ports, profile).await {
            Ok(streams) => out.extend(streams.iter().map(|f| line(profile.id, f))),
            Err(error) => out.push(format!(
                "Profile {}: cannot read the monitoring figures: {error}",
                profile.id
            )),
        }
    }
    if let Ok(depth) = ports.queue.approximate_len().await {
        out.push(format!("{PREFIX} des_queue_messages={depth}"));
    }
    out
}

fn line(profile_id: Uuid, f: &StreamFigures) -> String {
    let lag = f
        .lag_seconds
        .map_or_else(String::new, |lag| format!(" des_lag_seconds={lag:.3}"));
    format!(
        "{PREFIX} profile={} entity={} des_rows_applied_total={} des_rows_read_total={} \
         des_failures_total={} des_pending_batches={}{lag}",
        profile_id, f.entity, f.rows_applied, f.rows_read, f.failures, f.pending_batches
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_carries_the_metric_names_as_fields() {
        let profile = Uuid::nil();
        let figures = StreamFigures {
            entity: "account".into(),
            rows_read: 5,
            rows_applied: 4,
            failures: 1,
            last_sync: None,
            pending_batches: 2,
            lag_seconds: Some(1.25),
            hint: None,
        };
        let text = line(profile, &figures);
        assert_eq!(
            text,
            format!(
                "des.metrics profile={profile} entity=account des_rows_applied_total=4 \
                 des_rows_read_total=5 des_failures_total=1 des_pending_batches=2 \
                 des_lag_seconds=1.250"
            )
        );
    }
}
