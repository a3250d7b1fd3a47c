//! Resyncs: expired change tokens, on demand, and for failed records.

use des_engine::Mode;

use super::{CONVERGE, count, cursor, ids, name_field, synced_accounts};
use des_tests::harness::{Harness, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_resyncs_and_deletes_vanished_rows_with_delete_log() {
    let mut harness = synced_accounts().await;

    // While nothing runs, rows vanish and the change token expires: the deletes can only
    // be found by a full re-read.
    let control = harness.emulator.control();
    let gone = ids(&harness, "account")[..3].to_vec();
    for id in &gone {
        control.delete("account", *id).unwrap();
    }
    control
        .update(
            "account",
            ids(&harness, "account")[0],
            name_field("account", "Kept"),
        )
        .unwrap();
    control.expire_change_tokens();

    harness.reopen().await;
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("the resync converges");
    assert!(
        cursor(&harness, "account").await.last_resync_seq > 0,
        "a resync ran"
    );
    for id in gone {
        let sql =
            format!("SELECT count(*) FROM \"crm_DeleteLog\" WHERE lower(\"RecordId\") = '{id}'");
        assert_eq!(
            count(&harness, &sql),
            1,
            "the swept row {id} is in DeleteLog"
        );
    }
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_failed_resyncs_only_streams_with_new_failures() {
    let mut options = Options {
        records: 10,
        ..Options::default()
    };
    options.retry.max_retry_count = 0;
    let harness = Harness::start(options).await;
    let victim = ids(&harness, "contact")[2];
    harness.sink.fail_records([victim]);
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    // The line is written before the counter moves: wait for both.
    let logged = des_tests::harness::wait_until(CONVERGE, || async {
        let status = des_engine::admin::status(&harness.ports, harness.profile.id).await;
        let counted = status.is_ok_and(|s| s.iter().any(|e| e.failure_notifications == 1));
        harness.failure_lines().await.len() == 1 && counted
    })
    .await;
    assert!(logged, "MaxRetryCount 0 logs the failure at once");
    harness.sink.heal();

    let ports = &harness.ports;
    let resynced = des_engine::admin::resync_failed(ports, harness.profile.id)
        .await
        .unwrap();
    assert_eq!(resynced, vec!["contact".to_owned()]);
    harness
        .converged(CONVERGE)
        .await
        .expect("the resync writes the healed record");
    let again = des_engine::admin::resync_failed(ports, harness.profile.id)
        .await
        .unwrap();
    assert!(again.is_empty(), "no failures since the last resync");
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_entity_rejects_entities_outside_the_profile() {
    let harness = Harness::start(Options {
        records: 3,
        ..Options::default()
    })
    .await;
    let error = des_engine::admin::resync_entity(&harness.ports, harness.profile.id, "lead").await;
    assert!(
        matches!(error, Err(des_engine::EngineError::UnknownEntity { .. })),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_source_column_is_added_to_the_table_and_filled_by_a_resync() {
    let mut options = Options {
        records: 8,
        entities: vec!["account".into()],
        ..Options::default()
    };
    options.runtime.metadata_refresh = std::time::Duration::from_millis(200);
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");
    assert_eq!(cursor(&harness, "account").await.last_resync_seq, 0);

    let control = harness.emulator.control();
    control
        .add_attribute("account", "new_tally", "Integer", None)
        .unwrap();
    let mut fields = serde_json::Map::new();
    fields.insert("new_tally".into(), serde_json::json!(7));
    control
        .update("account", ids(&harness, "account")[1], fields)
        .unwrap();
    harness
        .converged(CONVERGE)
        .await
        .expect("the new column converges");
    let scored = "SELECT count(*) FROM \"crm_account\" WHERE \"new_tally\" = 7";
    assert_eq!(count(&harness, scored), 1);
    assert!(
        cursor(&harness, "account").await.last_resync_seq > 0,
        "a resync filled it"
    );
    runtime.shutdown().await;
}

/// A resync batch the target keeps refusing is poisoned and skipped: its ids were never
/// marked seen, so its resync must not sweep. A new resync (requested before the skip) runs
/// and completes; no row the source holds is ever deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poisoned_resync_batch_never_sweeps_its_rows() {
    let mut harness = synced_accounts().await;

    harness.emulator.control().expire_change_tokens();
    harness.reopen().await;
    let first_resync_batch = cursor(&harness, "account").await.next_seq;
    harness.sink.refuse_seq(first_resync_batch);
    let runtime = harness.run();
    let poisoned = des_tests::harness::wait_until(CONVERGE, || async {
        harness
            .failure_lines()
            .await
            .iter()
            .any(|l| l.contains("RecordId: N/A"))
    })
    .await;
    assert!(poisoned, "the refused resync batch is poisoned");
    // Every batch sent so far, the first resync's `ResyncComplete` and the whole new resync
    // included, reaches the target.
    let (table, _) = harness.table("account").await;
    let settled = des_tests::harness::wait_until(CONVERGE, || async {
        let c = cursor(&harness, "account").await;
        let watermark =
            des_core::ports::Sink::watermark(harness.sink.as_ref(), harness.profile.id, &table)
                .await;
        c.phase == des_core::sync::SyncPhase::Delta
            && c.last_resync_seq > first_resync_batch
            && watermark.is_ok_and(|w| w + 1 >= c.next_seq)
    })
    .await;
    assert!(settled, "a new resync ran and every batch was applied");
    harness
        .converged(CONVERGE)
        .await
        .expect("the second resync converges");
    let swept = count(&harness, "SELECT count(*) FROM \"crm_DeleteLog\"");
    assert_eq!(swept, 0, "no row the source holds was swept");
    runtime.shutdown().await;
}
