//! The limit values (documented defaults) and the control endpoint's body that changes them.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The limit values the emulator enforces. `Default` is the service's documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLimits {
    /// False: usage is still counted and reported in headers, nothing is refused.
    pub enabled: bool,
    /// Requests per user within `window`.
    pub requests: u32,
    /// Combined execution time per user within `window`.
    #[serde(with = "secs")]
    pub execution: Duration,
    /// Requests of one user in flight at once.
    pub concurrent: u32,
    /// The sliding window of the request and execution-time limits.
    #[serde(with = "secs")]
    pub window: Duration,
    /// The `x-ms-dop-hint` header: the degree of parallelism the service recommends.
    pub dop_hint: u32,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits {
            enabled: true,
            requests: 6000,
            execution: Duration::from_secs(1200),
            concurrent: 52,
            window: Duration::from_secs(300),
            dop_hint: 4,
        }
    }
}

/// Durations as (fractional) seconds in JSON.
mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

/// The JSON body of `POST /_emulator/limits`; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    pub enabled: Option<bool>,
    pub requests: Option<u32>,
    pub execution_secs: Option<f64>,
    pub concurrent: Option<u32>,
    pub window_secs: Option<f64>,
    pub dop_hint: Option<u32>,
    /// Forget every user's usage so far.
    #[serde(default)]
    pub reset: bool,
    /// Back to the documented defaults (applied before the other fields).
    #[serde(default)]
    pub defaults: bool,
}

impl LimitsRequest {
    /// The settings this request makes of `current`, or what is wrong with it.
    pub fn apply_to(&self, current: &ServiceLimits) -> Result<ServiceLimits, String> {
        let mut s = if self.defaults {
            ServiceLimits::default()
        } else {
            current.clone()
        };
        let secs = |v: f64, what: &str| {
            Duration::try_from_secs_f64(v)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or(format!("{what} must be a positive number of seconds"))
        };
        s.enabled = self.enabled.unwrap_or(s.enabled);
        s.requests = self.requests.unwrap_or(s.requests);
        s.concurrent = self.concurrent.unwrap_or(s.concurrent);
        s.dop_hint = self.dop_hint.unwrap_or(s.dop_hint);
        if let Some(v) = self.execution_secs {
            s.execution = secs(v, "execution_secs")?;
        }
        if let Some(v) = self.window_secs {
            s.window = secs(v, "window_secs")?;
        }
        if s.requests == 0 || s.concurrent == 0 {
            return Err("requests and concurrent must be at least 1".to_owned());
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_body_is_checked() {
        let s = ServiceLimits::default();
        let r = LimitsRequest {
            window_secs: Some(0.0),
            ..LimitsRequest::default()
        };
        assert!(r.apply_to(&s).is_err());
        let r = LimitsRequest {
            requests: Some(10),
            window_secs: Some(2.5),
            ..LimitsRequest::default()
        };
        let applied = r.apply_to(&s).expect("valid");
        assert_eq!(
            (applied.requests, applied.window),
            (10, Duration::from_millis(2500))
        );
    }
}
