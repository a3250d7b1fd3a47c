//! The API bench's figures and their table.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::load::Figures;

/// Web API calls one admin check of a direct System Administrator costs.
const CALLS_PER_CHECK: f64 = 2.0;
const READ_PHASES: [&str; 3] = [
    "read one (?status=true)",
    "page of 50 (?status=true&x-top=50)",
    "whole list (?status=true)",
];

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub profiles: usize,
    pub clients: usize,
    pub cores: usize,
    pub create: Figures,
    /// Per run: read one, page, whole list.
    pub runs: Vec<[Figures; 3]>,
    pub steady_reads: Figures,
    pub admin_checks_per_sec: f64,
    pub dataverse_calls_per_sec: f64,
    pub load_before: String,
    pub load_after: String,
}

impl Report {
    pub fn new(profiles: usize, clients: usize, create: Figures, load_before: String) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            profiles,
            clients,
            cores,
            create,
            load_before,
            ..Default::default()
        }
    }

    pub fn steady(&mut self, reads: Figures, checks: usize, over: Duration) {
        self.admin_checks_per_sec = checks as f64 / over.as_secs_f64();
        self.dataverse_calls_per_sec = self.admin_checks_per_sec * CALLS_PER_CHECK;
        self.steady_reads = reads;
    }

    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "DES API under load: {} profiles, {} clients, {} cores; load average before {}, after {}",
            self.profiles, self.clients, self.cores, self.load_before, self.load_after
        );
        let _ = writeln!(
            out,
            "{:<38} {:>4} {:>9} {:>8} {:>8} {:>7} {:>10}",
            "phase", "run", "req/s", "p50 ms", "p99 ms", "errors", "CPU ms/req"
        );
        row(&mut out, "create", "", &self.create);
        for (i, name) in READ_PHASES.iter().enumerate() {
            for (run, figures) in self.runs.iter().enumerate() {
                row(&mut out, name, &(run + 1).to_string(), &figures[i]);
            }
            let p99: Vec<f64> = self.runs.iter().map(|r| r[i].p99_ms).collect();
            let rate: Vec<f64> = self.runs.iter().map(|r| r[i].per_sec).collect();
            let _ = writeln!(
                out,
                "{:<38} {:>4} {:>9} {:>8} {:>17}",
                "",
                "spread",
                span(&rate, 0),
                "",
                format!("p99 {}", span(&p99, 1))
            );
        }
        row(&mut out, "read one at 100 req/s", "", &self.steady_reads);
        let _ = writeln!(
            out,
            "admin checks reaching Dataverse at 100 req/s: {:.2}/s (≈ {:.2} Web API calls/s)",
            self.admin_checks_per_sec, self.dataverse_calls_per_sec
        );
        out
    }
}

fn row(out: &mut String, name: &str, run: &str, f: &Figures) {
    let cpu = f
        .cpu_ms_per_request
        .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.3}"));
    let _ = writeln!(
        out,
        "{name:<38} {run:>4} {:>9.0} {:>8.1} {:>8.1} {:>7} {cpu:>10}",
        f.per_sec, f.p50_ms, f.p99_ms, f.errors
    );
}

fn span(values: &[f64], decimals: usize) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{min:.decimals$}–{max:.decimals$}")
}

/// `/proc/loadavg`'s three averages, or "unknown" where there is none.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
