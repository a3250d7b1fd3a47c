//! The engine's state in the target belongs to a profile: two profiles writing one target
//! (two data folders, or a control store deleted and recreated, which makes a new profile
//! id) each keep their own watermark, tombstones and resync marks, so the later one does its
//! own initial sync and applies its own deletes. Identity tokens are kept per profile too.

use des_core::ports::{BatchOutcome, Sink};
use des_core::{BatchKind, Change};
use uuid::Uuid;

use super::{Inspect, PROFILE, account, accounts, applied, apply, batch, id, setup, table, upsert};

/// A second profile on the same target.
const OTHER: Uuid = Uuid::from_u128(0xB);

fn of(profile: Uuid, mut b: des_core::Batch) -> des_core::Batch {
    b.stream.profile_id = profile;
    b
}

pub async fn each_profile_has_its_own_state<S: Sink, I: Inspect>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let first = vec![upsert(1, 1, "a"), upsert(2, 2, "b"), upsert(3, 3, "c")];
    apply(&sink, &plan, batch(1, BatchKind::Initial, first)).await;
    let delete = vec![Change::Delete(id(2))];
    apply(&sink, &plan, batch(2, BatchKind::Delta, delete)).await;
    let watermark = |p| sink.watermark(p, table(&plan));
    assert_eq!(watermark(OTHER).await.expect("watermark"), 0, "not shared");

    // The second profile's initial sync is applied, not taken for a duplicate.
    let initial = vec![upsert(1, 1, "a"), upsert(3, 3, "c"), upsert(4, 4, "d")];
    let outcome = apply(
        &sink,
        &plan,
        of(OTHER, batch(1, BatchKind::Initial, initial)),
    )
    .await;
    assert_eq!(outcome, applied(3));
    let early = of(OTHER, batch(3, BatchKind::Delta, vec![upsert(5, 5, "e")]));
    assert_eq!(
        apply(&sink, &plan, early).await,
        BatchOutcome::OutOfOrder { watermark: 1 },
        "its own watermark orders its batches"
    );
    // Its explicit delete applies, and it can write a row the first profile deleted.
    let changes = vec![Change::Delete(id(3)), upsert(2, 6, "b2")];
    let outcome = apply(&sink, &plan, of(OTHER, batch(2, BatchKind::Delta, changes))).await;
    assert_eq!(outcome, applied(2));
    let expected = [account(1, "a", 1), account(2, "b2", 6), account(4, "d", 4)];
    assert_eq!(accounts(&inspect).await, expected);

    // Its resync sweeps by its own marks; the first profile's watermark never moved.
    let resync = BatchKind::Resync { first_seq: 3 };
    let seen = vec![upsert(1, 1, "a"), upsert(2, 6, "b2")];
    apply(&sink, &plan, of(OTHER, batch(3, resync, seen))).await;
    let complete = BatchKind::ResyncComplete { first_seq: 3 };
    apply(&sink, &plan, of(OTHER, batch(4, complete, Vec::new()))).await;
    let expected = [account(1, "a", 1), account(2, "b2", 6)];
    assert_eq!(accounts(&inspect).await, expected, "4 is swept");
    assert_eq!(watermark(PROFILE).await.expect("watermark"), 2);
    assert_eq!(watermark(OTHER).await.expect("watermark"), 4);
    let next = batch(3, BatchKind::Delta, vec![upsert(4, 7, "d2")]);
    assert_eq!(apply(&sink, &plan, next).await, applied(1));
}

pub async fn identity_tokens_are_kept_per_profile<S: Sink, I: Inspect>(sink: S, _inspect: I) {
    let _plan = setup(&sink).await;
    let first = sink.identify(PROFILE, "token-1").await.expect("identifies");
    assert_eq!(first, None, "a new target holds no token");
    let again = sink.identify(PROFILE, "token-1").await.expect("identifies");
    assert_eq!(again.as_deref(), Some("token-1"));
    let other = sink.identify(OTHER, "token-b").await.expect("identifies");
    assert_eq!(other, None, "another profile's token is its own");
    let replaced = sink.identify(PROFILE, "token-2").await.expect("identifies");
    assert_eq!(replaced.as_deref(), Some("token-1"));
    let kept = sink.identify(OTHER, "token-b").await.expect("identifies");
    assert_eq!(kept.as_deref(), Some("token-b"));
}

/// An empty batch of `profile`'s account stream at `seq`: it moves the watermark only.
pub fn empty_batch(profile: Uuid, seq: u64) -> des_core::Batch {
    des_core::Batch {
        stream: des_core::StreamId {
            profile_id: profile,
            entity: "account".into(),
        },
        seq,
        kind: BatchKind::Delta,
        columns: Vec::new(),
        changes: Vec::new(),
        read_at: time::OffsetDateTime::now_utc(),
    }
}

/// After a migration that gave `profile` the watermark `seq - 1`: its next batch applies,
/// and `other`'s state starts from nothing.
pub async fn moved_state_is_only_the_first_profiles<S: Sink>(
    sink: &S,
    plan: &des_core::schema::SchemaPlan,
    table: &des_core::schema::TableDef,
    (profile, other): (Uuid, Uuid),
    seq: u64,
) {
    let next = sink
        .apply_batch(plan, table, &empty_batch(profile, seq))
        .await;
    assert!(matches!(next, Ok(BatchOutcome::Applied { .. })), "{next:?}");
    let theirs = sink
        .apply_batch(plan, table, &empty_batch(other, seq))
        .await;
    assert_eq!(
        theirs.expect("answers"),
        BatchOutcome::OutOfOrder { watermark: 0 }
    );
}
