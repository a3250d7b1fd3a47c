//! The bench's figures, printed as a table or as one JSON object.

use serde::Serialize;

/// A throughput figure.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rate {
    pub records: u64,
    pub seconds: f64,
    pub records_per_sec: f64,
    /// Peak resident memory during this phase (bytes), when the platform reports it.
    pub peak_rss_bytes: Option<u64>,
}

impl Rate {
    pub fn new(records: u64, seconds: f64, peak_rss_bytes: Option<u64>) -> Self {
        let records_per_sec = records as f64 / seconds.max(1e-9);
        Self {
            records,
            seconds,
            records_per_sec,
            peak_rss_bytes,
        }
    }
}

/// Write-to-visible latency of single updates under a steady change stream.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub changes_per_sec: f64,
    pub duration_seconds: f64,
    /// Marked updates written and later seen in the target.
    pub samples: u64,
    /// Marked updates not seen before the measurement ended.
    pub missed: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The engine's poll interval during the measurement.
    pub poll_interval_ms: u64,
    pub peak_rss_bytes: Option<u64>,
}

/// Everything one bench run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub entity: String,
    /// The measured target kind: `sqlite` or `postgresql`.
    pub target: String,
    pub records: u64,
    pub source_read: Rate,
    pub sink_write: Rate,
    pub end_to_end: Rate,
    /// End-to-end rate divided by the slower of the source and sink rates.
    pub end_to_end_ratio: f64,
    pub delta_latency: Latency,
    /// Peak resident memory over the whole run (bytes).
    pub peak_rss_bytes: Option<u64>,
}

impl Report {
    pub fn finish_ratio(&mut self) {
        let slower = self
            .source_read
            .records_per_sec
            .min(self.sink_write.records_per_sec);
        self.end_to_end_ratio = self.end_to_end.records_per_sec / slower.max(1e-9);
    }

    /// The run's peak: the largest phase peak (each phase resets the counter where the
    /// platform allows), or `last` when that is larger.
    pub fn finish_peak(&mut self, last: Option<u64>) {
        let phases = [
            self.source_read.peak_rss_bytes,
            self.sink_write.peak_rss_bytes,
            self.end_to_end.peak_rss_bytes,
            self.delta_latency.peak_rss_bytes,
            last,
        ];
        self.peak_rss_bytes = phases.into_iter().flatten().max();
    }

    pub fn to_table(&self) -> String {
        let mut out = format!(
            "des bench: {} records of {} into {}\n\n",
            self.records, self.entity, self.target
        );
        out += &format!(
            "{:<28} {:>12} {:>10} {:>14} {:>12}\n",
            "phase", "records", "seconds", "records/s", "peak RSS"
        );
        for (name, rate) in [
            ("source read (Web API)", &self.source_read),
            (&*format!("sink write ({})", self.target), &self.sink_write),
            ("end-to-end initial sync", &self.end_to_end),
        ] {
            out += &format!(
                "{name:<28} {:>12} {:>10.2} {:>14.0} {:>12}\n",
                rate.records,
                rate.seconds,
                rate.records_per_sec,
                mib(rate.peak_rss_bytes)
            );
        }
        out += &format!(
            "\nend-to-end / slower of source and sink: {:.2}\n",
            self.end_to_end_ratio
        );
        out += &self.latency_lines();
        out += &format!("peak RSS over the run: {}\n", mib(self.peak_rss_bytes));
        out
    }

    fn latency_lines(&self) -> String {
        let l = &self.delta_latency;
        format!(
            "delta latency at {:.0} changes/s over {:.0}s (engine polls every {} ms): \
             p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} samples, {} missed, peak RSS {})\n",
            l.changes_per_sec,
            l.duration_seconds,
            l.poll_interval_ms,
            l.p50_ms,
            l.p99_ms,
            l.max_ms,
            l.samples,
            l.missed,
            mib(l.peak_rss_bytes)
        )
    }
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "n/a".into(),
        |b| format!("{:.1} MiB", b as f64 / 1048576.0),
    )
}

/// The `q`-quantile (0..=1) of sorted samples, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&samples, 0.5), 50.0);
        assert_eq!(quantile(&samples, 0.99), 99.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn ratio_is_against_the_slower_side() {
        let mut r = Report {
            source_read: Rate::new(100, 1.0, None),
            sink_write: Rate::new(100, 2.0, None),
            end_to_end: Rate::new(100, 4.0, None),
            ..Default::default()
        };
        r.finish_ratio();
        assert!((r.end_to_end_ratio - 0.5).abs() < 1e-9);
        assert!(r.to_table().contains("end-to-end / slower"));
    }
}
