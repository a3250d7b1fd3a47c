//! Turns: batches this process has received and not finished, per stream.
//!
//! Appliers receive several messages at a time, so two loops can hold consecutive batches of
//! one stream. Without turns the later one reaches the sink first, comes back `OutOfOrder`
//! and is released for the out-of-order delay, and the stream stalls that long whenever the
//! earlier one is done first. With turns a batch first waits (bounded) until no earlier batch
//! of its stream is held here; only batches this process holds are waited for, so a batch
//! missing for another reason is still released as before.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use des_core::StreamId;
use des_core::ports::Delivery;
use tokio::sync::Notify;

use super::Applier;
use crate::message::WorkMessage;

/// Received batch seqs per stream, with how many deliveries hold each (a queue may deliver
/// one message twice).
#[derive(Default)]
pub(crate) struct Turns {
    held: Mutex<HashMap<StreamId, BTreeMap<u64, usize>>>,
    finished: Notify,
}

/// A held batch; passing it (once the sink has answered for it) or dropping it lets later
/// batches of its stream go.
pub struct Ticket {
    turns: Arc<Turns>,
    stream: StreamId,
    seq: u64,
    passed: AtomicBool,
}

impl Turns {
    pub(crate) fn hold(self: &Arc<Self>, stream: &StreamId, seq: u64) -> Ticket {
        *self
            .lock()
            .entry(stream.clone())
            .or_default()
            .entry(seq)
            .or_default() += 1;
        Ticket {
            turns: Arc::clone(self),
            stream: stream.clone(),
            seq,
            passed: AtomicBool::new(false),
        }
    }

    /// Waits until no batch of `stream` before `seq` is held here, at most `limit`.
    pub(crate) async fn wait(&self, stream: &StreamId, seq: u64, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let finished = self.finished.notified();
            let mut finished = std::pin::pin!(finished);
            // Registered before the check, so a finish between the two still wakes us.
            finished.as_mut().enable();
            if !self.earlier_held(stream, seq) {
                return;
            }
            if tokio::time::timeout_at(deadline, finished).await.is_err() {
                return;
            }
        }
    }

    fn earlier_held(&self, stream: &StreamId, seq: u64) -> bool {
        self.lock()
            .get(stream)
            .is_some_and(|seqs| seqs.range(..seq).next().is_some())
    }

    fn release(&self, stream: &StreamId, seq: u64) {
        let mut held = self.lock();
        if let Some(seqs) = held.get_mut(stream) {
            if let Some(count) = seqs.get_mut(&seq) {
                *count -= 1;
                if *count == 0 {
                    seqs.remove(&seq);
                }
            }
            if seqs.is_empty() {
                held.remove(stream);
            }
        }
        drop(held);
        self.finished.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<StreamId, BTreeMap<u64, usize>>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Ticket {
    /// The sink has answered for this batch: later batches need not wait for its settling.
    pub(crate) fn pass(&self) {
        if !self.passed.swap(true, Ordering::AcqRel) {
            self.turns.release(&self.stream, self.seq);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pass();
    }
}

impl Applier {
    /// Holds the batches among `deliveries` until their tickets drop, and orders them by
    /// stream and `seq`: a batch applied here then waits for the earlier batches of its
    /// stream that this process holds, instead of being released as early.
    pub fn admit(&self, deliveries: Vec<Delivery>) -> Vec<(Delivery, Option<Ticket>)> {
        let mut keyed: Vec<_> = deliveries
            .into_iter()
            .map(|d| (batch_position(&d), d))
            .collect();
        // Retries and undecodable messages (no position) go first; they never wait.
        keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
        keyed
            .into_iter()
            .map(|(position, delivery)| {
                let ticket = position.map(|(stream, seq)| self.turns.hold(&stream, seq));
                (delivery, ticket)
            })
            .collect()
    }
}

/// A batch message's stream and `seq`; `None` for anything else.
fn batch_position(delivery: &Delivery) -> Option<(StreamId, u64)> {
    match WorkMessage::decode(&delivery.body) {
        Ok(WorkMessage::Batch { stream, seq, .. }) => Some((stream, seq)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::tests::stream;

    #[tokio::test]
    async fn a_later_batch_waits_for_the_earlier_one_held_here() {
        let turns = Arc::new(Turns::default());
        let first = turns.hold(&stream(), 1);
        let _second = turns.hold(&stream(), 2);
        let waiting = {
            let turns = Arc::clone(&turns);
            tokio::spawn(async move { turns.wait(&stream(), 2, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "seq 2 went while seq 1 was held");
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("seq 2 still waits after seq 1 finished")
            .unwrap();
    }

    #[tokio::test]
    async fn the_earliest_batch_and_other_streams_never_wait() {
        let turns = Arc::new(Turns::default());
        let _held = turns.hold(&stream(), 5);
        let other = StreamId {
            entity: "contact".into(),
            ..stream()
        };
        let limit = Duration::from_secs(30);
        tokio::time::timeout(Duration::from_secs(5), async {
            turns.wait(&stream(), 5, limit).await;
            turns.wait(&stream(), 3, limit).await;
            turns.wait(&other, 9, limit).await;
        })
        .await
        .expect("a batch with no earlier one held waited");
    }

    #[tokio::test]
    async fn a_wait_ends_at_its_limit_when_the_earlier_batch_stays_held() {
        let turns = Arc::new(Turns::default());
        let _stuck = turns.hold(&stream(), 1);
        let limit = Duration::from_millis(50);
        let started = std::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(5), turns.wait(&stream(), 2, limit))
            .await
            .expect("the wait outlived its limit");
        assert!(started.elapsed() >= limit);
    }

    #[test]
    fn a_seq_held_twice_stays_held_until_both_finish() {
        let turns = Arc::new(Turns::default());
        let a = turns.hold(&stream(), 1);
        let b = turns.hold(&stream(), 1);
        drop(a);
        assert!(turns.earlier_held(&stream(), 2));
        drop(b);
        assert!(!turns.earlier_held(&stream(), 2));
        assert!(turns.lock().is_empty());
    }

    #[test]
    fn a_passed_ticket_is_released_once() {
        let turns = Arc::new(Turns::default());
        let other = turns.hold(&stream(), 1);
        let ticket = turns.hold(&stream(), 1);
        ticket.pass();
        ticket.pass();
        drop(ticket);
        assert!(
            turns.earlier_held(&stream(), 2),
            "the other holder of seq 1 was released"
        );
        drop(other);
        assert!(!turns.earlier_held(&stream(), 2));
    }
}
