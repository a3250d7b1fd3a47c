//! `GET /crm/exporter/profiles/{id}/x-monitor` (extension): each entity's figures now, with
//! the lag, and the last hour of samples for charts.

use axum::Json;
use axum::extract::{Path, State};
use des_engine::monitor::StreamFigures;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::profiles::authorized;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::monitor::{SAMPLE_EVERY, Sample};
use crate::state::ApiState;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MonitorReport {
    profile_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    sampled_on: OffsetDateTime,
    interval_seconds: u64,
    entities: Vec<EntityMonitor>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EntityMonitor {
    #[serde(rename = "Type")]
    entity: String,
    rows_read: u64,
    rows_applied: u64,
    failures: u64,
    pending_batches: u64,
    /// `null` while the profile does not replicate data.
    lag_seconds: Option<f64>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_sync: Option<OffsetDateTime>,
    /// What the operator should do while the stream waits for them; `null` otherwise.
    hint: Option<String>,
    history: History,
}

/// Columns, oldest first: Unix seconds, the applied counter and the lag at each sample.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct History {
    at: Vec<i64>,
    rows_applied: Vec<u64>,
    lag_seconds: Vec<Option<f64>>,
}

pub async fn monitor(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MonitorReport>> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    let profile = stored.value;
    let monitor = state.monitor();
    monitor.read_by_someone(state.engine());
    let now = state.engine().clock.now();
    let fresh = monitor
        .history(profile.id)
        .last()
        .filter(|s| now - s.at < SAMPLE_EVERY)
        .cloned();
    let latest = match fresh {
        Some(sample) => sample,
        None => monitor
            .sample(state.engine(), &profile)
            .await
            .ok_or_else(|| ApiError::unavailable("The figures could not be read."))?,
    };
    let history = monitor.history(profile.id);
    let entities = latest
        .streams
        .iter()
        .map(|figures| entity(figures, &history))
        .collect();
    Ok(Json(MonitorReport {
        profile_id: profile.id,
        sampled_on: latest.at,
        interval_seconds: SAMPLE_EVERY.as_secs(),
        entities,
    }))
}

fn entity(figures: &StreamFigures, history: &[Sample]) -> EntityMonitor {
    let mut columns = History::default();
    for sample in history {
        if let Some(f) = sample.streams.iter().find(|f| f.entity == figures.entity) {
            columns.at.push(sample.at.unix_timestamp());
            columns.rows_applied.push(f.rows_applied);
            columns.lag_seconds.push(f.lag_seconds);
        }
    }
    EntityMonitor {
        entity: figures.entity.clone(),
        rows_read: figures.rows_read,
        rows_applied: figures.rows_applied,
        failures: figures.failures,
        pending_batches: figures.pending_batches,
        lag_seconds: figures.lag_seconds,
        last_sync: figures.last_sync,
        hint: figures.hint.clone(),
        history: columns,
    }
}
