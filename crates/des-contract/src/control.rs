//! The [`ControlStore`] contract: conditional writes never lose an update, `update_stats` is
//! atomic, and deleting a profile removes its cursors, stats and target identity token.
//!
//! [`run_all`] runs every case, each against a fresh, empty store from `make`.

mod cursors;
mod sample;
mod stats;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use des_core::ports::{ControlStore, Precondition, StoreError};
use des_core::sync::{EntityStats, StatsDelta};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::case::run_cases;

pub use cursors::{cursor_writes_are_conditional, cursors_round_trip_per_stream};
pub use stats::{
    concurrent_stats_updates_add_up, progress_lists_every_stream, stats_fields_replace_when_set,
};

/// Read-modify-write rounds per writer in [`concurrent_writers_lose_no_update`].
const INCREMENTS_PER_WRITER: u32 = 20;

/// Runs every control store case; `make` returns a fresh, empty store for each.
pub async fn run_all<F, Fut, T>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
    T: ControlStore + 'static,
{
    run_cases!(
        "ControlStore",
        make,
        [
            organizations_round_trip,
            profile_create_must_not_exist,
            stale_etag_conflicts,
            concurrent_writers_lose_no_update,
            cursors_round_trip_per_stream,
            cursor_writes_are_conditional,
            concurrent_stats_updates_add_up,
            stats_fields_replace_when_set,
            progress_lists_every_stream,
            delete_profile_removes_cursors_and_stats,
            profiles_are_listed,
            target_tokens_belong_to_their_profile,
        ]
    );
}

/// Organizations are stored by id; putting one again replaces it.
pub async fn organizations_round_trip<T: ControlStore>(store: T) {
    assert!(
        store.organizations().await.expect("list").is_empty(),
        "a new store is empty"
    );
    let (a, mut b) = (sample::organization("alpha"), sample::organization("beta"));
    store.put_organization(&a).await.expect("put a");
    store.put_organization(&b).await.expect("put b");
    b.organization_url = "https://beta2.crm.dynamics.com".to_owned();
    b.privacy_terms_accepted = false;
    store.put_organization(&b).await.expect("replace b");
    let mut listed = store.organizations().await.expect("list");
    listed.sort_by_key(|o| o.organization_id);
    let mut expected = vec![a, b];
    expected.sort_by_key(|o| o.organization_id);
    assert_eq!(listed, expected);
}

/// `MustNotExist` creates once; a second create conflicts and leaves the first in place.
pub async fn profile_create_must_not_exist<T: ControlStore>(store: T) {
    let profile = sample::profile("first");
    assert!(store.profile(profile.id).await.expect("read").is_none());
    let etag = store
        .put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");
    let stored = store
        .profile(profile.id)
        .await
        .expect("read")
        .expect("created");
    assert_eq!((&stored.value, &stored.etag), (&profile, &etag));

    let mut second = profile.clone();
    second.name = "second".to_owned();
    let again = store.put_profile(&second, Precondition::MustNotExist).await;
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "second create: {again:?}"
    );
    let stored = store
        .profile(profile.id)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!((stored.value, stored.etag), (profile, etag));
}

/// `Match` succeeds once per etag: the write moves the etag on and the old one conflicts,
/// including against a profile that does not exist.
pub async fn stale_etag_conflicts<T: ControlStore>(store: T) {
    let mut profile = sample::profile("v1");
    let v1 = store
        .put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");
    profile.name = "v2".to_owned();
    let v2 = store
        .put_profile(&profile, Precondition::Match(v1.clone()))
        .await
        .expect("match");
    assert_ne!(v1, v2, "a write changes the etag");

    profile.name = "lost".to_owned();
    let stale = store
        .put_profile(&profile, Precondition::Match(v1.clone()))
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(_))),
        "stale etag: {stale:?}"
    );
    let stored = store
        .profile(profile.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((stored.value.name.as_str(), &stored.etag), ("v2", &v2));

    profile.name = "forced".to_owned();
    let v3 = store
        .put_profile(&profile, Precondition::None)
        .await
        .expect("unconditional");
    assert_ne!(v3, v2);
    let missing = sample::profile("missing");
    let absent = store.put_profile(&missing, Precondition::Match(v3)).await;
    assert!(
        matches!(absent, Err(StoreError::Conflict(_))),
        "match on missing: {absent:?}"
    );
    assert!(store.profile(missing.id).await.expect("read").is_none());
}

/// Two writers each increment a counter with read-modify-write under `Match`, retrying on
/// conflict; the final count has every increment.
pub async fn concurrent_writers_lose_no_update<T: ControlStore + 'static>(store: T) {
    let store = Arc::new(store);
    let mut profile = sample::profile("0");
    store
        .put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");
    let mut writers = JoinSet::new();
    for _ in 0..2 {
        let (store, id) = (Arc::clone(&store), profile.id);
        writers.spawn(async move {
            for _ in 0..INCREMENTS_PER_WRITER {
                increment_name(store.as_ref(), id).await;
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    profile = store
        .profile(profile.id)
        .await
        .expect("read")
        .expect("exists")
        .value;
    assert_eq!(profile.name, (2 * INCREMENTS_PER_WRITER).to_string());
}

async fn increment_name<T: ControlStore>(store: &T, id: Uuid) {
    loop {
        let current = store.profile(id).await.expect("read").expect("exists");
        let mut profile = current.value;
        let count: u32 = profile.name.parse().expect("the name holds the count");
        profile.name = (count + 1).to_string();
        match store
            .put_profile(&profile, Precondition::Match(current.etag))
            .await
        {
            Ok(_) => return,
            Err(StoreError::Conflict(_)) => tokio::task::yield_now().await,
            Err(error) => panic!("increment failed: {error}"),
        }
    }
}
/// Deleting a profile removes it with its cursors and stats, and leaves other profiles be.
/// An etag from before the delete does not match a re-created profile.
pub async fn delete_profile_removes_cursors_and_stats<T: ControlStore>(store: T) {
    let (gone, kept) = (sample::profile("gone"), sample::profile("kept"));
    let delta = StatsDelta {
        total: 3,
        ..Default::default()
    };
    let mut old_etag = None;
    for profile in [&gone, &kept] {
        old_etag = Some(
            store
                .put_profile(profile, Precondition::MustNotExist)
                .await
                .expect("create"),
        );
        for entity in ["account", "contact"] {
            let cursor = sample::cursor(profile.id, entity);
            store
                .put_cursor(&cursor, Precondition::None)
                .await
                .expect("cursor");
            store
                .update_stats(profile.id, entity, &delta)
                .await
                .expect("stats");
        }
    }
    store.delete_profile(gone.id).await.expect("delete");

    assert!(store.profile(gone.id).await.expect("read").is_none());
    for entity in ["account", "contact"] {
        assert!(
            store.cursor(gone.id, entity).await.expect("read").is_none(),
            "{entity} cursor"
        );
        assert_eq!(
            store.stats(gone.id, entity).await.expect("read"),
            EntityStats::default()
        );
        assert!(
            store.cursor(kept.id, entity).await.expect("read").is_some(),
            "kept cursor"
        );
        assert_eq!(
            store.stats(kept.id, entity).await.expect("read").total,
            3,
            "kept stats"
        );
    }
    assert!(store.profile(kept.id).await.expect("read").is_some());

    store.delete_profile(kept.id).await.expect("delete kept");
    store
        .put_profile(&kept, Precondition::MustNotExist)
        .await
        .expect("re-create");
    let stale = store
        .put_profile(&kept, Precondition::Match(old_etag.expect("etag")))
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict(_))),
        "pre-delete etag: {stale:?}"
    );
}

/// `profiles` lists every stored profile with the etag a single read returns.
pub async fn profiles_are_listed<T: ControlStore>(store: T) {
    assert!(
        store.profiles().await.expect("list").is_empty(),
        "a new store is empty"
    );
    let profiles = [
        sample::profile("a"),
        sample::profile("b"),
        sample::profile("c"),
    ];
    for profile in &profiles {
        store
            .put_profile(profile, Precondition::MustNotExist)
            .await
            .expect("create");
    }
    store.delete_profile(profiles[1].id).await.expect("delete");

    let listed = store.profiles().await.expect("list");
    let ids: BTreeSet<Uuid> = listed.iter().map(|p| p.value.id).collect();
    assert_eq!(ids, BTreeSet::from([profiles[0].id, profiles[2].id]));
    for entry in listed {
        let single = store
            .profile(entry.value.id)
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(entry, single);
    }
}

/// A profile's target identity token reads back as written, is replaced by the next, is
/// none for another profile, and goes with its profile.
pub async fn target_tokens_belong_to_their_profile<T: ControlStore>(store: T) {
    let (one, other) = (sample::profile("one"), sample::profile("other"));
    for profile in [&one, &other] {
        store
            .put_profile(profile, Precondition::MustNotExist)
            .await
            .expect("create");
    }
    assert_eq!(store.target_token(one.id).await.expect("read"), None);
    store.put_target_token(one.id, "first").await.expect("put");
    store
        .put_target_token(one.id, "second")
        .await
        .expect("replace");
    store.put_target_token(other.id, "kept").await.expect("put");
    assert_eq!(
        store.target_token(one.id).await.expect("read").as_deref(),
        Some("second")
    );
    store.delete_profile(one.id).await.expect("delete");
    assert_eq!(store.target_token(one.id).await.expect("read"), None);
    assert_eq!(
        store.target_token(other.id).await.expect("read").as_deref(),
        Some("kept")
    );
}
