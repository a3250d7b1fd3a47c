//! The target is checked, not believed: restored from an older backup, it is found behind and
//! resynced back to the source.

use super::{CONVERGE, ids, name_field, synced_accounts};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_restored_from_an_older_backup_is_found_behind_and_resynced() {
    let mut harness = synced_accounts().await;
    harness.target.back_up().await;
    let nothing = des_engine::check::check_profile(&harness.ports, &harness.profile).await;
    assert_eq!(
        nothing.unwrap(),
        vec![],
        "a target as it was left is not repaired"
    );

    // After the backup: a create, an update and deletes, all applied.
    let control = harness.emulator.control();
    let accounts = ids(&harness, "account");
    for id in &accounts[..3] {
        control.delete("account", *id).unwrap();
    }
    control
        .update("account", accounts[5], name_field("account", "Renamed"))
        .unwrap();
    control
        .create("account", name_field("account", "Created"))
        .unwrap();
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("the changes applied");
    runtime.shutdown().await;

    // The operator restores the older backup: deleted rows are back, the new one is gone,
    // and the watermark is behind what the engine applied.
    harness.target.restore().await;
    assert!(harness.diff().await.is_err(), "the restored target differs");
    harness.reopen().await;
    let repairs = des_engine::check::check_profile(&harness.ports, &harness.profile)
        .await
        .expect("checked");
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0].entity, "account");
    assert!(repairs[0].found < repairs[0].expected, "{:?}", repairs[0]);
    let runtime = harness.run();
    harness
        .converged(CONVERGE)
        .await
        .expect("the resync converges the restored target");
    runtime.shutdown().await;
}
