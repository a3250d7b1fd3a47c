//! The engine's state in the target belongs to a profile, and the target carries an identity
//! token: a second profile (another data folder, or a control store deleted and recreated)
//! on the same target does its own initial sync and deletes; a target replaced by an empty
//! file is noticed by its token, recreated and refilled.

use des_engine::Mode;
use des_engine::identity::Lost;

use des_core::ports::Sink;
use des_core::sync::SyncPhase;

use super::{CONVERGE, ids, name_field, synced_accounts};
use des_tests::harness::{Harness, Options, wait_until};
use des_tests::target::{TargetKind, postgres_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_replaced_by_an_empty_file_is_noticed_by_its_identity_token() {
    let mut harness = synced_accounts().await;
    let checked = des_engine::check::check_profile(&harness.ports, &harness.profile).await;
    assert_eq!(checked.unwrap(), vec![], "the target as it was left");

    // The operator replaces export.db by a fresh, empty file between runs.
    let path = harness.target_db();
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
    std::fs::File::create(&path).expect("an empty file");
    harness.reopen().await;
    let repairs = des_engine::check::check_profile(&harness.ports, &harness.profile)
        .await
        .expect("checked");
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0].lost, Some(Lost::Missing));
    let line = repairs[0].to_string();
    assert!(
        line.contains("identity token") && line.contains("resyncing"),
        "{line}"
    );
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("the empty target is refilled");
    runtime.shutdown().await;
    let again = des_engine::check::check_profile(&harness.ports, &harness.profile).await;
    assert_eq!(
        again.unwrap(),
        vec![],
        "the refilled target carries the token"
    );
}

/// Profile A syncs; then profile B, from a control store of its own, writes the same tables
/// of the same target: its first read sweeps A's rows that B's source lacks, and it applies
/// its own explicit deletes.
async fn a_second_profile_converges_on_the_same_target(target: TargetKind) {
    let options = Options {
        records: 15,
        entities: vec!["account".into()],
        target,
        ..Options::default()
    };
    let mut first = Harness::start(options.clone()).await;
    first.activate(Mode::All).await;
    let runtime = first.run();
    first.converged(CONVERGE).await.expect("A's initial sync");
    runtime.shutdown().await;

    let mut second = Harness::start(options).await;
    std::mem::swap(&mut first.target, &mut second.target);
    second.reopen().await;
    assert_ne!(second.profile.id, first.profile.id, "a new control store");
    // B's source lacks rows A exported (deleted while no profile ran) and has one A never
    // saw: B's first read over A's table must sweep the three and add the one.
    let control = second.emulator.control();
    let gone = ids(&second, "account");
    for id in &gone[..3] {
        control.delete("account", *id).unwrap();
    }
    control
        .create("account", name_field("account", "Only in B"))
        .unwrap();
    assert!(
        second.diff().await.is_err(),
        "A's rows differ from B's source"
    );
    second.activate(Mode::All).await;
    let runtime = second.run();
    // Wait for B's own first read to be applied.
    let initial_applied = wait_until(CONVERGE, || async {
        let control = &second.ports.control;
        let Ok(Some(cursor)) = control.cursor(second.profile.id, "account").await else {
            return false;
        };
        let cursor = cursor.value;
        let (table, _) = second.table("account").await;
        let applied = second.sink.watermark(second.profile.id, &table).await;
        cursor.phase == SyncPhase::Delta && applied.is_ok_and(|w| w + 1 >= cursor.next_seq)
    });
    assert!(initial_applied.await, "{}", second.cursor_summary().await);
    second.converged(CONVERGE).await.expect("B's initial sync");
    let accounts = ids(&second, "account");
    for id in &accounts[..5] {
        control.delete("account", *id).unwrap();
    }
    second
        .converged(CONVERGE)
        .await
        .expect("B's explicit deletes are applied");
    runtime.shutdown().await;
    let checked = des_engine::check::check_profile(&second.ports, &second.profile).await;
    assert_eq!(checked.unwrap(), vec![], "B's token is B's");
    second.dispose().await;
    first.dispose().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_converges_on_the_same_sqlite_target() {
    a_second_profile_converges_on_the_same_target(TargetKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_converges_on_the_same_postgresql_target() {
    let Some(server) = postgres_server() else {
        return;
    };
    a_second_profile_converges_on_the_same_target(TargetKind::Postgres(server)).await;
}
