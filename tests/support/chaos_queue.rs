//! A test double around the REAL work queue that duplicates and reorders deliveries.
//!
//! Each send may be sent twice, and every send is delayed by a random amount, so messages
//! become visible out of order; each receive shuffles what it got. This is the at-least-once,
//! no-order delivery the `WorkQueue` contract allows, made frequent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use des_core::ports::{Delivery, QueueError, WorkQueue};

/// How much chaos.
#[derive(Debug, Clone, Copy)]
pub struct Chaos {
    /// Probability that a send is duplicated.
    pub duplicate: f64,
    /// Upper bound of the random extra delay per send.
    pub max_delay: Duration,
}

/// Wraps a queue; see the module docs.
pub struct ChaosQueue {
    inner: Arc<dyn WorkQueue>,
    chaos: Chaos,
    rng: Mutex<fastrand::Rng>,
}

impl ChaosQueue {
    pub fn new(inner: Arc<dyn WorkQueue>, chaos: Chaos, seed: u64) -> Self {
        Self {
            inner,
            chaos,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }

    fn jitter(&self) -> Duration {
        let max = self.chaos.max_delay.as_millis() as u64;
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        Duration::from_millis(rng.u64(0..=max))
    }

    fn duplicate(&self) -> bool {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        rng.f64() < self.chaos.duplicate
    }
}

#[async_trait]
impl WorkQueue for ChaosQueue {
    async fn send(&self, body: &[u8], delay: Duration) -> Result<(), QueueError> {
        self.inner.send(body, delay + self.jitter()).await?;
        if self.duplicate() {
            self.inner.send(body, delay + self.jitter()).await?;
        }
        Ok(())
    }

    async fn receive(&self, max: usize, visibility: Duration) -> Result<Vec<Delivery>, QueueError> {
        let mut got = self.inner.receive(max, visibility).await?;
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .shuffle(&mut got);
        Ok(got)
    }

    async fn delete(&self, delivery: &Delivery) -> Result<(), QueueError> {
        self.inner.delete(delivery).await
    }

    async fn release(&self, delivery: &Delivery, delay: Duration) -> Result<(), QueueError> {
        self.inner.release(delivery, delay).await
    }

    async fn approximate_len(&self) -> Result<u64, QueueError> {
        self.inner.approximate_len().await
    }
}
