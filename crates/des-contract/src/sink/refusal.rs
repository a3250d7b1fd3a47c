//! A target that refuses records: a real trigger in the target refuses accounts named
//! `Refuse`. The sink isolates the refused changes (the rest of the batch commits with the
//! watermark), reports each with its own id and change type, still counts a refused id as
//! seen by its resync, and a retry the trigger refuses is `Failed`, not an error.
//!
//! Not part of [`super::run_all`]: installing a trigger is dialect-specific, so each sink's
//! tests run this case with an [`Inspect`] that also implements [`Refuse`].

use std::future::Future;

use des_core::ports::{BatchOutcome, RetryOutcome, Sink};
use des_core::{BatchKind, ChangeType};

use super::{Inspect, account, accounts, apply, batch, id, retry, setup, table, upsert};

/// Installs the refusing trigger.
pub trait Refuse {
    /// From now on, inserts and updates of `des_account` rows whose `name` is `name` fail
    /// with a trigger error (SQLite `RAISE(ABORT)`, PostgreSQL `RAISE EXCEPTION`).
    fn refuse_name(&self, name: &str) -> impl Future<Output = ()> + Send;
}

pub async fn target_refusals_are_isolated<S: Sink, I: Inspect + Refuse>(sink: S, inspect: I) {
    let plan = setup(&sink).await;
    let initial = vec![upsert(1, 1, "a"), upsert(2, 2, "b"), upsert(3, 3, "c")];
    apply(&sink, &plan, batch(1, BatchKind::Initial, initial)).await;
    inspect.refuse_name("Refuse").await;

    let resync = BatchKind::Resync { first_seq: 2 };
    let changes = vec![
        upsert(1, 1, "a"),
        upsert(2, 5, "Refuse"),
        upsert(4, 6, "d"),
        upsert(5, 7, "Refuse"),
        upsert(6, 8, "f"),
    ];
    let BatchOutcome::Applied { applied, failures } =
        apply(&sink, &plan, batch(2, resync, changes)).await
    else {
        panic!("the batch commits with its refused records isolated");
    };
    assert_eq!(applied, 3);
    let mut refused: Vec<_> = failures.iter().map(|f| (f.id, f.change_type)).collect();
    refused.sort_by_key(|(id, _)| *id);
    assert_eq!(
        refused,
        [(id(2), ChangeType::Update), (id(5), ChangeType::New)]
    );
    for failure in &failures {
        assert!(failure.reason.contains("refused"), "{}", failure.reason);
    }
    let done = BatchKind::ResyncComplete { first_seq: 2 };
    apply(&sink, &plan, batch(3, done, vec![upsert(3, 3, "c")])).await;
    assert_eq!(
        sink.watermark(super::PROFILE, table(&plan))
            .await
            .expect("watermark"),
        3
    );
    assert_eq!(
        accounts(&inspect).await,
        [
            account(1, "a", 1),
            account(2, "b", 2),
            account(3, "c", 3),
            account(4, "d", 6),
            account(6, "f", 8),
        ],
        "a refused id counts as seen by its resync: its row stays, the others landed"
    );

    let refused_again = sink
        .apply_retry(&plan, table(&plan), &retry(2, upsert(5, 7, "Refuse")))
        .await
        .expect("a refused retry is an outcome, not an error");
    assert!(
        matches!(refused_again, RetryOutcome::Failed(ref f) if f.id == id(5)),
        "{refused_again:?}"
    );
    let changed = sink
        .apply_retry(&plan, table(&plan), &retry(2, upsert(5, 9, "e")))
        .await
        .expect("retry");
    assert_eq!(changed, RetryOutcome::Applied);
    assert!(accounts(&inspect).await.contains(&account(5, "e", 9)));
}
