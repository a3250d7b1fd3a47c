//! The bench's figures, printed as a table or as one JSON object.

use serde::Serialize;

pub use super::faults::Faults;
use super::throughput::PageBytes;
use crate::cpu::CpuTimes;

/// A throughput figure.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rate {
    pub records: u64,
    pub seconds: f64,
    pub records_per_sec: f64,
    /// Peak resident memory during this phase (bytes), when the platform reports it.
    pub peak_rss_bytes: Option<u64>,
    /// CPU seconds of this process during the timed part.
    pub cpu_seconds: Option<f64>,
    /// Busy CPU seconds of the whole machine (every core, every process) during the timed
    /// part: includes a database server's work, and anything else running.
    pub machine_cpu_seconds: Option<f64>,
    /// CPU seconds of the processes in the measurement: this one and a local database
    /// server's (with its backends) when the bench could name it.
    pub measured_cpu_seconds: Option<f64>,
}

impl Rate {
    pub fn new(records: u64, seconds: f64, peak_rss_bytes: Option<u64>) -> Self {
        let records_per_sec = records as f64 / seconds.max(1e-9);
        Self {
            records,
            seconds,
            records_per_sec,
            peak_rss_bytes,
            cpu_seconds: None,
            machine_cpu_seconds: None,
            measured_cpu_seconds: None,
        }
    }

    pub fn with_cpu(self, used: Option<CpuTimes>) -> Self {
        Self {
            cpu_seconds: used.map(|u| u.process),
            machine_cpu_seconds: used.map(|u| u.machine),
            measured_cpu_seconds: used.map(|u| u.measured),
            ..self
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
    /// The engine's full read: lookup names and types included (formatted values asked for).
    pub source_read: Rate,
    /// The same read without the lookup names (only lookup targets asked for).
    pub source_read_without_names: Rate,
    /// Pages and body bytes of the two reads.
    pub page_bytes: PageBytes,
    pub page_bytes_without_names: PageBytes,
    pub sink_write: Rate,
    pub end_to_end: Rate,
    /// End-to-end rate divided by the slower of the source and sink rates.
    pub end_to_end_ratio: f64,
    /// Cores this process could use.
    pub cores: usize,
    /// The end-to-end rate the CPU allows at most: the records over the CPU seconds the
    /// measured processes (this one, the emulator's and a local database server's) used in
    /// the source and the sink phases alone, spread over every core. Other processes on the machine do not
    /// move it. It leaves out the engine's own durable writes, so end to end stays below it.
    pub cpu_ceiling_records_per_sec: Option<f64>,
    /// Whether a database server's CPU is in the measured figures (a local PostgreSQL).
    pub server_cpu_counted: bool,
    /// `/proc/loadavg` before and after the run: other work on the machine.
    pub load_before: String,
    pub load_after: String,
    pub delta_latency: Latency,
    /// Peak resident memory of this process over the whole run (bytes).
    pub peak_rss_bytes: Option<u64>,
    /// The same for the emulator's process, which is not counted above.
    pub emulator_peak_rss_bytes: Option<u64>,
    pub faults: Faults,
}

impl Report {
    pub fn finish_ratio(&mut self) {
        let slower = self
            .source_read
            .records_per_sec
            .min(self.sink_write.records_per_sec);
        self.end_to_end_ratio = self.end_to_end.records_per_sec / slower.max(1e-9);
    }

    pub fn finish_cpu_ceiling(&mut self, cores: usize) {
        self.cores = cores;
        let used = self
            .source_read
            .measured_cpu_seconds
            .zip(self.sink_write.measured_cpu_seconds)
            .map(|(source, sink)| source + sink)
            .filter(|&seconds| seconds > 0.0);
        self.cpu_ceiling_records_per_sec =
            used.map(|seconds| self.records as f64 * cores as f64 / seconds);
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
            "{:<28} {:>12} {:>10} {:>14} {:>12} {:>20}\n",
            "phase", "records", "seconds", "records/s", "peak RSS", "CPU s (us/meas/all)"
        );
        for (name, rate) in [
            (
                "source read, no lookup names",
                &self.source_read_without_names,
            ),
            ("source read (Web API)", &self.source_read),
            (&*format!("sink write ({})", self.target), &self.sink_write),
            ("end-to-end initial sync", &self.end_to_end),
        ] {
            out += &format!(
                "{name:<28} {:>12} {:>10.2} {:>14.0} {:>12} {:>20}\n",
                rate.records,
                rate.seconds,
                rate.records_per_sec,
                mib(rate.peak_rss_bytes),
                cpu(rate)
            );
        }
        out += &self.lookup_names_line();
        out += &format!(
            "end-to-end / slower of source and sink: {:.2}\n",
            self.end_to_end_ratio
        );
        out += &self.ceiling_line();
        out += &self.latency_lines();
        out += &format!(
            "peak RSS over the run: {} (the emulator's process apart: {})\n",
            mib(self.peak_rss_bytes),
            mib(self.emulator_peak_rss_bytes)
        );
        out += &self.faults.lines();
        out
    }

    /// What the lookup names cost: page bytes and read time with them over without.
    fn lookup_names_line(&self) -> String {
        let (with, without) = (&self.page_bytes, &self.page_bytes_without_names);
        let ratio = |a: f64, b: f64| a / b.max(1e-9);
        format!(
            "\nlookup names: {:.0} bytes/page with, {:.0} without ({:.2}x, {} pages); \
             read time {:.2}x\n",
            with.per_page(),
            without.per_page(),
            ratio(with.per_page(), without.per_page()),
            with.pages,
            ratio(
                self.source_read.seconds,
                self.source_read_without_names.seconds
            ),
        )
    }

    fn ceiling_line(&self) -> String {
        let Some(ceiling) = self.cpu_ceiling_records_per_sec else {
            return String::new();
        };
        format!(
            "CPU ceiling on {} cores (source + sink CPU of this process, the emulator's{} \
             alone): {:.0} records/s; end to end reached {:.2} of it\n\
             load average before {}, after {}\n",
            self.cores,
            if self.server_cpu_counted {
                " and the database server's"
            } else {
                ""
            },
            ceiling,
            self.end_to_end.records_per_sec / ceiling.max(1e-9),
            self.load_before,
            self.load_after,
        )
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

/// `process/measured/machine` CPU seconds.
fn cpu(rate: &Rate) -> String {
    match (
        rate.cpu_seconds,
        rate.measured_cpu_seconds,
        rate.machine_cpu_seconds,
    ) {
        (Some(us), Some(measured), Some(all)) => format!("{us:.1}/{measured:.1}/{all:.1}"),
        _ => "n/a".into(),
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

    #[test]
    fn the_cpu_ceiling_spreads_source_and_sink_cpu_over_the_cores() {
        // The machine was busier (another build): only the measured processes count.
        let used = |measured| {
            Some(CpuTimes {
                process: 0.5,
                machine: 9.0,
                measured,
            })
        };
        let mut r = Report {
            records: 1000,
            source_read: Rate::new(1000, 1.0, None).with_cpu(used(1.5)),
            sink_write: Rate::new(1000, 1.0, None).with_cpu(used(2.5)),
            end_to_end: Rate::new(1000, 4.0, None),
            ..Default::default()
        };
        r.finish_cpu_ceiling(2);
        assert_eq!(r.cpu_ceiling_records_per_sec, Some(500.0));
        let table = r.to_table();
        assert!(table.contains("CPU ceiling on 2 cores"), "{table}");
        assert!(table.contains("end to end reached 0.50 of it"), "{table}");
        assert!(table.contains("0.5/1.5/9.0"), "{table}");
    }

    #[test]
    fn no_cpu_figures_means_no_ceiling() {
        let mut r = Report::default();
        r.finish_cpu_ceiling(2);
        assert_eq!(r.cpu_ceiling_records_per_sec, None);
        assert!(!r.to_table().contains("CPU ceiling"));
    }
}
