//! Service-protection limits per user, as Dataverse applies them: requests and combined
//! execution time in a sliding window, concurrent requests, and the response headers that
//! report what is left.
//!
//! Choices where the service's behaviour is undocumented:
//! - Requests refused with 429 do not count towards the window (a client that honours
//!   `Retry-After` gets through when it says).
//! - `Retry-After` for the request and time limits is the wait until enough of the window has
//!   aged out to admit a request again (at least 1 s); for the concurrency limit it is 1 s.
//! - Execution time is wall time from admission to the end of the response body's production,
//!   including the cost model's wait ([`crate::cost`]).

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

mod settings;

pub use settings::{LimitsRequest, ServiceLimits};

/// Limit value, error code and message of each facet (`dataverse-protocol.md` §6).
const REQUESTS_CODE: &str = "0x80072322";
const TIME_CODE: &str = "0x80072321";
const CONCURRENCY_CODE: &str = "0x80072326";

/// One user's usage.
#[derive(Debug, Default)]
struct Usage {
    /// Admission times of the requests in the window.
    started: std::collections::VecDeque<Instant>,
    /// End time and execution time of the requests finished in the window.
    finished: std::collections::VecDeque<(Instant, Duration)>,
    executing: Duration,
    in_flight: u32,
    /// Since the last reset: what a client's whole run used, beyond the window.
    totals: Totals,
}

/// One user's usage since the emulator started or was last reset.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    requests: u64,
    execution: Duration,
    throttled: u64,
    peak_in_flight: u32,
}

impl Usage {
    fn prune(&mut self, now: Instant, window: Duration) {
        let Some(cutoff) = now.checked_sub(window) else {
            return;
        };
        while self.started.front().is_some_and(|t| *t <= cutoff) {
            self.started.pop_front();
        }
        while let Some((_, d)) = self.finished.front().copied().filter(|(t, _)| *t <= cutoff) {
            self.executing = self.executing.saturating_sub(d);
            self.finished.pop_front();
        }
    }

    /// The wait until the execution time in the window drops below `limit`.
    fn time_retry_after(&self, now: Instant, limit: Duration, window: Duration) -> Duration {
        let mut left = self.executing;
        for (t, d) in &self.finished {
            left = left.saturating_sub(*d);
            if left < limit {
                return (*t + window).saturating_duration_since(now);
            }
        }
        window
    }
}

/// What one user has used in the current window (`GET /_emulator/limits`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserUsage {
    pub user: String,
    pub requests: usize,
    pub execution_secs: f64,
    pub in_flight: u32,
    /// Since the emulator started or the last reset: requests admitted, their execution
    /// time, requests refused with 429, and the most requests in flight at once.
    pub total_requests: u64,
    pub total_execution_secs: f64,
    pub throttled: u64,
    pub peak_in_flight: u32,
}

/// A refusal: the error code and message of the facet over its limit, and `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: u64,
}

#[derive(Debug, Default)]
struct State {
    settings: ServiceLimits,
    users: HashMap<String, Usage>,
}

/// A cloneable handle to the emulator's service-protection model.
#[derive(Debug, Clone, Default)]
pub struct Limiter {
    inner: Arc<Mutex<State>>,
}

fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Limiter {
    pub fn new(settings: ServiceLimits) -> Limiter {
        let l = Limiter::default();
        l.set(settings);
        l
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn settings(&self) -> ServiceLimits {
        self.with(|s| s.settings.clone())
    }

    /// New limit values; usage so far is kept.
    pub fn set(&self, settings: ServiceLimits) {
        self.with(|s| s.settings = settings);
    }

    /// Forgets every user's usage and totals (requests in flight still finish normally).
    pub fn reset(&self) {
        self.with(|s| {
            for u in s.users.values_mut() {
                u.started.clear();
                u.finished.clear();
                u.executing = Duration::ZERO;
                u.totals = Totals {
                    peak_in_flight: u.in_flight,
                    ..Totals::default()
                };
            }
        });
    }

    /// Every user seen, with the usage in the current window.
    pub fn usage(&self) -> Vec<UserUsage> {
        let now = Instant::now();
        self.with(|s| {
            let window = s.settings.window;
            let mut out: Vec<UserUsage> = s
                .users
                .iter_mut()
                .map(|(user, u)| {
                    u.prune(now, window);
                    UserUsage {
                        user: user.clone(),
                        requests: u.started.len(),
                        execution_secs: u.executing.as_secs_f64(),
                        in_flight: u.in_flight,
                        total_requests: u.totals.requests,
                        total_execution_secs: u.totals.execution.as_secs_f64(),
                        throttled: u.totals.throttled,
                        peak_in_flight: u.totals.peak_in_flight,
                    }
                })
                .collect();
            out.sort_by(|a, b| a.user.cmp(&b.user));
            out
        })
    }

    /// Admits one request of `user`, or refuses it with the facet over its limit.
    pub fn admit(&self, user: &str) -> Result<Permit, Throttled> {
        let now = Instant::now();
        self.with(|s| {
            let limits = s.settings.clone();
            let u = s.users.entry(user.to_owned()).or_default();
            u.prune(now, limits.window);
            if let Some(refused) = refusal(u, &limits, now).filter(|_| limits.enabled) {
                u.totals.throttled += 1;
                return Err(refused);
            }
            u.started.push_back(now);
            u.in_flight += 1;
            u.totals.requests += 1;
            u.totals.peak_in_flight = u.totals.peak_in_flight.max(u.in_flight);
            Ok(())
        })?;
        Ok(Permit {
            limiter: self.clone(),
            user: user.to_owned(),
            start: now,
            done: false,
        })
    }

    fn finish(&self, user: &str, start: Instant) {
        let now = Instant::now();
        self.with(|s| {
            if let Some(u) = s.users.get_mut(user) {
                u.in_flight = u.in_flight.saturating_sub(1);
                let spent = now.saturating_duration_since(start);
                u.finished.push_back((now, spent));
                u.executing += spent;
                u.totals.execution += spent;
            }
        });
    }

    /// The rate-limit headers for `user` as they stand now.
    fn headers(&self, user: &str) -> Vec<(String, String)> {
        let now = Instant::now();
        self.with(|s| {
            let limits = s.settings.clone();
            let u = s.users.entry(user.to_owned()).or_default();
            u.prune(now, limits.window);
            let burst = (limits.requests as usize).saturating_sub(u.started.len());
            let time = limits.execution.saturating_sub(u.executing);
            vec![
                (
                    "x-ms-ratelimit-burst-remaining-xrm-requests".to_owned(),
                    burst.to_string(),
                ),
                (
                    "x-ms-ratelimit-time-remaining-xrm-requests".to_owned(),
                    grouped_seconds(time),
                ),
                ("x-ms-dop-hint".to_owned(), limits.dop_hint.to_string()),
            ]
        })
    }
}

/// Which limit, if any, refuses the next request of this user now.
fn refusal(u: &Usage, limits: &ServiceLimits, now: Instant) -> Option<Throttled> {
    if u.in_flight >= limits.concurrent {
        return Some(Throttled {
            code: CONCURRENCY_CODE,
            message: format!(
                "Number of concurrent requests exceeded the limit of {}.",
                limits.concurrent
            ),
            retry_after_secs: 1,
        });
    }
    let window_secs = limits.window.as_secs();
    if u.started.len() >= limits.requests as usize {
        let oldest = u.started.front().copied().unwrap_or(now);
        let wait = (oldest + limits.window).saturating_duration_since(now);
        return Some(Throttled {
            code: REQUESTS_CODE,
            message: format!(
                "Number of requests exceeded the limit of {} over time window of {window_secs} seconds.",
                limits.requests
            ),
            retry_after_secs: whole_secs(wait).max(1),
        });
    }
    if u.executing >= limits.execution {
        let wait = u.time_retry_after(now, limits.execution, limits.window);
        let ms = grouped(limits.execution.as_millis() as u64);
        return Some(Throttled {
            code: TIME_CODE,
            // The two spaces before "milliseconds" are in the service's message.
            message: format!(
                "Combined execution time of incoming requests exceeded limit of {ms}  milliseconds over time window of {window_secs} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."
            ),
            retry_after_secs: whole_secs(wait).max(1),
        });
    }
    None
}

/// `1,199.46`: seconds with thousands separators and two decimals, as the service sends them.
fn grouped_seconds(d: Duration) -> String {
    let centis = d.as_millis() / 10;
    format!("{}.{:02}", grouped((centis / 100) as u64), centis % 100)
}

fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An admitted request: counts as in flight until finished or dropped (a client that hangs
/// up still spent the time).
#[derive(Debug)]
pub struct Permit {
    limiter: Limiter,
    user: String,
    start: Instant,
    done: bool,
}

impl Permit {
    /// How long the request has been executing.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Records the execution time and returns the headers to send with the response.
    pub fn finish(mut self) -> Vec<(String, String)> {
        self.done = true;
        self.limiter.finish(&self.user, self.start);
        self.limiter.headers(&self.user)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            self.limiter.finish(&self.user, self.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight(requests: u32, concurrent: u32) -> Limiter {
        Limiter::new(ServiceLimits {
            requests,
            concurrent,
            window: Duration::from_secs(60),
            ..ServiceLimits::default()
        })
    }

    #[test]
    fn seconds_are_grouped_with_two_decimals() {
        assert_eq!(grouped_seconds(Duration::from_secs(1200)), "1,200.00");
        assert_eq!(
            grouped_seconds(Duration::from_millis(1_199_460)),
            "1,199.46"
        );
        assert_eq!(grouped_seconds(Duration::from_millis(5)), "0.00");
        assert_eq!(grouped(1_200_000), "1,200,000");
    }

    #[test]
    fn the_request_after_the_limit_is_refused_with_the_request_code() {
        let l = tight(2, 52);
        l.admit("u").expect("first").finish();
        l.admit("u").expect("second").finish();
        let refused = l.admit("u").expect_err("third is over the limit");
        assert_eq!(refused.code, REQUESTS_CODE);
        assert!((1..=60).contains(&refused.retry_after_secs));
        assert!(l.admit("other").is_ok(), "limits are per user");
    }

    #[test]
    fn concurrency_is_refused_at_once_and_freed_by_finishing() {
        let l = tight(100, 2);
        let a = l.admit("u").expect("a");
        let _b = l.admit("u").expect("b");
        assert_eq!(
            l.admit("u").expect_err("third in flight").code,
            CONCURRENCY_CODE
        );
        drop(a);
        assert!(l.admit("u").is_ok());
        let seen = &l.usage()[0];
        assert_eq!((seen.total_requests, seen.throttled), (3, 1));
        assert_eq!(seen.peak_in_flight, 2);
        l.reset();
        assert_eq!(l.usage()[0].total_requests, 0);
    }

    #[test]
    fn execution_time_over_the_limit_refuses_until_it_ages_out() {
        let l = Limiter::new(ServiceLimits {
            execution: Duration::from_millis(1),
            window: Duration::from_secs(60),
            ..ServiceLimits::default()
        });
        let p = l.admit("u").expect("first");
        std::thread::sleep(Duration::from_millis(2));
        let headers = p.finish();
        assert_eq!(headers[1].1, "0.00");
        let refused = l.admit("u").expect_err("time is used up");
        assert_eq!(refused.code, TIME_CODE);
        assert!(
            refused.message.contains("1  milliseconds"),
            "{}",
            refused.message
        );
        assert!((59..=60).contains(&refused.retry_after_secs));
    }

    #[test]
    fn disabled_limits_count_but_never_refuse() {
        let l = tight(1, 1);
        let mut s = l.settings();
        s.enabled = false;
        l.set(s);
        let _a = l.admit("u").expect("a");
        let b = l.admit("u").expect("b");
        assert_eq!(b.finish()[0].1, "0");
        assert_eq!(l.usage()[0].requests, 2);
    }
}
