//! Delta latency: marked updates written into the emulator at a steady rate, each timed from
//! just before the write until the target's SQLite file shows the marker.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use dataverse_emulator::Control;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use uuid::Uuid;

use super::report::{Latency, quantile};
use crate::memory;

/// How often the target is checked for markers; small against the engine's poll interval.
const CHECK_EVERY: Duration = Duration::from_millis(20);
/// How long markers written at the end may take to arrive before they count as missed.
const GRACE: Duration = Duration::from_secs(10);

/// Where to look for markers: a table, its primary key and the marked text column.
pub struct Probe<'a> {
    pub db: &'a Path,
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

/// Reads up to `n` ids from the target, as the target stores them.
pub fn sample_ids(probe: &Probe<'_>, n: usize) -> anyhow::Result<Vec<String>> {
    let conn = open_read_only(probe.db)?;
    let sql = format!("SELECT \"Id\" FROM {} LIMIT {n}", probe.table);
    let mut stmt = conn.prepare(&sql)?;
    let ids = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Rows in `table` (quoted).
pub fn row_count(db: &Path, table: &str) -> anyhow::Result<u64> {
    let conn = open_read_only(db)?;
    let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
    Ok(n as u64)
}

/// Writes `rate` marked updates a second for `duration`, each to a different row, and
/// measures when each becomes visible in the target.
pub async fn measure(
    control: &Control,
    probe: &Probe<'_>,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<Latency> {
    let wanted = ((rate * duration.as_secs_f64()).ceil() as usize).max(1);
    let mut markers = Markers::new(control, probe, sample_ids(probe, wanted)?)?;
    memory::reset_peak();
    let started = Instant::now();
    while started.elapsed() < duration {
        markers.write_due((started.elapsed().as_secs_f64() * rate) as usize + 1)?;
        markers.collect_visible();
        tokio::time::sleep(CHECK_EVERY).await;
    }
    let deadline = Instant::now() + GRACE;
    while !markers.in_flight.is_empty() && Instant::now() < deadline {
        markers.collect_visible();
        tokio::time::sleep(CHECK_EVERY).await;
    }
    Ok(markers.into_latency(rate, duration))
}

/// Marked updates written so far, those not seen yet, and the latencies of those seen.
struct Markers<'a> {
    control: &'a Control,
    probe: &'a Probe<'a>,
    conn: Connection,
    ids: Vec<String>,
    written: usize,
    in_flight: Vec<InFlight>,
    samples_ms: Vec<f64>,
}

impl<'a> Markers<'a> {
    fn new(control: &'a Control, probe: &'a Probe<'a>, ids: Vec<String>) -> anyhow::Result<Self> {
        let conn = open_read_only(probe.db)?;
        let (in_flight, samples_ms) = (Vec::new(), Vec::new());
        Ok(Self {
            control,
            probe,
            conn,
            ids,
            written: 0,
            in_flight,
            samples_ms,
        })
    }

    /// Writes markers until `due` are written (or the sampled rows run out).
    fn write_due(&mut self, due: usize) -> anyhow::Result<()> {
        while self.written < due.min(self.ids.len()) {
            let id = &self.ids[self.written];
            self.in_flight
                .push(write_marker(self.control, self.probe, id, self.written)?);
            self.written += 1;
        }
        Ok(())
    }

    fn collect_visible(&mut self) {
        let (conn, probe, samples) = (&self.conn, self.probe, &mut self.samples_ms);
        self.in_flight.retain(|f| {
            let seen = visible(conn, probe, f).unwrap_or(false);
            if seen {
                samples.push(f.written.elapsed().as_secs_f64() * 1000.0);
            }
            !seen
        });
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

fn write_marker(
    control: &Control,
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
    control
        .update(probe.entity, uuid, fields)
        .context("the emulator refused a marked update")?;
    Ok(InFlight {
        id: id.to_owned(),
        marker,
        written,
    })
}

fn visible(conn: &Connection, probe: &Probe<'_>, f: &InFlight) -> rusqlite::Result<bool> {
    let sql = format!(
        "SELECT {} FROM {} WHERE \"Id\" = ?1",
        probe.marked_column, probe.table
    );
    let value: Option<Option<String>> = conn
        .prepare_cached(&sql)?
        .query_row([&f.id], |r| r.get(0))
        .optional()?;
    Ok(value.flatten().as_deref() == Some(f.marker.as_str()))
}

fn open_read_only(db: &Path) -> anyhow::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags)
        .with_context(|| format!("cannot open {}", db.display()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}
