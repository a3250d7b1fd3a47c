//! The Prometheus text format (version 0.0.4) of the newest samples and the request counts.
//! Labels name profiles and entities (ids and logical names), never record values.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::Sample;
use crate::state::ApiState;

/// One metric family: name, type, help.
struct Family(&'static str, &'static str, &'static str);

const ROWS_APPLIED: Family = Family(
    "des_rows_applied_total",
    "counter",
    "Changes written to the target (DES SuccessNotifications).",
);
const ROWS_READ: Family = Family(
    "des_rows_read_total",
    "counter",
    "Changes read from Dataverse and sent (DES TotalNotifications).",
);
const FAILURES: Family = Family(
    "des_failures_total",
    "counter",
    "Changes given up on after their retries (DES FailureNotifications).",
);
const LAG: Family = Family(
    "des_lag_seconds",
    "gauge",
    "Age of the oldest change read but not yet in the target; 0 when caught up.",
);
const PENDING: Family = Family(
    "des_pending_batches",
    "gauge",
    "Batches read but not yet in the target (the entity's queue depth).",
);
const LAST_SYNC: Family = Family(
    "des_last_sync_timestamp_seconds",
    "gauge",
    "When the entity last wrote to the target (Unix time).",
);
const QUEUE: Family = Family(
    "des_queue_messages",
    "gauge",
    "Messages in the work queue (batches and retries, approximate).",
);
const REQUESTS: Family = Family(
    "des_api_requests_total",
    "counter",
    "Requests the DES API answered, by method, route and status.",
);

/// `GET /metrics`: samples every profile now (so a scrape is never stale), then renders.
pub async fn metrics(State(state): State<ApiState>) -> impl IntoResponse {
    let monitor = state.monitor();
    monitor.sample_all(state.engine()).await;
    let queue = state.engine().queue.approximate_len().await.ok();
    let text = render(&monitor.latest(), queue, &monitor.request_counts());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// The whole exposition.
pub fn render(
    latest: &[(uuid::Uuid, Sample)],
    queue: Option<u64>,
    requests: &[((String, String, u16), u64)],
) -> String {
    let mut out = String::new();
    type Value = fn(&des_engine::monitor::StreamFigures) -> Option<f64>;
    let per_stream: [(Family, Value); 6] = [
        (ROWS_APPLIED, |f| Some(f.rows_applied as f64)),
        (ROWS_READ, |f| Some(f.rows_read as f64)),
        (FAILURES, |f| Some(f.failures as f64)),
        (LAG, |f| f.lag_seconds),
        (PENDING, |f| Some(f.pending_batches as f64)),
        (LAST_SYNC, |f| {
            f.last_sync.map(|t| t.unix_timestamp() as f64)
        }),
    ];
    let mut sorted: Vec<&(uuid::Uuid, Sample)> = latest.iter().collect();
    sorted.sort_by_key(|(id, _)| *id);
    for (family, value) in per_stream {
        header(&mut out, &family);
        for (profile, sample) in &sorted {
            for stream in &sample.streams {
                if let Some(v) = value(stream) {
                    let labels = format!(
                        "profile=\"{profile}\",entity=\"{}\"",
                        escape(&stream.entity)
                    );
                    let _ = writeln!(out, "{}{{{labels}}} {v}", family.0);
                }
            }
        }
    }
    if let Some(queue) = queue {
        header(&mut out, &QUEUE);
        let _ = writeln!(out, "{} {queue}", QUEUE.0);
    }
    header(&mut out, &REQUESTS);
    for ((method, route, status), count) in requests {
        let _ = writeln!(
            out,
            "{}{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
            REQUESTS.0,
            escape(route)
        );
    }
    out
}

fn header(out: &mut String, family: &Family) {
    let _ = writeln!(out, "# HELP {} {}", family.0, family.2);
    let _ = writeln!(out, "# TYPE {} {}", family.0, family.1);
}

/// Label values escape backslash, double quote and line feed.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use des_engine::monitor::StreamFigures;
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn every_family_is_typed_and_labelled_by_profile_and_entity() {
        let figures = StreamFigures {
            entity: "acc\"ount".into(),
            rows_read: 12,
            rows_applied: 10,
            failures: 1,
            last_sync: Some(OffsetDateTime::UNIX_EPOCH),
            pending_batches: 2,
            lag_seconds: Some(1.5),
            hint: None,
        };
        let sample = Sample {
            at: OffsetDateTime::UNIX_EPOCH,
            streams: vec![figures],
        };
        let id = uuid::Uuid::nil();
        let requests = vec![(("GET".into(), "/crm/exporter/profiles".into(), 200), 3)];
        let text = render(&[(id, sample)], Some(4), &requests);
        let labels = format!("{{profile=\"{id}\",entity=\"acc\\\"ount\"}}");
        for line in [
            format!("des_rows_applied_total{labels} 10"),
            format!("des_failures_total{labels} 1"),
            format!("des_lag_seconds{labels} 1.5"),
            format!("des_pending_batches{labels} 2"),
            format!("des_last_sync_timestamp_seconds{labels} 0"),
            "des_queue_messages 4".to_owned(),
            "des_api_requests_total{method=\"GET\",route=\"/crm/exporter/profiles\",status=\"200\"} 3"
                .to_owned(),
            "# TYPE des_lag_seconds gauge".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
