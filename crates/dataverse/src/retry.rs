//! Retry pacing: exponential backoff with jitter, `Retry-After`, and the caps on both.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::RetryPolicy;

/// The retry state of one request.
pub(crate) struct Backoff<'a> {
    policy: &'a RetryPolicy,
    attempts: u32,
    waited: Duration,
}

impl<'a> Backoff<'a> {
    pub(crate) fn new(policy: &'a RetryPolicy) -> Self {
        Self {
            policy,
            attempts: 0,
            waited: Duration::ZERO,
        }
    }

    /// Tries made so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Records a failed try and returns how long to wait before the next one: the server's
    /// `Retry-After` when it sent one, else the jittered backoff. `None` once the attempt or
    /// total-wait cap would be passed.
    pub(crate) fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        self.attempts += 1;
        if self.attempts >= self.policy.max_attempts {
            return None;
        }
        let wait = retry_after.unwrap_or_else(|| self.jittered());
        if self.waited + wait > self.policy.max_total_wait {
            return None;
        }
        self.waited += wait;
        Some(wait)
    }

    /// `base * 2^(n-1)` capped at `max_backoff`, then drawn from its upper half so that
    /// clients failing together spread out.
    fn jittered(&self) -> Duration {
        let exponent = self.attempts.saturating_sub(1).min(20);
        let full = self.policy.base_backoff.saturating_mul(1 << exponent);
        let capped = full.min(self.policy.max_backoff);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// The `Retry-After` header in seconds (Dataverse sends delta-seconds, sometimes fractional).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = text.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_total_wait: Duration::from_secs(10),
        }
    }

    #[test]
    fn backoff_grows_within_jitter_bounds_and_caps() {
        let policy = policy();
        let mut backoff = Backoff::new(&policy);
        let bounds = [(50, 100), (100, 200), (150, 300), (150, 300)];
        for (low, high) in bounds {
            let wait = backoff.next_wait(None).expect("within caps");
            assert!(wait >= Duration::from_millis(low) && wait <= Duration::from_millis(high));
        }
        assert_eq!(
            backoff.next_wait(None),
            None,
            "fifth failure ends the request"
        );
        assert_eq!(backoff.attempts(), 5);
    }

    #[test]
    fn retry_after_is_used_as_is_and_counts_against_total_wait() {
        let policy = policy();
        let mut backoff = Backoff::new(&policy);
        assert_eq!(
            backoff.next_wait(Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(backoff.next_wait(Some(Duration::from_secs(4))), None);
    }

    #[test]
    fn retry_after_header_reads_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, "2".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, "0.5".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(500)));
        headers.insert(
            RETRY_AFTER,
            "Fri, 27 Nov 2026 12:00:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
