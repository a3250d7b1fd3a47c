//! The opt-in cost model: every Web API request takes at least `base`, plus `per_row` for each
//! row it returns, so a page takes time in proportion to its rows as on a busy real service.
//! Off (zero) by default, so tests stay fast.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Modelled service time of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostModel {
    pub base: Duration,
    pub per_row: Duration,
}

impl CostModel {
    /// The time a response with `rows` rows takes at least.
    pub fn of(&self, rows: usize) -> Duration {
        let rows = u32::try_from(rows).unwrap_or(u32::MAX);
        self.base.saturating_add(self.per_row.saturating_mul(rows))
    }

    pub fn is_off(&self) -> bool {
        self.base.is_zero() && self.per_row.is_zero()
    }
}

/// The JSON body of `POST /_emulator/cost` and what `GET` answers: milliseconds per request
/// and microseconds per row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRequest {
    #[serde(default)]
    pub base_ms: f64,
    #[serde(default)]
    pub per_row_us: f64,
}

impl CostRequest {
    pub fn model(&self) -> Result<CostModel, String> {
        let duration = |v: f64, scale: f64, what: &str| {
            Duration::try_from_secs_f64(v / scale)
                .map_err(|_| format!("{what} must be a non-negative number"))
        };
        Ok(CostModel {
            base: duration(self.base_ms, 1e3, "base_ms")?,
            per_row: duration(self.per_row_us, 1e6, "per_row_us")?,
        })
    }
}

impl From<CostModel> for CostRequest {
    fn from(m: CostModel) -> Self {
        CostRequest {
            base_ms: m.base.as_secs_f64() * 1e3,
            per_row_us: m.per_row.as_secs_f64() * 1e6,
        }
    }
}

/// A cloneable handle to the cost model in force.
#[derive(Debug, Clone, Default)]
pub struct Cost {
    inner: Arc<Mutex<CostModel>>,
}

impl Cost {
    pub fn new(model: CostModel) -> Cost {
        let c = Cost::default();
        c.set(model);
        c
    }

    pub fn get(&self) -> CostModel {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set(&self, model: CostModel) {
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) = model;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_costs_base_plus_its_rows() {
        let m = CostRequest {
            base_ms: 20.0,
            per_row_us: 500.0,
        }
        .model()
        .expect("valid");
        assert_eq!(m.of(0), Duration::from_millis(20));
        assert_eq!(m.of(5000), Duration::from_millis(2520));
        assert_eq!(CostRequest::from(m).base_ms, 20.0);
        assert!(CostModel::default().is_off());
    }

    #[test]
    fn negative_costs_are_refused() {
        let bad = CostRequest {
            base_ms: -1.0,
            per_row_us: 0.0,
        };
        assert!(bad.model().unwrap_err().contains("base_ms"));
    }
}
