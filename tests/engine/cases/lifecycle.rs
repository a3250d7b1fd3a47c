//! Activation modes, deactivation, poisoned batches.

use std::time::Duration;

use des_core::sync::SyncPhase;
use des_engine::Mode;

use super::{CONVERGE, count, cursor, ids, name_field, table_exists};
use des_tests::harness::{Harness, Options, wait_until};

fn one_entity() -> Options {
    Options {
        records: 12,
        entities: vec!["account".into()],
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activate_metadata_creates_tables_and_metadata_rows_but_reads_no_data() {
    let harness = Harness::start(one_entity()).await;
    harness.activate(Mode::MetadataOnly).await;
    let runtime = harness.run();
    let created = wait_until(CONVERGE, || async {
        harness
            .ports
            .control
            .cursor(harness.profile.id, "account")
            .await
            .unwrap()
            .is_some_and(|c| c.value.phase == SyncPhase::MetadataCreated)
    })
    .await;
    assert!(created, "the stream reaches MetadataCreated");
    assert!(table_exists(&harness, "crm_account"));
    assert_eq!(
        count(&harness, "SELECT count(*) FROM \"crm_account\""),
        0,
        "no data read"
    );
    let states = "SELECT count(*) FROM \"crm_StateMetadata\" WHERE \"EntityName\" = 'account'";
    assert!(count(&harness, states) > 0, "metadata rows are written");

    harness.activate(Mode::All).await;
    harness
        .converged(CONVERGE)
        .await
        .expect("data follows on activate");
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_stops_the_streams_and_reactivation_resumes_where_they_stopped() {
    let harness = Harness::start(one_entity()).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");

    des_engine::admin::deactivate(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    // Taken once stopped: a delta poll may still land between convergence and the stop,
    // moving the link, but none after it (checkpoints are conditional on the cursor).
    let before = cursor(&harness, "account").await;
    assert_eq!(before.phase, SyncPhase::Stopped);
    let id = ids(&harness, "account")[0];
    harness
        .emulator
        .control()
        .update("account", id, name_field("account", "While off"))
        .unwrap();
    // Several poll intervals pass with the profile inactive: nothing is read.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        harness.diff().await.is_err(),
        "an inactive profile does not replicate"
    );
    assert_eq!(cursor(&harness, "account").await.link, before.link);

    des_engine::admin::activate(&harness.ports, harness.profile.id, Mode::All)
        .await
        .unwrap();
    harness
        .converged(CONVERGE)
        .await
        .expect("reactivation resumes");
    let after = cursor(&harness, "account").await;
    assert_eq!(after.phase, SyncPhase::Delta);
    assert_eq!(
        after.next_seq,
        before.next_seq + 1,
        "one delta batch, no re-read"
    );
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_target_keeps_refusing_is_poisoned_logged_and_healed_by_a_resync() {
    let mut options = one_entity();
    options.runtime.applier.max_dequeue_count = 3;
    let harness = Harness::start(options).await;
    harness.sink.refuse_seq(2);
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    let poisoned = wait_until(CONVERGE, || async {
        harness
            .failure_lines()
            .await
            .iter()
            .any(|l| l.contains("RecordId: N/A"))
    })
    .await;
    assert!(
        poisoned,
        "the refused batch is poisoned with an entity-level failure line"
    );
    harness
        .converged(CONVERGE)
        .await
        .expect("the resync brings the skipped rows back");
    let lines = harness.failure_lines().await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("Entity: account, RecordId: N/A, NotificationTime: "));
    assert!(cursor(&harness, "account").await.last_resync_seq > 2);
    runtime.shutdown().await;
}
