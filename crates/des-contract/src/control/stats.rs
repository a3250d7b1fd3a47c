//! Stats cases: counters add atomically, other fields replace when set.

use std::sync::Arc;

use des_core::ports::ControlStore;
use des_core::sync::{EntityStats, StatsDelta};
use time::macros::datetime;
use tokio::task::JoinSet;
use uuid::Uuid;

/// Parallel `update_stats` calls in [`concurrent_stats_updates_add_up`].
const STATS_UPDATES: u64 = 40;

/// Parallel `update_stats` calls add up exactly.
pub async fn concurrent_stats_updates_add_up<T: ControlStore + 'static>(store: T) {
    let store = Arc::new(store);
    let profile_id = Uuid::new_v4();
    let mut updates = JoinSet::new();
    for i in 0..STATS_UPDATES {
        let store = Arc::clone(&store);
        updates.spawn(async move {
            let delta = StatsDelta {
                total: 1,
                success: i % 2,
                failure: 1 - i % 2,
                ..Default::default()
            };
            store
                .update_stats(profile_id, "account", &delta)
                .await
                .expect("update");
        });
    }
    while let Some(done) = updates.join_next().await {
        done.expect("update task");
    }
    let stats = store.stats(profile_id, "account").await.expect("read");
    assert_eq!(
        (stats.total, stats.success, stats.failure),
        (STATS_UPDATES, 20, 20)
    );
    let other = store.stats(profile_id, "contact").await.expect("read");
    assert_eq!(
        other,
        EntityStats::default(),
        "another entity has its own counters"
    );
}

/// Counters add; the other fields replace only when a delta sets them.
pub async fn stats_fields_replace_when_set<T: ControlStore>(store: T) {
    let profile_id = Uuid::new_v4();
    let first = StatsDelta {
        total: 5,
        success: 5,
        last_export_date: Some(datetime!(2026-03-04 05:06:07 UTC)),
        last_export_status: Some("Success".to_owned()),
        metadata_state: Some("Created".to_owned()),
        initial_sync_state: Some("InProgress".to_owned()),
        ..Default::default()
    };
    let second = StatsDelta {
        total: 2,
        failure: 2,
        last_export_status: Some("Failure".to_owned()),
        ..Default::default()
    };
    let mut expected = EntityStats::default();
    for delta in [&first, &second] {
        store
            .update_stats(profile_id, "account", delta)
            .await
            .expect("update");
        expected.apply(delta);
        assert_eq!(
            store.stats(profile_id, "account").await.expect("read"),
            expected
        );
    }
    assert_eq!(expected.metadata_state.as_deref(), Some("Created"));
}
