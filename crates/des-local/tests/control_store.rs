use std::path::PathBuf;

use des_contract::control;
use des_core::ports::{ControlStore, Precondition, StoreError};
use des_core::profile::Profile;
use des_local::SqliteControlStore;
use tempfile::TempDir;
use uuid::Uuid;

async fn open(path: PathBuf) -> SqliteControlStore {
    SqliteControlStore::open(path)
        .await
        .expect("open control store")
}

fn file(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn profile() -> Profile {
    let json = serde_json::json!({
        "Id": Uuid::new_v4(), "Name": "local", "Version": "1", "State": "Active",
        "OrganizationId": Uuid::new_v4(), "OrganizationUrl": "https://contoso.crm.dynamics.com",
        "Entities": [{"Type": "account"}], "DestinationType": "sqlite",
        "DestinationKeyVaultUri": "local:target", "DestinationPrefix": "crm",
        "DestinationSchemaName": "main",
        "RetryPolicy": {"MaxRetryCount": 3, "IntervalInSeconds": 5},
        "WriteDeleteLog": true,
        "CreatedOn": "2026-01-01T00:00:00Z", "ModifiedOn": "2026-01-01T00:00:00Z"
    });
    serde_json::from_value(json).expect("sample profile")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_control_store_passes_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    control::run_all(|| open(file(&dir, &format!("control-{}.db", Uuid::new_v4())))).await;
}

#[tokio::test]
async fn profiles_and_etags_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = profile();
    let etag = {
        let store = open(file(&dir, "control.db")).await;
        store
            .put_profile(&profile, Precondition::MustNotExist)
            .await
            .expect("create")
    };
    let store = open(file(&dir, "control.db")).await;
    let stored = store
        .profile(profile.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!((stored.value, &stored.etag), (profile.clone(), &etag));
    store
        .put_profile(&profile, Precondition::Match(etag))
        .await
        .expect("old etag still valid");
}

/// Two connections to one file behave like two processes: the slower writer conflicts.
#[tokio::test]
async fn two_connections_to_one_file_cannot_both_win() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (
        open(file(&dir, "shared.db")).await,
        open(file(&dir, "shared.db")).await,
    );
    let mut profile = profile();
    a.put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");
    let seen_by_a = a
        .profile(profile.id)
        .await
        .expect("read")
        .expect("exists")
        .etag;
    let seen_by_b = b
        .profile(profile.id)
        .await
        .expect("read")
        .expect("exists")
        .etag;
    profile.name = "a".to_owned();
    a.put_profile(&profile, Precondition::Match(seen_by_a))
        .await
        .expect("a wins");
    profile.name = "b".to_owned();
    let lost = b
        .put_profile(&profile, Precondition::Match(seen_by_b))
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "b: {lost:?}");
    let stored = b.profile(profile.id).await.expect("read").expect("exists");
    assert_eq!(stored.value.name, "a");
}

#[tokio::test]
async fn a_foreign_etag_conflicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(file(&dir, "control.db")).await;
    let profile = profile();
    store
        .put_profile(&profile, Precondition::MustNotExist)
        .await
        .expect("create");
    let etag = des_core::ports::Etag("\"0x8DC0000000000\"".to_owned());
    let result = store.put_profile(&profile, Precondition::Match(etag)).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
}

/// A `control.db` from before the operator hint opens with the hint column added, keeping
/// its counters.
#[tokio::test]
async fn a_control_store_from_before_the_hint_column_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = file(&dir, "control.db");
    let (profile_id, entity) = (Uuid::new_v4(), "account");
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch(
            r#"CREATE TABLE "stats" (
                "profile_id" TEXT NOT NULL, "entity" TEXT NOT NULL,
                "total" INTEGER NOT NULL, "success" INTEGER NOT NULL, "failure" INTEGER NOT NULL,
                "last_export_date" TEXT, "last_export_status" TEXT,
                "metadata_state" TEXT, "initial_sync_state" TEXT,
                PRIMARY KEY ("profile_id", "entity"));"#,
        )
        .expect("old schema");
        conn.execute(
            r#"INSERT INTO "stats" VALUES (?1, ?2, 3, 2, 1, NULL, 'Success', NULL, NULL)"#,
            [profile_id.to_string(), entity.to_owned()],
        )
        .expect("old row");
    }
    let store = open(path.clone()).await;
    let delta = des_core::sync::StatsDelta {
        hint: Some(Some("fix the target".into())),
        ..Default::default()
    };
    store
        .update_stats(profile_id, entity, &delta)
        .await
        .expect("update");
    let stats = store.stats(profile_id, entity).await.expect("stats");
    assert_eq!((stats.total, stats.failure), (3, 1));
    assert_eq!(stats.hint.as_deref(), Some("fix the target"));
    drop(store);
    // Opening again does not add it twice.
    let store = open(path).await;
    assert_eq!(
        store.stats(profile_id, entity).await.expect("stats").hint,
        stats.hint
    );
}

/// The names `profiles()` lists, by id order.
async fn listed_names(store: &SqliteControlStore) -> Vec<String> {
    let listed = store.profiles().await.expect("list");
    listed.into_iter().map(|p| p.value.name).collect()
}

/// The listing is parsed once per change, and every change shows, whoever wrote it: an
/// update, a delete, a delete followed by a create, each by another connection (another
/// process) to the same file.
#[tokio::test]
async fn every_write_shows_in_the_next_listing_even_from_another_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = open(file(&dir, "control.db")).await;
    let writer = open(file(&dir, "control.db")).await;
    let (mut first, mut second) = (profile(), profile());
    (first.name, second.name) = ("first".into(), "second".into());
    for p in [&first, &second] {
        writer
            .put_profile(p, Precondition::MustNotExist)
            .await
            .expect("create");
    }
    let sorted = |mut names: Vec<&str>| {
        let mut ids = [(first.id, "first"), (second.id, "second")];
        ids.sort();
        names.sort_by_key(|n| ids.iter().position(|(_, m)| m == n));
        names.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(listed_names(&reader).await, sorted(vec!["first", "second"]));
    assert_eq!(
        listed_names(&reader).await,
        sorted(vec!["first", "second"]),
        "from the cache"
    );
    first.name = "renamed".into();
    writer
        .put_profile(&first, Precondition::None)
        .await
        .expect("update");
    let names = listed_names(&reader).await;
    assert!(names.contains(&"renamed".to_owned()), "{names:?}");
    writer.delete_profile(second.id).await.expect("delete");
    assert_eq!(listed_names(&reader).await, ["renamed"]);
    // A delete and a create in between two listings: the same count, a higher version.
    writer.delete_profile(first.id).await.expect("delete");
    let mut third = profile();
    third.name = "third".into();
    writer
        .put_profile(&third, Precondition::MustNotExist)
        .await
        .expect("create");
    assert_eq!(listed_names(&reader).await, ["third"]);
}
