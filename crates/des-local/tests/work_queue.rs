use std::path::PathBuf;
use std::time::Duration;

use des_contract::queue;
use des_core::ports::{PayloadStore, QueueError, WorkQueue};
use des_local::{MAX_MESSAGE_BYTES, SqlitePayloadStore, SqliteWorkQueue};
use tempfile::TempDir;
use uuid::Uuid;

const LONG: Duration = Duration::from_secs(60);

async fn open(path: PathBuf, name: &'static str) -> SqliteWorkQueue {
    SqliteWorkQueue::open(path, name).await.expect("open queue")
}

fn file(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_work_queue_passes_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    queue::run_all(|| {
        open(
            file(&dir, &format!("queue-{}.db", Uuid::new_v4())),
            "batches",
        )
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_payload_store_passes_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    queue::run_all_payload_store(|| {
        let path = file(&dir, &format!("payloads-{}.db", Uuid::new_v4()));
        async move {
            SqlitePayloadStore::open(path)
                .await
                .expect("open payload store")
        }
    })
    .await;
}

/// A held message stays held, and a waiting one waits, across a restart.
#[tokio::test]
async fn messages_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let held = {
        let queue = open(file(&dir, "queue.db"), "batches").await;
        queue.send(b"held", Duration::ZERO).await.expect("send");
        queue.send(b"waiting", Duration::ZERO).await.expect("send");
        queue
            .receive(1, LONG)
            .await
            .expect("receive")
            .pop()
            .expect("one message")
    };
    let queue = open(file(&dir, "queue.db"), "batches").await;
    assert_eq!(queue.approximate_len().await.expect("len"), 2);
    let waiting = queue.receive(5, LONG).await.expect("receive");
    assert_eq!(waiting.len(), 1, "the held message is still hidden");
    assert_eq!(
        (waiting[0].body.as_slice(), waiting[0].dequeue_count),
        (&b"waiting"[..], 1)
    );
    queue
        .delete(&held)
        .await
        .expect("the receipt from before the restart still deletes");
}

#[tokio::test]
async fn receive_takes_the_earliest_due_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open(file(&dir, "queue.db"), "batches").await;
    for body in [b"1", b"2", b"3"] {
        queue.send(body, Duration::ZERO).await.expect("send");
    }
    let got = queue.receive(2, LONG).await.expect("receive");
    let bodies: Vec<&[u8]> = got.iter().map(|d| d.body.as_slice()).collect();
    assert_eq!(bodies, [b"1", b"2"]);
    // Released a little into the future: with no delay both could fall due in the same
    // millisecond, and then the order between them is not defined.
    queue
        .release(&got[1], Duration::from_millis(20))
        .await
        .expect("release");
    tokio::time::sleep(Duration::from_millis(60)).await;
    let next = queue.receive(5, LONG).await.expect("receive");
    let bodies: Vec<&[u8]> = next.iter().map(|d| d.body.as_slice()).collect();
    assert_eq!(
        bodies,
        [b"3", b"2"],
        "the released message is due after the older one"
    );
}

#[tokio::test]
async fn named_queues_and_payloads_share_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (batches, retries) = (
        open(file(&dir, "work.db"), "batches").await,
        open(file(&dir, "work.db"), "retries").await,
    );
    let payloads = SqlitePayloadStore::open(dir.path().join("work.db"))
        .await
        .expect("open");
    batches.send(b"batch", Duration::ZERO).await.expect("send");
    payloads
        .put_if_absent("p/account/1", b"rows")
        .await
        .expect("put");
    assert_eq!(retries.approximate_len().await.expect("len"), 0);
    assert!(retries.receive(5, LONG).await.expect("receive").is_empty());
    let got = batches.receive(5, LONG).await.expect("receive");
    assert_eq!(got.len(), 1);
    assert_eq!(
        retries.delete(&got[0]).await.map_err(|e| e.to_string()),
        Err(QueueError::LostLease(got[0].id.clone()).to_string()),
        "another queue's message"
    );
    assert_eq!(
        payloads.get("p/account/1").await.expect("get"),
        Some(b"rows".to_vec())
    );
}

#[tokio::test]
async fn bodies_over_the_azure_limit_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = open(file(&dir, "queue.db"), "batches").await;
    queue
        .send(&vec![1; MAX_MESSAGE_BYTES], Duration::ZERO)
        .await
        .expect("at the limit");
    let over = queue
        .send(&vec![1; MAX_MESSAGE_BYTES + 1], Duration::ZERO)
        .await;
    assert!(
        matches!(over, Err(QueueError::TooLarge(n)) if n == MAX_MESSAGE_BYTES + 1),
        "{over:?}"
    );
}
