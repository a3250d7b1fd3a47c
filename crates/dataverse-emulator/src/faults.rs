//! Faults on demand for `/api/data/` requests: throttling, 5xx, dropped connections, latency.

use serde::Deserialize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The three service-protection limits: (code, message).
pub const THROTTLE_ERRORS: [(&str, &str); 3] = [
    (
        "0x80072322",
        "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
    ),
    (
        "0x80072321",
        "Combined execution time of incoming requests exceeded limit of 1,200,000  milliseconds over time window of 300 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
    ),
    (
        "0x80072326",
        "Number of concurrent requests exceeded the limit of 52.",
    ),
];

#[derive(Debug, Default)]
struct FaultState {
    throttle: u32,
    retry_after: u64,
    throttled: u64,
    fail: u32,
    fail_status: u16,
    drop: u32,
    latency: Duration,
    throttle_every: Option<u32>,
    requests: u64,
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After` and one of [`THROTTLE_ERRORS`].
    Throttle {
        retry_after: u64,
        code: &'static str,
        message: &'static str,
    },
    Fail(u16),
}

/// A cloneable handle to the emulator's fault switches.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

/// The JSON body of `POST /_emulator/faults`; every field optional.
#[derive(Debug, Default, Deserialize)]
pub struct FaultRequest {
    pub throttle_next: Option<u32>,
    pub retry_after_secs: Option<u64>,
    pub fail_next: Option<u32>,
    pub status: Option<u16>,
    pub drop_next: Option<u32>,
    pub latency_ms: Option<u64>,
    pub throttle_every: Option<u32>,
    #[serde(default)]
    pub clear: bool,
}

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut FaultState) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The next `n` API requests get 429 with `Retry-After: retry_after_secs`.
    pub fn throttle_next(&self, n: u32, retry_after_secs: u64) {
        self.with(|s| {
            s.throttle = n;
            s.retry_after = retry_after_secs;
        });
    }

    /// The next `n` API requests fail with `status` (503, 502, 500, ...).
    pub fn fail_next(&self, n: u32, status: u16) {
        self.with(|s| {
            s.fail = n;
            s.fail_status = status;
        });
    }

    /// The next `n` API requests have their connection closed without a response.
    pub fn drop_next(&self, n: u32) {
        self.with(|s| s.drop = n);
    }

    /// Every API request waits this long before it is answered.
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.latency = latency);
    }

    /// Every `n`th API request is throttled (1 s `Retry-After`); `0` turns it off.
    pub fn throttle_every(&self, n: u32) {
        self.with(|s| s.throttle_every = (n > 0).then_some(n));
    }

    pub fn clear(&self) {
        self.with(|s| *s = FaultState::default());
    }

    pub fn apply(&self, r: &FaultRequest) {
        if r.clear {
            self.clear();
        }
        if let Some(n) = r.throttle_next {
            self.throttle_next(n, r.retry_after_secs.unwrap_or(1));
        }
        if let Some(n) = r.fail_next {
            self.fail_next(n, r.status.unwrap_or(503));
        }
        if let Some(n) = r.drop_next {
            self.drop_next(n);
        }
        if let Some(ms) = r.latency_ms {
            self.set_latency(Duration::from_millis(ms));
        }
        if let Some(n) = r.throttle_every {
            self.throttle_every(n);
        }
    }

    /// Consumes one pending connection drop.
    pub fn take_drop(&self) -> bool {
        self.with(|s| {
            let hit = s.drop > 0;
            s.drop = s.drop.saturating_sub(1);
            hit
        })
    }

    /// The latency to add and the fault, if any, for the next API request.
    pub fn take(&self) -> (Duration, Option<Fault>) {
        self.with(|s| {
            s.requests += 1;
            let periodic = s
                .throttle_every
                .is_some_and(|n| s.requests % u64::from(n) == 0);
            let fault = if s.throttle > 0 || periodic {
                s.throttle = s.throttle.saturating_sub(u32::from(!periodic));
                let (code, message) = THROTTLE_ERRORS[(s.throttled % 3) as usize];
                s.throttled += 1;
                Some(Fault::Throttle {
                    retry_after: if periodic { 1 } else { s.retry_after },
                    code,
                    message,
                })
            } else if s.fail > 0 {
                s.fail -= 1;
                Some(Fault::Fail(s.fail_status))
            } else {
                None
            };
            (s.latency, fault)
        })
    }
}
