//! Initial sync and deltas.

use des_core::sync::SyncPhase;
use des_engine::Mode;

use super::{CONVERGE, count, cursor, ids, name_field};
use des_tests::harness::{Harness, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_lands_every_row_then_creates_updates_and_deletes_follow() {
    let harness = Harness::start(Options {
        records: 25,
        ..Options::default()
    })
    .await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("initial sync converges");
    assert_eq!(cursor(&harness, "account").await.phase, SyncPhase::Delta);
    let status = des_engine::admin::status(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    for entity in &status {
        assert_eq!(entity.initial_sync_state, "Completed", "{entity:?}");
        assert_eq!(entity.entity_metadata_state, "Created");
        assert_eq!(entity.total_notifications, entity.success_notifications);
        assert_eq!(entity.failure_notifications, 0);
    }

    let control = harness.emulator.control();
    let accounts = ids(&harness, "account");
    control
        .update("account", accounts[0], name_field("account", "Renamed"))
        .unwrap();
    control.delete("account", accounts[1]).unwrap();
    let created = control
        .create("contact", name_field("contact", "Newcomer"))
        .unwrap();
    harness.converged(CONVERGE).await.expect("deltas converge");
    let logged = count(
        &harness,
        &format!(
            "SELECT count(*) FROM \"crm_DeleteLog\" WHERE lower(\"RecordId\") = '{}'",
            accounts[1]
        ),
    );
    assert_eq!(logged, 1, "the delete is in DeleteLog");
    assert!(ids(&harness, "contact").contains(&created));
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_checkpoint_without_rereading() {
    let options = Options {
        records: 40,
        page_size: 5,
        entities: vec!["account".into()],
        ..Options::default()
    };
    let mut harness = Harness::start(options).await;
    // A slow source keeps the first run mid-sync between "midway" and the shutdown; without
    // it a fast pipeline can finish all eight pages in that gap.
    let faults = harness.emulator.control().faults();
    faults.set_latency(std::time::Duration::from_millis(150));
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    let control = &harness.ports.control;
    let midway = des_tests::harness::wait_until(CONVERGE, || async {
        let cursor = control.cursor(harness.profile.id, "account").await.unwrap();
        cursor.is_some_and(|c| c.value.next_seq >= 4)
    })
    .await;
    assert!(midway);
    runtime.shutdown().await;
    let stopped_at = cursor(&harness, "account").await;
    assert_eq!(
        stopped_at.phase,
        SyncPhase::InitialSync,
        "stopped mid initial sync"
    );

    faults.clear();
    harness.reopen().await;
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("converges after the restart");
    let stats = harness
        .ports
        .control
        .stats(harness.profile.id, "account")
        .await
        .unwrap();
    assert_eq!(stats.total, 40, "every page was read exactly once");
    assert_eq!(
        cursor(&harness, "account").await.next_seq,
        9,
        "8 pages, dense seqs"
    );
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_m_to_n_relationship_is_its_own_stream_and_table() {
    let options = Options {
        records: 10,
        entities: vec!["new_project".into()],
        relationships: vec!["new_project_contact".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("entity and M:N table converge");
    assert_eq!(
        cursor(&harness, "new_project_contact").await.phase,
        SyncPhase::Delta
    );
    let control = harness.emulator.control();
    let (project, contact) = (ids(&harness, "new_project")[0], ids(&harness, "contact")[5]);
    control
        .associate("new_project_contact", project, contact)
        .unwrap();
    harness
        .converged(CONVERGE)
        .await
        .expect("a new association follows");
    let status = des_engine::admin::status(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    let names: Vec<&str> = status.iter().map(|s| s.entity_type.as_str()).collect();
    assert_eq!(names, ["new_project", "new_project_contact"]);
    runtime.shutdown().await;
}

/// Throughput figure, not a check: `cargo test -p des-tests --test engine --release -- --ignored
/// throughput --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement; run on demand"]
async fn throughput_of_an_initial_sync() {
    let rows: usize = std::env::var("DES_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let options = Options {
        records: rows,
        page_size: 5000,
        entities: vec!["account".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    let started = std::time::Instant::now();
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    let done = des_tests::harness::wait_until(std::time::Duration::from_secs(600), || async {
        let stats = harness
            .ports
            .control
            .stats(harness.profile.id, "account")
            .await
            .unwrap();
        stats.success == rows as u64
    })
    .await;
    let elapsed = started.elapsed();
    assert!(done, "initial sync did not finish");
    eprintln!(
        "initial sync: {rows} rows in {elapsed:?} ({:.0} rows/s)",
        rows as f64 / elapsed.as_secs_f64()
    );
    runtime.shutdown().await;
}
