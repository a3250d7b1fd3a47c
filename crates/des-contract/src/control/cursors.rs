//! Cursor cases: one cursor per (profile, entity), written under preconditions.

use des_core::ports::{ControlStore, Precondition, StoreError};
use uuid::Uuid;

use super::sample;

/// Cursors are keyed by (profile, entity): each stream keeps its own.
pub async fn cursors_round_trip_per_stream<T: ControlStore>(store: T) {
    let (p1, p2) = (Uuid::new_v4(), Uuid::new_v4());
    let cursors = [
        sample::cursor(p1, "account"),
        sample::cursor(p1, "contact"),
        sample::cursor(p2, "account"),
    ];
    assert!(store.cursor(p1, "account").await.expect("read").is_none());
    let mut etags = Vec::new();
    for (next_seq, cursor) in (1u64..).zip(&cursors) {
        let mut cursor = cursor.clone();
        cursor.next_seq = next_seq * 10;
        etags.push((
            cursor.clone(),
            store.put_cursor(&cursor, Precondition::None).await,
        ));
    }
    for (cursor, etag) in etags {
        let stream = &cursor.stream;
        let stored = store
            .cursor(stream.profile_id, &stream.entity)
            .await
            .expect("read");
        let stored = stored.unwrap_or_else(|| panic!("cursor {stream} was stored"));
        assert_eq!((stored.value, stored.etag), (cursor, etag.expect("put")));
    }
}

/// Cursor writes honour their precondition like profile writes.
pub async fn cursor_writes_are_conditional<T: ControlStore>(store: T) {
    let mut cursor = sample::cursor(Uuid::new_v4(), "account");
    let (profile_id, entity) = (cursor.stream.profile_id, cursor.stream.entity.clone());
    let v1 = store
        .put_cursor(&cursor, Precondition::MustNotExist)
        .await
        .expect("create");
    let again = store.put_cursor(&cursor, Precondition::MustNotExist).await;
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "second create: {again:?}"
    );

    cursor.next_seq = 2;
    let v2 = store
        .put_cursor(&cursor, Precondition::Match(v1.clone()))
        .await
        .expect("match");
    assert_ne!(v1, v2);
    let mut stale = cursor.clone();
    stale.next_seq = 99;
    let lost = store.put_cursor(&stale, Precondition::Match(v1)).await;
    assert!(
        matches!(lost, Err(StoreError::Conflict(_))),
        "stale etag: {lost:?}"
    );
    let stored = store
        .cursor(profile_id, &entity)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!((stored.value, stored.etag), (cursor, v2));
}
