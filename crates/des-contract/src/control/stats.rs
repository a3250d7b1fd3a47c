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
    // The operator hint: set, kept by a delta that does not name it, then cleared.
    let waits = StatsDelta {
        hint: Some(Some("fix the target".to_owned())),
        ..Default::default()
    };
    let counted = StatsDelta {
        total: 1,
        ..Default::default()
    };
    let resumed = StatsDelta {
        hint: Some(None),
        ..Default::default()
    };
    let mut expected = EntityStats::default();
    for delta in [&first, &second, &waits, &counted] {
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
    assert_eq!(expected.hint.as_deref(), Some("fix the target"));
    store
        .update_stats(profile_id, "account", &resumed)
        .await
        .expect("update");
    let read = store.stats(profile_id, "account").await.expect("read");
    assert_eq!((read.hint, read.total), (None, 8));
}

/// `progress` lists every stream's cursor and counters, of one profile or of all, paired by
/// (profile, entity) and sorted, including streams with only one of the two.
pub async fn progress_lists_every_stream<T: ControlStore>(store: T) {
    let (p1, p2) = (Uuid::new_v4(), Uuid::new_v4());
    let mut cursor = super::sample::cursor(p1, "account");
    cursor.next_seq = 7;
    store
        .put_cursor(&cursor, des_core::ports::Precondition::None)
        .await
        .expect("cursor");
    let only_cursor = super::sample::cursor(p2, "contact");
    store
        .put_cursor(&only_cursor, des_core::ports::Precondition::None)
        .await
        .expect("cursor");
    let counted = StatsDelta {
        total: 3,
        success: 2,
        failure: 1,
        last_export_date: Some(datetime!(2026-01-02 03:04:05 UTC)),
        last_export_status: Some("Success".into()),
        ..Default::default()
    };
    store
        .update_stats(p1, "account", &counted)
        .await
        .expect("stats");
    store
        .update_stats(p1, "lead", &counted)
        .await
        .expect("stats");
    let all = store.progress(None).await.expect("progress");
    let mine: Vec<_> = all
        .iter()
        .filter(|s| s.profile_id == p1 || s.profile_id == p2)
        .map(|s| (s.profile_id, s.entity.as_str()))
        .collect();
    let mut expected = vec![(p1, "account"), (p1, "lead"), (p2, "contact")];
    expected.sort();
    assert_eq!(mine, expected);
    let listed = store.progress_of(&[p2, p1]).await.expect("progress of");
    let listed: Vec<_> = listed
        .iter()
        .map(|s| (s.profile_id, s.entity.as_str()))
        .collect();
    assert_eq!(listed, expected, "the listed profiles' streams, in order");
    let only = store.progress_of(&[p2]).await.expect("progress of");
    assert_eq!(only, store.progress(Some(p2)).await.expect("progress"));
    let none = store.progress_of(&[]).await.expect("progress of");
    assert!(none.is_empty(), "no profile listed, no stream: {none:?}");
    let one = store.progress(Some(p1)).await.expect("progress");
    assert_eq!(one.len(), 2, "{one:?}");
    let account = &one[0];
    assert_eq!(account.cursor.as_ref(), Some(&cursor));
    assert_eq!(
        account.stats,
        store.stats(p1, "account").await.expect("read")
    );
    assert_eq!((account.stats.total, account.stats.failure), (3, 1));
    let lead = &one[1];
    assert!(lead.cursor.is_none(), "counters without a cursor");
    let other = store.progress(Some(p2)).await.expect("progress");
    assert_eq!(
        other[0].stats,
        EntityStats::default(),
        "a cursor without counters"
    );
}
