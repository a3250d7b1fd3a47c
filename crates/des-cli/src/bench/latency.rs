//! Delta latency: marked updates written into the emulator at a steady rate, each timed from
//! just before the write until the target shows the marker.

use std::time::{Duration, Instant};

use anyhow::Context;
use uuid::Uuid;

use super::emulator_process::EmulatorProcess;
use super::reader::Reader;
use super::report::{Latency, quantile};
use crate::memory;

/// How often the target is checked for markers; small against the engine's poll interval.
const CHECK_EVERY: Duration = Duration::from_millis(20);
/// How long markers written at the end may take to arrive before they count as missed.
const GRACE: Duration = Duration::from_secs(10);

/// Where to look for markers: a table, its primary key and the marked text column.
pub struct Probe<'a> {
    pub reader: &'a Reader,
    pub table: &'a str,
    pub marked_column: &'a str,
    pub entity: &'a str,
    pub marked_attribute: &'a str,
}

/// A marked update on its way.
struct InFlight {
    id: String,
    marker: String,
    written: Instant,
}

/// Writes `rate` marked updates a second for `duration`, each to a different row, and
/// measures when each becomes visible in the target.
pub async fn measure(
    emulator: &EmulatorProcess,
    probe: &Probe<'_>,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Latency> {
    let wanted = ((rate * duration.as_secs_f64()).ceil() as usize).max(1);
    let ids = probe.reader.sample_ids(probe.table, wanted).await?;
    let mut markers = Markers::new(emulator, probe, ids);
    memory::reset_peak();
    let started = Instant::now();
    while started.elapsed() < duration {
        markers
            .write_due((started.elapsed().as_secs_f64() * rate) as usize + 1)
            .await?;
        markers.collect_visible().await;
        tokio::time::sleep(CHECK_EVERY).await;
    }
    let deadline = Instant::now() + GRACE;
    while !markers.in_flight.is_empty() && Instant::now() < deadline {
        markers.collect_visible().await;
        tokio::time::sleep(CHECK_EVERY).await;
    }
    Ok(markers.into_latency(rate, duration))
}

/// Marked updates written so far, those not seen yet, and the latencies of those seen.
struct Markers<'a> {
    emulator: &'a EmulatorProcess,
    probe: &'a Probe<'a>,
    ids: Vec<String>,
    written: usize,
    in_flight: Vec<InFlight>,
    samples_ms: Vec<f64>,
}

impl<'a> Markers<'a> {
    fn new(emulator: &'a EmulatorProcess, probe: &'a Probe<'a>, ids: Vec<String>) -> Self {
        let (in_flight, samples_ms) = (Vec::new(), Vec::new());
        Self {
            emulator,
            probe,
            ids,
            written: 0,
            in_flight,
            samples_ms,
        }
    }

    /// Writes markers until `due` are written (or the sampled rows run out).
    async fn write_due(&mut self, due: usize) -> anyhow::Result<()> {
        while self.written < due.min(self.ids.len()) {
            let id = &self.ids[self.written];
            let marker = write_marker(self.emulator, self.probe, id, self.written).await?;
            self.in_flight.push(marker);
            self.written += 1;
        }
        Ok(())
    }

    async fn collect_visible(&mut self) {
        let mut waiting = Vec::with_capacity(self.in_flight.len());
        for f in std::mem::take(&mut self.in_flight) {
            if visible(self.probe, &f).await {
                let ms = f.written.elapsed().as_secs_f64() * 1000.0;
                self.samples_ms.push(ms);
            } else {
                waiting.push(f);
            }
        }
        self.in_flight = waiting;
    }

    fn into_latency(mut self, rate: f64, duration: Duration) -> Latency {
        self.samples_ms.sort_by(f64::total_cmp);
        let samples = &self.samples_ms;
        Latency {
            changes_per_sec: rate,
            duration_seconds: duration.as_secs_f64(),
            samples: samples.len() as u64,
            missed: self.in_flight.len() as u64,
            p50_ms: quantile(samples, 0.5),
            p99_ms: quantile(samples, 0.99),
            max_ms: samples.last().copied().unwrap_or_default(),
            poll_interval_ms: 0,
            peak_rss_bytes: memory::peak_rss_bytes(),
        }
    }
}

async fn write_marker(
    emulator: &EmulatorProcess,
    probe: &Probe<'_>,
    id: &str,
    n: usize,
) -> anyhow::Result<InFlight> {
    let marker = format!("des-bench-{n}-{}", fastrand::u32(..));
    let uuid: Uuid = id
        .parse()
        .with_context(|| format!("target id {id} is not a GUID"))?;
    let mut fields = serde_json::Map::new();
    fields.insert(probe.marked_attribute.to_owned(), marker.clone().into());
    let written = Instant::now();
    emulator
        .update(probe.entity, uuid, fields)
        .await
        .context("a marked update did not reach the emulator")?;
    Ok(InFlight {
        id: id.to_owned(),
        marker,
        written,
    })
}

async fn visible(probe: &Probe<'_>, f: &InFlight) -> bool {
    let text = probe
        .reader
        .text(probe.table, probe.marked_column, &f.id)
        .await;
    text.ok().flatten().as_deref() == Some(f.marker.as_str())
}
