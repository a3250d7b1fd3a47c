//! The des-contract suites, each case in a fresh container or queue of Azurite.

use des_azure::{
    AppendBlobFailureLog, BlobControlStore, BlobPayloadStore, StorageAccount, StorageQueue,
};

use crate::azurite;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn control_store_contract() {
    let Some(account) = azurite::account() else {
        return;
    };
    des_contract::control::run_all(|| open_control(account.clone())).await;
}

async fn open_control(account: StorageAccount) -> BlobControlStore {
    BlobControlStore::open(&account, &azurite::unique("control"))
        .await
        .expect("open control store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn work_queue_contract() {
    let Some(account) = azurite::account() else {
        return;
    };
    des_contract::queue::run_all(|| open_queue(account.clone())).await;
}

async fn open_queue(account: StorageAccount) -> StorageQueue {
    StorageQueue::open(&account, &azurite::unique("queue"))
        .await
        .expect("open queue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payload_store_contract() {
    let Some(account) = azurite::account() else {
        return;
    };
    des_contract::queue::run_all_payload_store(|| open_payloads(account.clone())).await;
}

async fn open_payloads(account: StorageAccount) -> BlobPayloadStore {
    BlobPayloadStore::open(&account, &azurite::unique("payloads"))
        .await
        .expect("open payload store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failure_log_contract() {
    let Some(account) = azurite::account() else {
        return;
    };
    des_contract::failure_log::run_all(|| open_failures(account.clone())).await;
}

async fn open_failures(account: StorageAccount) -> AppendBlobFailureLog {
    AppendBlobFailureLog::open(&account, &azurite::unique("failures"))
        .await
        .expect("open failure log")
}
