//! What the operator sees and does in the played-host scenario: a stream that waits for a
//! fix (its hint in the API, nothing poisoned), the poison queue replayed, a lost target.

use std::path::Path;
use std::time::Duration;

use des_azure::BlobControlStore;
use des_azure::names::CONTROL_CONTAINER;
use des_core::ports::{ControlStore, WorkQueue};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::api::ApiClient;
use crate::deployment::{Deployment, rows};
use crate::functions_host::FunctionsHost;
use crate::processes::{Handler, HostLevel, run_applier_command};

/// The operator hint of the profile's first entity, as the API's status answers it.
pub async fn hint(client: &ApiClient, profile: Uuid) -> Option<String> {
    let path = format!("/crm/exporter/profiles/{profile}?status=true");
    let (status, body) = client.send(Method::GET, &path, None).await;
    assert_eq!(status, 200, "{body}");
    body["Entities"][0]["Status"]["Hint"]
        .as_str()
        .map(str::to_owned)
}

/// The Orders stream, whose target the applier cannot open, waits: its hint names the
/// configuration problem, its status says `Failure`, and its batch was kept rather than
/// poisoned although it was offered as often as the host's `maxDequeueCount` allows.
pub async fn waits_unpoisoned(
    deployment: &Deployment,
    host: &FunctionsHost,
    client: &ApiClient,
    orders: Uuid,
    second: &Path,
) {
    let hint = hint(client, orders).await.expect("a hint");
    assert!(hint.contains("target configuration error"), "{hint}");
    assert!(hint.contains("connection string"), "{hint}");
    let path = format!("/crm/exporter/profiles/{orders}?status=true");
    let (_, body) = client.send(Method::GET, &path, None).await;
    let status = &body["Entities"][0]["Status"];
    assert_eq!(status["LastExportStatus"], "Failure", "{body}");
    assert_eq!(status["FailureNotifications"], 0, "{body}");
    // Each offer of the kept message is a copy with a fresh dequeue count: wait for the
    // next one (the longest back-off, 30 s) and see it kept again, not poisoned.
    let before = host.work.approximate_len().await.expect("len");
    assert!(before >= 1, "the kept message is in des-apply");
    let offered = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if host.deliver_all().await.completed > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
    assert!(offered.is_ok(), "the kept message came back");
    assert_eq!(host.poison.approximate_len().await.expect("len"), 0);
    assert!(deployment.failure_lines(orders).await.is_empty());
    assert!(host.work.approximate_len().await.expect("len") >= 1);
    assert_eq!(rows(second, "crm_contact"), 0);
}

/// `des-applier replay-poison` moves what the poison queue holds back to `des-apply`,
/// where the applier settles it (a message that is not DES's is dropped, not retried).
pub async fn replays_the_poison_queue(host: &FunctionsHost, settings: &[(String, String)]) {
    host.poison
        .send(
            br#"{"NotDes":"a JSON object, not a work message"}"#,
            Duration::ZERO,
        )
        .await
        .expect("send");
    let said = run_applier_command(&["replay-poison"], settings);
    assert!(said.contains("moved 1 message"), "{said}");
    assert_eq!(host.poison.approximate_len().await.expect("len"), 0);
    let round = host.deliver_all().await;
    assert_eq!((round.failed, round.poisoned), (0, 0), "{round:?}");
    assert_eq!(host.poison.approximate_len().await.expect("len"), 0);
}

/// The target file and its journal are gone, as when `export.db` is deleted.
pub fn lose_target(db: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    assert!(!db.exists());
}

/// A batch that cannot be applied for a reason no operator fix helps (here its payload is
/// gone) is still poisoned after the host's tries: the retried tries as Warning lines, the
/// last as an Error line, each naming its invocation, then `des-apply-poison` and a line.
pub async fn poisons_a_batch_without_payload(
    deployment: &Deployment,
    host: &FunctionsHost,
    applier: &Handler,
    profile: Uuid,
) {
    let control = BlobControlStore::open(&deployment.account, CONTROL_CONTAINER)
        .await
        .expect("control");
    let cursor = control
        .cursor(profile, "account")
        .await
        .expect("cursor")
        .expect("a cursor")
        .value;
    let fingerprint = cursor.metadata_fingerprint.expect("planned");
    let seq = cursor.next_seq + 1_000;
    let message = json!({"Batch": {
        "stream": {"profile_id": profile, "entity": "account"},
        "seq": seq,
        "key": format!("batches/{profile}/account/{seq}"),
        "plan_key": format!("plans/{profile}/account/{fingerprint}"),
    }});
    host.work
        .send(message.to_string().as_bytes(), Duration::ZERO)
        .await
        .expect("send");
    let mut poisoned = 0;
    for _ in 0..3 {
        poisoned += host.deliver_all().await.poisoned;
    }
    assert_eq!(poisoned, 1, "poisoned after its third try");
    assert_eq!(host.poison.approximate_len().await.expect("len"), 1);
    let lines = deployment.failure_lines(profile).await;
    let line = format!("Batch {seq} failed 3 times and was moved to des-apply-poison");
    assert!(lines.iter().any(|l| l.contains(&line)), "{lines:#?}");
    let retried = applier
        .wait_for_line(|l| l.level == HostLevel::Warning && l.text.contains("try 1 of 3 failed"))
        .await;
    assert!(retried.text.contains("invocation{id="), "{retried:?}");
    applier
        .wait_for_line(|l| l.level == HostLevel::Error && l.text.contains("last try (3) failed"))
        .await;
}
