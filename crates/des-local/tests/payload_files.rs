//! The payload files: the contract, what a crash leaves, and payloads an earlier version
//! stored in SQLite.

use des_contract::queue;
use des_core::ports::PayloadStore;
use des_local::{FilePayloadStore, SqlitePayloadStore};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_payload_store_passes_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    queue::run_all_payload_store(|| {
        let path = dir.path().join(Uuid::new_v4().to_string());
        async move { FilePayloadStore::open(path).await.expect("open") }
    })
    .await;
}

/// A payload is one file named after its key; what a crash left half written is removed at
/// the next open, and stored payloads are read as they were.
#[tokio::test]
async fn reopening_removes_half_written_files_and_keeps_stored_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("payloads");
    let store = FilePayloadStore::open(&folder).await.expect("open");
    let key = "batches/p/account/000001";
    assert_eq!(
        store.put_new(key, b"page one".to_vec()).await.expect("put"),
        None
    );
    std::fs::write(folder.join(".part-left-by-a-crash"), b"half a pa").expect("write");
    let names = |dir: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&folder).len(), 2);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode();
        assert_eq!(mode(&folder) & 0o777, 0o700, "the folder is private");
        let file = folder.join("batches%2Fp%2Faccount%2F000001");
        assert_eq!(mode(&file) & 0o777, 0o600, "a payload is private");
    }
    let reopened = FilePayloadStore::open(&folder).await.expect("reopen");
    assert_eq!(names(&folder), ["batches%2Fp%2Faccount%2F000001"]);
    assert_eq!(
        reopened.get(key).await.expect("get"),
        Some(b"page one".to_vec())
    );
    reopened.delete(key).await.expect("delete");
    assert!(names(&folder).is_empty());
}

/// Payloads an earlier version stored in SQLite are read, stay write-once and are deleted;
/// new ones go to files only.
#[tokio::test]
async fn payloads_stored_in_sqlite_stay_readable_and_write_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = SqlitePayloadStore::open(dir.path().join("queue.db"))
        .await
        .expect("open sqlite");
    let key = "batches/p/account/000007";
    old.put_if_absent(key, b"stored before").await.expect("put");
    let store = FilePayloadStore::open(dir.path().join("payloads"))
        .await
        .expect("open")
        .with_legacy(old.clone())
        .await
        .expect("legacy");
    assert_eq!(
        store.get(key).await.expect("get"),
        Some(b"stored before".to_vec())
    );
    let again = store
        .put_new(key, b"read again".to_vec())
        .await
        .expect("put");
    assert_eq!(again, Some(b"stored before".to_vec()), "the first stays");
    let new_key = "batches/p/account/000008";
    assert_eq!(
        store.put_new(new_key, b"new".to_vec()).await.expect("put"),
        None
    );
    assert_eq!(
        old.get(new_key).await.expect("get"),
        None,
        "new payloads are files"
    );
    store.delete(key).await.expect("delete");
    assert_eq!(store.get(key).await.expect("get"), None);
    assert!(
        !old.holds_any().await.expect("any"),
        "deleted from SQLite too"
    );
}
