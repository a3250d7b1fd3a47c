//! What `des run` shows while it replicates: one bar per stream during the initial sync and
//! then a live status line on a terminal; plain, spaced-out lines when stdout is not one (CI).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::OffsetDateTime;

use crate::status::{Rate, Snapshot};

/// The display, chosen once from whether stdout is a terminal.
pub struct Display {
    started: OffsetDateTime,
    /// The rows applied before this run and when this run's counting began: zero and now
    /// for a new export; for a resumed one, set at the first refresh that knows the streams.
    baseline: Option<(u64, Instant)>,
    rate: Rate,
    initial_done: bool,
    view: View,
}

enum View {
    Bars {
        multi: MultiProgress,
        bars: BTreeMap<String, ProgressBar>,
        status: ProgressBar,
    },
    Plain {
        every: Duration,
        last: Option<Instant>,
    },
}

impl Display {
    /// `replicating_since` is when replication started: the rate of a fresh initial sync is
    /// counted from then, not from when the display was made (after the rows were counted
    /// for the bars, which takes seconds at 20,000 rows per entity).
    pub fn new(
        tty: bool,
        plain_every: Duration,
        resumed: bool,
        replicating_since: Instant,
    ) -> Self {
        let view = if tty {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
            let status = multi.add(ProgressBar::new_spinner());
            View::Bars {
                multi,
                bars: BTreeMap::new(),
                status,
            }
        } else {
            View::Plain {
                every: plain_every,
                last: None,
            }
        };
        let started = OffsetDateTime::now_utc();
        Self {
            started,
            baseline: (!resumed).then_some((0, replicating_since)),
            rate: Rate::default(),
            initial_done: false,
            view,
        }
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: &str) {
        match &self.view {
            View::Bars { multi, .. } => {
                if multi.println(line).is_err() {
                    println!("{line}");
                }
            }
            View::Plain { .. } => println!("{line}"),
        }
    }

    /// Shows a snapshot; one without streams (the engine's first round is not done) is skipped.
    pub fn update(&mut self, snap: &Snapshot) {
        for repair in &snap.repairs {
            self.println(&format!("target check: {repair}"));
        }
        if snap.streams.is_empty() {
            return;
        }
        let baseline = *self
            .baseline
            .get_or_insert((snap.applied(), Instant::now()));
        if !self.initial_done && snap.initial_sync_done() {
            self.initial_done = true;
            self.finish_bars();
            self.println(&done_line(snap, baseline));
        }
        let status = self.status_line(snap);
        match &mut self.view {
            View::Bars {
                multi,
                bars,
                status: line,
            } => {
                if !self.initial_done {
                    refresh_bars(multi, bars, snap);
                }
                line.set_message(status);
                line.tick();
            }
            View::Plain { every, last } => {
                if last.is_none_or(|t| t.elapsed() >= *every) {
                    *last = Some(Instant::now());
                    let detail = if self.initial_done {
                        String::new()
                    } else {
                        sync_detail(snap)
                    };
                    println!("{status}{detail}");
                }
            }
        }
    }

    fn status_line(&mut self, snap: &Snapshot) -> String {
        let rate = self.rate.observe(snap.applied());
        let lag = snap.lag(OffsetDateTime::now_utc(), self.started);
        let phase = if !self.initial_done {
            "initial sync"
        } else if snap.resyncing() {
            "resyncing"
        } else {
            "replicating"
        };
        let line = format!(
            "status: {phase}, {} rows applied, {rate:.0} rows/s, lag {:.1}s, {} failures, queue depth {}",
            snap.applied(),
            lag.as_secs_f64(),
            snap.failed(),
            snap.queue_depth
        );
        match snap.waiting() {
            Some((stream, hint)) => format!("{line}; {stream} waits: {hint}"),
            None => line,
        }
    }

    fn finish_bars(&mut self) {
        if let View::Bars { bars, .. } = &mut self.view {
            bars.values().for_each(ProgressBar::finish);
        }
    }

    /// Leaves the last status on screen.
    pub fn finish(&mut self) {
        self.finish_bars();
        if let View::Bars { status, .. } = &self.view {
            status.finish();
        }
    }
}

/// Rows and time counted from this run's first refresh; a run that resumes an export whose
/// initial sync was already complete says so.
fn done_line(snap: &Snapshot, (before, since): (u64, Instant)) -> String {
    let total = snap.applied();
    let rows = total - before.min(total);
    if rows == 0 && before > 0 {
        // Everything was applied before this run started.
        return format!("initial sync complete (resumed): {total} rows exported so far");
    }
    let secs = since.elapsed().as_secs_f64();
    let rate = rows as f64 / secs.max(0.001);
    format!("initial sync complete: {rows} rows in {secs:.1}s ({rate:.0} rows/s)")
}

fn refresh_bars(multi: &MultiProgress, bars: &mut BTreeMap<String, ProgressBar>, snap: &Snapshot) {
    for stream in &snap.streams {
        let bar = bars.entry(stream.name.clone()).or_insert_with(|| {
            let bar = multi.insert_from_back(1, ProgressBar::new(0));
            bar.set_style(bar_style());
            bar.set_prefix(stream.name.clone());
            bar
        });
        bar.set_length(stream.estimated_total.unwrap_or(0).max(stream.enqueued));
        bar.set_position(stream.applied + stream.failed);
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>24} [{bar:40}] {pos}/{len} ({percent}%) eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn sync_detail(snap: &Snapshot) -> String {
    let done = |s: &crate::status::StreamView| s.applied + s.failed;
    let parts: Vec<String> = snap
        .streams
        .iter()
        .map(|s| match s.estimated_total {
            Some(total) => format!("{} {}/{total}", s.name, done(s)),
            None => format!("{} {}", s.name, done(s)),
        })
        .collect();
    format!(" [{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use des_core::sync::SyncPhase;

    use super::*;
    use crate::status::StreamView;

    fn snap(applied: u64) -> Snapshot {
        let stream = StreamView {
            name: "account".into(),
            phase: SyncPhase::Delta,
            initial_sync_complete: true,
            enqueued: applied,
            applied,
            failed: 0,
            estimated_total: None,
            last_applied_at: None,
            hint: None,
        };
        Snapshot {
            streams: vec![stream],
            queue_depth: 0,
            repairs: Vec::new(),
        }
    }

    #[test]
    fn the_done_line_counts_this_run_and_says_when_it_resumed() {
        let line = done_line(&snap(100), (0, Instant::now()));
        assert!(
            line.starts_with("initial sync complete: 100 rows in"),
            "{line}"
        );
        let line = done_line(&snap(100), (100, Instant::now()));
        assert_eq!(
            line,
            "initial sync complete (resumed): 100 rows exported so far"
        );
    }

    #[test]
    fn the_rate_of_a_fresh_sync_counts_from_when_replication_started() {
        let since = Instant::now() - Duration::from_secs(10);
        let display = Display::new(false, Duration::from_secs(1), false, since);
        let baseline = display.baseline.expect("a fresh sync has its baseline");
        let line = done_line(&snap(1000), baseline);
        let secs: f64 = line
            .split(" rows in ")
            .nth(1)
            .and_then(|rest| rest.split('s').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no seconds in {line}"));
        assert!(secs >= 10.0, "{line}");
    }
}
