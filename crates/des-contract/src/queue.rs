//! The [`WorkQueue`] contract (Azure Storage Queue semantics) and, in [`payload_store`], the
//! [`des_core::ports::PayloadStore`] contract.
//!
//! Timings are short so the suite stays fast, yet every wait is a poll with a deadline loose
//! enough for a queue that rounds visibility up to whole seconds (Azure does).

pub mod payload_store;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use des_core::ports::{Delivery, QueueError, WorkQueue};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::case::{eventually, run_cases};

pub use payload_store::run_all as run_all_payload_store;

/// A visibility or delay that must pass within a case.
const SHORT: Duration = Duration::from_millis(300);
/// A visibility that must not pass within a case.
const LONG: Duration = Duration::from_secs(60);
/// How long a case waits for a message that is due.
const DEADLINE: Duration = Duration::from_secs(5);
/// Messages and receivers in [`concurrent_receivers_never_share_a_message`].
const MESSAGES: usize = 24;
const RECEIVERS: usize = 4;

/// Runs every work queue case; `make` returns a fresh, empty queue for each.
pub async fn run_all<F, Fut, T>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
    T: WorkQueue + 'static,
{
    run_cases!(
        "WorkQueue",
        make,
        [
            send_receive_delete,
            delay_hides_until_due,
            visibility_timeout_redelivers,
            release_with_delay,
            stale_receipt_cannot_delete,
            concurrent_receivers_never_share_a_message,
            approximate_len_counts_all,
            bodies_are_kept_byte_for_byte,
        ]
    );
}

async fn receive_one<T: WorkQueue>(queue: &T, visibility: Duration) -> Option<Delivery> {
    let mut got = queue.receive(1, visibility).await.expect("receive");
    assert!(got.len() <= 1, "receive(1) returned {}", got.len());
    got.pop()
}

async fn next_delivery<T: WorkQueue>(queue: &T, what: &str, visibility: Duration) -> Delivery {
    eventually(what, DEADLINE, || receive_one(queue, visibility)).await
}

fn assert_lost_lease(result: Result<(), QueueError>, delivery: &Delivery, what: &str) {
    match result {
        Err(QueueError::LostLease(id)) => assert_eq!(id, delivery.id, "{what} names the message"),
        other => panic!("{what}: expected LostLease, got {other:?}"),
    }
}

/// A sent message is received once with `dequeue_count` 1, hidden while held, and gone once
/// deleted.
pub async fn send_receive_delete<T: WorkQueue>(queue: T) {
    assert!(
        receive_one(&queue, LONG).await.is_none(),
        "a new queue is empty"
    );
    queue.send(b"first", Duration::ZERO).await.expect("send");
    let got = next_delivery(&queue, "the sent message", LONG).await;
    assert_eq!((got.body.as_slice(), got.dequeue_count), (&b"first"[..], 1));
    assert!(
        receive_one(&queue, LONG).await.is_none(),
        "a held message is hidden"
    );
    queue.delete(&got).await.expect("delete");
    assert_eq!(queue.approximate_len().await.expect("len"), 0);
}

/// A message sent with a delay is not received before it is due, and is after.
pub async fn delay_hides_until_due<T: WorkQueue>(queue: T) {
    let sent = Instant::now();
    queue.send(b"later", SHORT).await.expect("send");
    assert!(
        receive_one(&queue, LONG).await.is_none(),
        "a delayed message is hidden at first"
    );
    let got = next_delivery(&queue, "the delayed message", LONG).await;
    // Allow for a wall clock that ticks in milliseconds against the monotonic one.
    let waited = sent.elapsed();
    assert!(
        waited + Duration::from_millis(20) >= SHORT,
        "received after {waited:?}"
    );
    assert_eq!((got.body.as_slice(), got.dequeue_count), (&b"later"[..], 1));
}

/// A received message that is not deleted comes back after its visibility timeout with
/// `dequeue_count` one higher.
pub async fn visibility_timeout_redelivers<T: WorkQueue>(queue: T) {
    queue.send(b"again", Duration::ZERO).await.expect("send");
    let first = next_delivery(&queue, "the first delivery", SHORT).await;
    assert!(
        receive_one(&queue, SHORT).await.is_none(),
        "hidden within its visibility"
    );
    let second = next_delivery(&queue, "the redelivery", LONG).await;
    assert_eq!(second.id, first.id);
    assert_eq!(second.body, first.body);
    assert_eq!(second.dequeue_count, first.dequeue_count + 1);
}

/// `release` puts a held message back after a delay (and at once with no delay), and its old
/// receipt no longer works.
pub async fn release_with_delay<T: WorkQueue>(queue: T) {
    queue.send(b"nack", Duration::ZERO).await.expect("send");
    let first = next_delivery(&queue, "the first delivery", LONG).await;
    queue.release(&first, SHORT).await.expect("release");
    assert_lost_lease(
        queue.release(&first, SHORT).await,
        &first,
        "a second release",
    );
    let second = next_delivery(&queue, "the released message", LONG).await;
    assert_eq!(
        (second.id.as_str(), second.dequeue_count),
        (first.id.as_str(), 2)
    );
    assert_lost_lease(
        queue.delete(&first).await,
        &first,
        "delete with the released receipt",
    );

    queue
        .release(&second, Duration::ZERO)
        .await
        .expect("release now");
    let third = next_delivery(&queue, "the message released at once", LONG).await;
    assert_eq!(third.dequeue_count, 3);
    queue.delete(&third).await.expect("delete");
}

/// Once a message is redelivered, the earlier receipt can neither delete nor release it.
pub async fn stale_receipt_cannot_delete<T: WorkQueue>(queue: T) {
    queue.send(b"lease", Duration::ZERO).await.expect("send");
    let stale = next_delivery(&queue, "the first delivery", SHORT).await;
    let current = next_delivery(&queue, "the redelivery", LONG).await;
    assert_ne!(
        stale.receipt, current.receipt,
        "each receive issues a new receipt"
    );
    assert_lost_lease(
        queue.delete(&stale).await,
        &stale,
        "delete with a stale receipt",
    );
    assert_lost_lease(
        queue.release(&stale, Duration::ZERO).await,
        &stale,
        "stale release",
    );
    assert_eq!(
        queue.approximate_len().await.expect("len"),
        1,
        "the message is still there"
    );
    queue
        .delete(&current)
        .await
        .expect("delete with the current receipt");
    assert_eq!(queue.approximate_len().await.expect("len"), 0);
}

/// Receivers racing for the same messages each get distinct ones within a visibility window.
pub async fn concurrent_receivers_never_share_a_message<T: WorkQueue + 'static>(queue: T) {
    let queue = Arc::new(queue);
    for i in 0..MESSAGES {
        queue
            .send(format!("m{i}").as_bytes(), Duration::ZERO)
            .await
            .expect("send");
    }
    let mut receivers = JoinSet::new();
    for _ in 0..RECEIVERS {
        let queue = Arc::clone(&queue);
        receivers.spawn(async move { drain(queue.as_ref()).await });
    }
    let mut bodies = Vec::new();
    while let Some(got) = receivers.join_next().await {
        bodies.extend(got.expect("receiver"));
    }
    let distinct: BTreeSet<&Vec<u8>> = bodies.iter().collect();
    assert_eq!(
        distinct.len(),
        bodies.len(),
        "a message went to two receivers"
    );
    assert_eq!(bodies.len(), MESSAGES, "every message was received");
}

async fn drain<T: WorkQueue>(queue: &T) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    loop {
        let got = queue.receive(5, LONG).await.expect("receive");
        if got.is_empty() {
            return bodies;
        }
        bodies.extend(got.into_iter().map(|d| d.body));
    }
}

/// `approximate_len` counts messages not yet deleted, hidden and delayed ones included.
pub async fn approximate_len_counts_all<T: WorkQueue>(queue: T) {
    assert_eq!(queue.approximate_len().await.expect("len"), 0);
    for body in [b"a", b"b", b"c"] {
        queue.send(body, Duration::ZERO).await.expect("send");
    }
    queue.send(b"d", LONG).await.expect("send delayed");
    assert_eq!(queue.approximate_len().await.expect("len"), 4);
    let held = next_delivery(&queue, "a message", LONG).await;
    assert_eq!(
        queue.approximate_len().await.expect("len"),
        4,
        "held messages count"
    );
    queue.delete(&held).await.expect("delete");
    assert_eq!(queue.approximate_len().await.expect("len"), 3);
}

/// Binary bodies come back unchanged; one over 64 KiB is refused with `TooLarge` naming its
/// size in bytes (before any encoding), and nothing is enqueued.
pub async fn bodies_are_kept_byte_for_byte<T: WorkQueue>(queue: T) {
    let body: Vec<u8> = (0..16 * 1024).map(|i: u32| (i % 251) as u8).collect();
    queue.send(&body, Duration::ZERO).await.expect("send");
    let got = next_delivery(&queue, "the binary message", LONG).await;
    assert!(
        got.body == body,
        "the body changed on the way ({} bytes back)",
        got.body.len()
    );

    let huge = vec![7u8; 64 * 1024 + 1];
    match queue.send(&huge, Duration::ZERO).await {
        Err(QueueError::TooLarge(size)) => assert_eq!(size, huge.len()),
        other => panic!(
            "a {} byte body: expected TooLarge, got {other:?}",
            huge.len()
        ),
    }
    assert_eq!(
        queue.approximate_len().await.expect("len"),
        1,
        "nothing was enqueued"
    );
}
