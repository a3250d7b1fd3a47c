//! The budget scenario's figures: what each reader used, and the least time the service's
//! budget allows for the profile's reads.

use serde::Serialize;

/// The service-protection budget of one app user, as the scenario sets it (scaled).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Budget {
    /// Combined execution time allowed per window, seconds.
    pub execution_secs: f64,
    pub window_secs: f64,
    pub requests: u32,
    pub concurrent: u32,
}

impl Budget {
    /// The least wall time in which `work` seconds of execution fit: at most `concurrent`
    /// requests at once, at most `execution_secs` in any window. A fresh window takes a
    /// burst; beyond it each further `execution_secs` needs a further window.
    pub fn least_time(&self, work: f64) -> f64 {
        let (b, w, c) = self.parts();
        if work <= 0.0 {
            return 0.0;
        }
        let full_windows = ((work / b).ceil() - 1.0).max(0.0);
        let rest = work - full_windows * b;
        full_windows * w + rest / c
    }

    /// The most execution time the budget allows within `wall` seconds (inverse of
    /// [`Budget::least_time`]).
    pub fn available(&self, wall: f64) -> f64 {
        let (b, w, c) = self.parts();
        let full_windows = (wall / w).floor().max(0.0);
        let rest = wall - full_windows * w;
        full_windows * b + (c * rest).min(b)
    }

    fn parts(&self) -> (f64, f64, f64) {
        (
            self.execution_secs.max(f64::MIN_POSITIVE),
            self.window_secs,
            f64::from(self.concurrent.max(1)),
        )
    }
}

/// One reader's run, as the emulator saw it (its totals per user) and the wall clock.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunFigures {
    pub wall_secs: f64,
    pub records: u64,
    pub records_per_sec: f64,
    /// Requests the emulator admitted (pages, metadata, deltas).
    pub requests: u64,
    /// Requests the emulator refused with 429.
    pub throttled: u64,
    /// Execution time the emulator counted, seconds.
    pub execution_secs: f64,
    /// Most requests in flight at once, as the emulator saw them (of the busiest app user
    /// when there are several: the limit is per user).
    pub peak_in_flight: u32,
    /// Execution time used over what the budget allowed within the wall time (0–1).
    pub budget_share: f64,
    /// The bound over the wall time: 1 is as fast as the budget and the profile allow.
    pub ratio_to_budget_bound: f64,
}

impl RunFigures {
    pub fn finish(&mut self, budget: &Budget, bound_secs: f64) {
        let wall = self.wall_secs.max(f64::MIN_POSITIVE);
        self.records_per_sec = self.records as f64 / wall;
        self.budget_share = (self.execution_secs / budget.available(wall)).clamp(0.0, 1.0);
        self.ratio_to_budget_bound = bound_secs / wall;
    }
}

/// The whole scenario's report; the top-level shares and ratios are the parallel reader's.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetReport {
    pub scenario: &'static str,
    pub build: &'static str,
    /// Every duration of the service (page cost, window, execution budget) times this.
    pub time_scale: f64,
    /// How many times `--records` the large entity has (1: every entity alike).
    pub large_factor: usize,
    pub page_cost_base_ms: f64,
    pub page_cost_per_row_us: f64,
    pub budget: Budget,
    pub entities: Vec<EntityRows>,
    /// Execution time the cost model charges for reading every page once, seconds.
    pub model_execution_secs: f64,
    /// Least time the budget allows for that work.
    pub budget_bound_secs: f64,
    /// The longest entity's pages read one after another (a nextLink chain is sequential).
    pub stream_bound_secs: f64,
    /// The larger of the two: the time the budget and the profile allow at best.
    pub bound_secs: f64,
    pub parallel: RunFigures,
    pub sequential: RunFigures,
    /// The parallel reader through several app users (`--app-users`), if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub several_users: Option<SeveralUsers>,
    pub budget_share: f64,
    pub ratio_to_budget_bound: f64,
    pub speedup_over_sequential: f64,
    pub load_before: String,
    pub load_after: String,
}

/// The parallel reader through `app_users` budgets; its share and ratio are against them all.
#[derive(Debug, Clone, Serialize)]
pub struct SeveralUsers {
    pub app_users: usize,
    /// The time `app_users` budgets and the profile allow at best.
    pub bound_secs: f64,
    /// The one-user parallel reader's wall time over this one's.
    pub speedup_over_one_user: f64,
    pub run: RunFigures,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityRows {
    pub entity: String,
    pub records: u64,
    pub pages: u64,
}

impl BudgetReport {
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "des bench --scenario budget ({} build; times x{}: page {:.0} ms + {:.1} us/row, \
             {:.0} s of execution per {:.0} s window, {} requests, {} at once)\n",
            self.build,
            self.time_scale,
            self.page_cost_base_ms,
            self.page_cost_per_row_us,
            self.budget.execution_secs,
            self.budget.window_secs,
            self.budget.requests,
            self.budget.concurrent,
        );
        let records: u64 = self.entities.iter().map(|e| e.records).sum();
        out += &format!(
            "{} entities, {records} records; model work {:.1} s; bound {:.1} s (budget {:.1} s, \
             longest stream {:.1} s)\n",
            self.entities.len(),
            self.model_execution_secs,
            self.bound_secs,
            self.budget_bound_secs,
            self.stream_bound_secs,
        );
        out += "reader       wall s   rec/s     requests  429s  exec s  peak  budget share  ratio to bound\n";
        let several = self.several_users.as_ref();
        let several_name = several.map(|s| format!("parallel x{}", s.app_users));
        let rows = [
            Some(("parallel", &self.parallel)),
            several_name.as_deref().zip(several.map(|s| &s.run)),
            Some(("sequential", &self.sequential)),
        ];
        for (name, r) in rows.into_iter().flatten() {
            out += &format!(
                "{name:<12} {:>6.1}  {:>8.0}  {:>8}  {:>4}  {:>6.1}  {:>4}  {:>12.2}  {:>14.2}\n",
                r.wall_secs,
                r.records_per_sec,
                r.requests,
                r.throttled,
                r.execution_secs,
                r.peak_in_flight,
                r.budget_share,
                r.ratio_to_budget_bound,
            );
        }
        if let Some(s) = several {
            out += &format!(
                "{} app users: bound {:.1} s, {:.2}x the one user's parallel reader\n",
                s.app_users, s.bound_secs, s.speedup_over_one_user
            );
        }
        out += &format!(
            "speedup over sequential: {:.2}x; load average before {}, after {}\n",
            self.speedup_over_sequential, self.load_before, self.load_after
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Budget {
        Budget {
            execution_secs: 1200.0,
            window_secs: 300.0,
            requests: 6000,
            concurrent: 52,
        }
    }

    #[test]
    fn work_within_one_window_is_bound_by_concurrency() {
        let b = service();
        assert!((b.least_time(520.0) - 10.0).abs() < 1e-9);
        assert!((b.least_time(1200.0) - 1200.0 / 52.0).abs() < 1e-9);
    }

    #[test]
    fn more_work_waits_for_further_windows() {
        let b = service();
        // 1.5 budgets: one full window, then half a budget at 52 at once.
        assert!((b.least_time(1800.0) - (300.0 + 600.0 / 52.0)).abs() < 1e-9);
        assert!((b.least_time(2400.0) - (300.0 + 1200.0 / 52.0)).abs() < 1e-9);
    }

    #[test]
    fn available_is_the_inverse_of_least_time() {
        let b = service();
        for work in [10.0, 1200.0, 1800.0, 5000.0] {
            let t = b.least_time(work);
            assert!((b.available(t) - work).abs() < 1e-6, "{work}");
        }
    }
}
