//! The [`PayloadStore`] contract: write-once by key, readable until deleted.

use std::future::Future;
use std::sync::Arc;

use des_core::ports::PayloadStore;
use tokio::task::JoinSet;

use crate::case::run_cases;

/// Writers racing in [`racing_writers_agree_on_the_first`].
const WRITERS: usize = 8;

/// Runs every payload store case; `make` returns a fresh, empty store for each.
pub async fn run_all<F, Fut, T>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
    T: PayloadStore + 'static,
{
    run_cases!(
        "PayloadStore",
        make,
        [
            put_if_absent_keeps_the_first,
            put_new_says_whether_it_stored,
            racing_writers_agree_on_the_first,
            delete_removes_and_is_idempotent,
        ]
    );
}

/// The first `put_if_absent` stores; later ones return the stored bytes and change nothing.
pub async fn put_if_absent_keeps_the_first<T: PayloadStore>(store: T) {
    let key = "00000000-0000-0000-0000-000000000001/account/000001";
    assert_eq!(store.get(key).await.expect("get"), None);
    let first: Vec<u8> = (0..=255).collect();
    assert_eq!(store.put_if_absent(key, &first).await.expect("put"), first);
    assert_eq!(
        store
            .put_if_absent(key, b"second")
            .await
            .expect("put again"),
        first
    );
    assert_eq!(store.get(key).await.expect("get"), Some(first));
    assert_eq!(
        store.get("other/key").await.expect("get"),
        None,
        "keys are separate"
    );
}

/// `put_new` answers `None` when it stored the bytes, and the first bytes once any are stored.
pub async fn put_new_says_whether_it_stored<T: PayloadStore>(store: T) {
    let key = "new/account/000003";
    let first: Vec<u8> = (0..=255).rev().collect();
    assert_eq!(store.put_new(key, first.clone()).await.expect("put"), None);
    let other = store
        .put_new(key, b"second".to_vec())
        .await
        .expect("put again");
    assert_eq!(other, Some(first.clone()));
    let same = store.put_new(key, first.clone()).await.expect("same again");
    assert!(
        same.as_ref().is_none_or(|stored| *stored == first),
        "{same:?}"
    );
    assert_eq!(store.get(key).await.expect("get"), Some(first));
}

/// Writers racing on one key all get back the same bytes: one of theirs, and the stored ones.
pub async fn racing_writers_agree_on_the_first<T: PayloadStore + 'static>(store: T) {
    let store = Arc::new(store);
    let key = "race/account/000007";
    let mut writers = JoinSet::new();
    for i in 0..WRITERS {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            let mine = format!("writer {i}").into_bytes();
            store.put_if_absent(key, &mine).await.expect("put")
        });
    }
    let mut results = Vec::new();
    while let Some(result) = writers.join_next().await {
        results.push(result.expect("writer"));
    }
    let stored = store.get(key).await.expect("get").expect("stored");
    assert!(
        results.iter().all(|r| *r == stored),
        "writers saw different payloads"
    );
    assert!(
        stored.starts_with(b"writer "),
        "the stored payload is one writer's"
    );
}

/// `delete` removes the payload, a second delete is fine (deliveries repeat), and the key can
/// then be written afresh.
pub async fn delete_removes_and_is_idempotent<T: PayloadStore>(store: T) {
    let key = "gone/account/000002";
    store.put_if_absent(key, b"old").await.expect("put");
    store.delete(key).await.expect("delete");
    assert_eq!(store.get(key).await.expect("get"), None);
    store.delete(key).await.expect("delete again");
    assert_eq!(
        store.put_if_absent(key, b"new").await.expect("put"),
        b"new".to_vec()
    );
}
