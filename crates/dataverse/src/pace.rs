//! Pacing: how many requests of one app user are in flight at once.
//!
//! Dataverse's service protection is per user: requests and combined execution time in a
//! sliding window, and requests in flight at once. Every request of one app user (every
//! stream of every profile in the process) goes through that user's [`Pacer`], so they share
//! one budget (a client with several app users has one pacer each, see `users`):
//! - the limit starts at the first answer's `x-ms-dop-hint` (1 until then);
//! - it grows while callers wait and `x-ms-ratelimit-time-remaining-xrm-requests` and
//!   `x-ms-ratelimit-burst-remaining-xrm-requests` leave room for several more requests of the
//!   average length: it doubles (at most by the callers waiting) until the budget first pushes
//!   back, as TCP's slow start does, then by one; it shrinks by one when the time left would not cover the requests in
//!   flight and one more, so the budget is spent near its edge instead of in a burst of 429s;
//! - a 429 halves it and holds *every* new request of that user until its `Retry-After` has passed (the
//!   retrying request waits the same), so one refusal does not become a storm;
//! - it never exceeds `max` (the service's concurrency limit, 52 by default).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use tokio::sync::Notify;

const TIME_REMAINING: &str = "x-ms-ratelimit-time-remaining-xrm-requests";
const BURST_REMAINING: &str = "x-ms-ratelimit-burst-remaining-xrm-requests";
const DOP_HINT: &str = "x-ms-dop-hint";
/// Weight of the newest request in the average request length.
const AVERAGE_WEIGHT: f64 = 0.2;
/// Room, in requests of the average length, that lets the limit grow.
const GROW_ROOM: f64 = 4.0;

/// What the pacer has done so far (for the bench and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PaceStats {
    /// Requests allowed in flight now.
    pub limit: u32,
    /// Most requests this client had in flight at once.
    pub peak_in_flight: u32,
    /// 429 answers received.
    pub throttled: u64,
    /// Requests sent (tries, retries included).
    pub requests: u64,
}

#[derive(Debug)]
struct State {
    stats: PaceStats,
    in_flight: u32,
    waiting: u32,
    hinted: bool,
    /// The budget has pushed back once (a shrink or a 429): grow by one from then on.
    settled: bool,
    not_before: Option<Instant>,
    average_secs: f64,
}

/// The shared gate of one client.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
    wake: Notify,
    max: u32,
}

impl Pacer {
    pub(crate) fn new(max: u32) -> Arc<Self> {
        let max = max.max(1);
        Arc::new(Self {
            state: Mutex::new(State {
                stats: PaceStats {
                    limit: 1,
                    ..PaceStats::default()
                },
                in_flight: 0,
                waiting: 0,
                hinted: false,
                settled: false,
                not_before: None,
                average_secs: 0.0,
            }),
            wake: Notify::new(),
            max,
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn stats(&self) -> PaceStats {
        self.with(|s| s.stats)
    }

    /// How busy this user is: requests in flight per allowed, or infinite while a
    /// `Retry-After` holds it (the least-loaded user gets the next request).
    pub(crate) fn load(&self) -> f64 {
        self.with(|s| {
            if s.not_before.is_some_and(|t| t > Instant::now()) {
                return f64::INFINITY;
            }
            f64::from(s.in_flight) / f64::from(s.stats.limit.max(1))
        })
    }

    /// Waits for a turn: no `Retry-After` pending and fewer than the limit in flight.
    pub(crate) async fn acquire(self: &Arc<Self>) -> PacePermit {
        let queued = Queued::new(self);
        loop {
            // Registered before the check, so a release between the check and the wait counts.
            let woken = self.wake.notified();
            let wait = self.with(|s| {
                let now = Instant::now();
                if let Some(until) = s.not_before.filter(|t| *t > now) {
                    return Err(Some(until - now));
                }
                if s.in_flight >= s.stats.limit {
                    return Err(None);
                }
                s.in_flight += 1;
                s.stats.requests += 1;
                s.stats.peak_in_flight = s.stats.peak_in_flight.max(s.in_flight);
                Ok(())
            });
            match wait {
                Ok(()) => {
                    drop(queued);
                    return PacePermit {
                        pacer: Arc::clone(self),
                        started: Instant::now(),
                    };
                }
                Err(Some(pause)) => {
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = woken => {}
                    }
                }
                Err(None) => woken.await,
            }
        }
    }

    fn release(&self) {
        self.with(|s| s.in_flight = s.in_flight.saturating_sub(1));
        self.wake.notify_waiters();
    }

    fn observe(&self, status: u16, headers: &HeaderMap, took: Duration, retry: Option<Duration>) {
        self.with(|s| {
            if status == 429 {
                s.stats.throttled += 1;
                s.stats.limit = (s.stats.limit / 2).max(1);
                s.settled = true;
                let until = Instant::now() + retry.unwrap_or(Duration::from_secs(1));
                s.not_before = Some(s.not_before.map_or(until, |t| t.max(until)));
                return;
            }
            let took = took.as_secs_f64();
            s.average_secs = if s.average_secs == 0.0 {
                took
            } else {
                s.average_secs * (1.0 - AVERAGE_WEIGHT) + took * AVERAGE_WEIGHT
            };
            if let Some(hint) = number(headers, DOP_HINT).filter(|_| !s.hinted) {
                s.hinted = true;
                s.stats.limit = (hint as u32).clamp(1, self.max);
            }
            self.adapt(
                s,
                number(headers, TIME_REMAINING),
                number(headers, BURST_REMAINING),
            );
        });
        self.wake.notify_waiters();
    }

    fn adapt(&self, s: &mut State, time_left: Option<f64>, requests_left: Option<f64>) {
        let need = f64::from(s.in_flight + 1) * s.average_secs;
        if time_left.is_some_and(|t| t < need) || requests_left.is_some_and(|r| r < 2.0) {
            s.stats.limit = s.stats.limit.saturating_sub(1).max(1);
            s.settled = true;
            return;
        }
        // At 2 s a page, growing by one per answer would keep a dozen streams waiting for
        // rounds on a fresh budget; the room check still applies to the grown limit.
        let step = if s.settled {
            1
        } else {
            s.stats.limit.min(s.waiting).max(1)
        };
        let grown = (s.stats.limit + step).min(self.max);
        let limit = f64::from(grown);
        let time_room = time_left.is_none_or(|t| t >= need + GROW_ROOM * s.average_secs * limit);
        let request_room = requests_left.is_none_or(|r| r >= GROW_ROOM * limit);
        if s.waiting > 0 && time_room && request_room {
            s.stats.limit = grown;
        }
    }
}

/// A header's number; the service groups thousands with commas (`1,199.46`).
fn number(headers: &HeaderMap, name: &str) -> Option<f64> {
    let text = headers.get(name)?.to_str().ok()?.replace(',', "");
    text.trim().parse().ok().filter(|v: &f64| v.is_finite())
}

/// Counts a caller as waiting while it is in [`Pacer::acquire`] (dropped futures included).
struct Queued<'a>(&'a Pacer);

impl<'a> Queued<'a> {
    fn new(pacer: &'a Pacer) -> Self {
        pacer.with(|s| s.waiting += 1);
        Self(pacer)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.with(|s| s.waiting = s.waiting.saturating_sub(1));
    }
}

/// One request in flight; give it the answer with [`PacePermit::answered`].
pub(crate) struct PacePermit {
    pacer: Arc<Pacer>,
    started: Instant,
}

impl PacePermit {
    /// The answer's status and headers adapt the limit (a 429 holds every request back).
    pub(crate) fn answered(&self, status: u16, headers: &HeaderMap, retry: Option<Duration>) {
        let took = self.started.elapsed();
        self.pacer.observe(status, headers, took, retry);
    }
}

impl Drop for PacePermit {
    fn drop(&mut self) {
        self.pacer.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(time: &str, burst: &str, hint: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(TIME_REMAINING, time.parse().expect("header"));
        h.insert(BURST_REMAINING, burst.parse().expect("header"));
        h.insert(DOP_HINT, hint.parse().expect("header"));
        h
    }

    #[tokio::test]
    async fn the_hint_sets_the_start_and_the_limit_caps_it() {
        let pacer = Pacer::new(3);
        let permit = pacer.acquire().await;
        permit.answered(200, &headers("1,200.00", "5,999", "8"), None);
        assert_eq!(pacer.stats().limit, 3, "the hint is capped at the maximum");
        drop(permit);
        let held: Vec<_> = [(); 3].iter().map(|_| pacer.acquire()).collect();
        let held = futures_join(held).await;
        assert_eq!(pacer.stats().peak_in_flight, 3);
        let fourth = tokio::time::timeout(Duration::from_millis(50), pacer.acquire()).await;
        assert!(fourth.is_err(), "a fourth request waits for a turn");
        drop(held);
        assert_eq!(pacer.stats().requests, 4);
    }

    #[tokio::test]
    async fn a_429_halves_the_limit_and_holds_everyone_for_retry_after() {
        let pacer = Pacer::new(52);
        let permit = pacer.acquire().await;
        permit.answered(200, &headers("1,200.00", "5,999", "4"), None);
        permit.answered(429, &HeaderMap::new(), Some(Duration::from_millis(300)));
        drop(permit);
        assert_eq!(pacer.stats().limit, 2);
        assert_eq!(pacer.stats().throttled, 1);
        let early = tokio::time::timeout(Duration::from_millis(100), pacer.acquire()).await;
        assert!(early.is_err(), "nobody starts before Retry-After");
        let later = tokio::time::timeout(Duration::from_secs(2), pacer.acquire()).await;
        assert!(later.is_ok(), "the turn comes after Retry-After");
    }

    #[tokio::test]
    async fn little_time_left_shrinks_the_limit() {
        let pacer = Pacer::new(52);
        let permit = pacer.acquire().await;
        permit.answered(200, &headers("100.00", "5,000", "6"), None);
        assert_eq!(pacer.stats().limit, 6);
        // Requests of about a second each and under one second of execution time left.
        pacer.with(|s| s.average_secs = 1.0);
        permit.answered(200, &headers("0.50", "5,000", "6"), None);
        assert_eq!(pacer.stats().limit, 5);
    }

    #[tokio::test]
    async fn the_limit_doubles_with_callers_waiting_until_the_budget_pushes_back() {
        let pacer = Pacer::new(52);
        let room = headers("1,200.00", "5,999", "4");
        let permit = pacer.acquire().await;
        permit.answered(200, &room, None);
        assert_eq!(pacer.stats().limit, 4, "the hint");
        pacer.with(|s| (s.waiting, s.average_secs) = (10, 1.0));
        permit.answered(200, &room, None);
        assert_eq!(pacer.stats().limit, 8, "doubled");
        permit.answered(200, &room, None);
        assert_eq!(pacer.stats().limit, 16, "doubled again");
        pacer.with(|s| s.waiting = 3);
        permit.answered(200, &room, None);
        assert_eq!(
            pacer.stats().limit,
            19,
            "by no more than the callers waiting"
        );
        permit.answered(200, &headers("0.50", "5,000", "4"), None);
        assert_eq!(pacer.stats().limit, 18, "pushed back");
        permit.answered(200, &room, None);
        assert_eq!(pacer.stats().limit, 19, "by one from then on");
    }

    async fn futures_join(futures: Vec<impl Future<Output = PacePermit>>) -> Vec<PacePermit> {
        let mut out = Vec::new();
        for f in futures {
            out.push(f.await);
        }
        out
    }
}
