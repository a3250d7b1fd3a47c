//! The one-step functions, driven directly: `Poller::step` / `poll_stream` and
//! `Applier::apply_one`, as the Functions handlers call them.

use std::time::Duration;

use des_core::ports::{BatchOutcome, Sink};
use des_core::profile::Profile;
use des_engine::Mode;
use des_engine::applier::{Applier, ApplierOptions, ApplyOutcome};
use des_engine::message::{BatchEnvelope, WorkMessage};
use des_engine::plan::{PlanCache, stream_table};
use des_engine::poller::{PollReport, Poller, PollerOptions, StepOutcome};
use des_engine::streams::StreamSpec;

use super::{CONVERGE, ids};
use des_tests::harness::{Harness, Options};

/// An applier committed a batch and crashed before it settled the batch's record failures;
/// the redelivered message finds the batch applied (`Duplicate`) and still settles them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_committed_by_a_crashed_applier_still_gets_its_failures_settled() {
    let mut options = Options {
        records: 6,
        entities: vec!["account".into()],
        ..Options::default()
    };
    options.retry.max_retry_count = 0;
    let harness = Harness::start(options).await;
    let victim = ids(&harness, "account")[2];
    harness.sink.fail_records([victim]);
    harness.activate(Mode::All).await;
    let ports = harness.ports.clone();
    let (poller, profile, spec, report) = poll_first_stream(&harness).await;
    assert_eq!((report.batches, report.changes), (1, 6));
    assert_eq!(
        poller.step(&profile, &spec).await.unwrap(),
        StepOutcome::Idle
    );

    // The first holder: receives, commits in the sink, and is gone.
    let first = harness
        .queue
        .receive(1, Duration::from_millis(200))
        .await
        .unwrap()
        .remove(0);
    let WorkMessage::Batch { key, plan_key, .. } = WorkMessage::decode(&first.body).unwrap() else {
        panic!("a batch message");
    };
    let envelope =
        BatchEnvelope::decode(&ports.payloads.get(&key).await.unwrap().unwrap()).unwrap();
    let plan = PlanCache::default()
        .get(ports.payloads.as_ref(), &plan_key)
        .await
        .unwrap();
    let table = stream_table(&plan, "account").unwrap();
    let outcome = harness
        .sink
        .apply_batch(&plan, table, &envelope.batch)
        .await
        .unwrap();
    assert!(
        matches!(outcome, BatchOutcome::Applied { applied: 5, ref failures } if failures.len() == 1)
    );

    let deadline = std::time::Instant::now() + CONVERGE;
    let redelivered = loop {
        let got = harness
            .queue
            .receive(1, Duration::from_secs(5))
            .await
            .unwrap();
        if let Some(delivery) = got.into_iter().next() {
            break delivery;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the message comes back after its visibility"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(redelivered.dequeue_count, 2);
    let applier = Applier::new(ports.clone(), ApplierOptions::default());
    assert_eq!(
        applier.apply_one(&redelivered).await.unwrap(),
        ApplyOutcome::Duplicate
    );

    let lines = harness.failure_lines().await;
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with(&format!("Entity: account, RecordId: {victim}, ")));
    assert_eq!(ports.queue.approximate_len().await.unwrap(), 0, "settled");
    assert!(
        ports.payloads.get(&key).await.unwrap().is_none(),
        "payload deleted after apply"
    );
}

/// Two applier loops holding consecutive batches of one stream: the later batch, started
/// first, waits for the earlier one held in the same process instead of bouncing off the
/// sink as an early arrival (which would release it for the out-of-order delay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_batch_held_by_another_loop_waits_its_turn_instead_of_being_released() {
    let options = Options {
        records: 30,
        entities: vec!["account".into()],
        page_size: 10,
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let ports = harness.ports.clone();
    let (_, _, _, report) = poll_first_stream(&harness).await;
    assert_eq!((report.batches, report.changes), (3, 30));

    let mut received = harness
        .queue
        .receive(3, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(received.len(), 3);
    received.sort_by_key(|d| match WorkMessage::decode(&d.body).unwrap() {
        WorkMessage::Batch { seq, .. } => seq,
        WorkMessage::Retry { .. } => panic!("a batch message"),
    });
    let first = received.remove(0);
    let applier = std::sync::Arc::new(Applier::new(ports.clone(), ApplierOptions::default()));
    // Loop B admits seqs 2 and 3 (the admit orders them) and starts at once.
    let later = applier.admit(received);
    let mut held = applier.admit(vec![first]);
    let loop_b = {
        let applier = std::sync::Arc::clone(&applier);
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for (delivery, ticket) in later {
                outcomes.push(applier.apply_admitted(&delivery, ticket.as_ref()).await);
            }
            outcomes
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!loop_b.is_finished(), "seq 2 did not wait for seq 1");
    let (delivery, ticket) = held.remove(0);
    let outcome = applier.apply_admitted(&delivery, ticket.as_ref()).await;
    assert!(matches!(outcome, Ok(ApplyOutcome::Applied { seq: 1, .. })));
    drop(ticket);

    let outcomes = tokio::time::timeout(CONVERGE, loop_b)
        .await
        .unwrap()
        .unwrap();
    let seqs: Vec<u64> = outcomes
        .into_iter()
        .map(|o| match o {
            Ok(ApplyOutcome::Applied { seq, .. }) => seq,
            other => panic!("expected applied, got {other:?}"),
        })
        .collect();
    assert_eq!(seqs, vec![2, 3]);
    assert_eq!(
        super::count(&harness, "SELECT count(*) FROM \"crm_account\""),
        30
    );
    assert_eq!(
        ports.queue.approximate_len().await.unwrap(),
        0,
        "all settled"
    );
}

/// Polls the profile's first stream until it has nothing more to read right away.
pub(super) async fn poll_first_stream(
    harness: &Harness,
) -> (Poller, Profile, StreamSpec, PollReport) {
    let ports = harness.ports.clone();
    let profile = ports
        .control
        .profile(harness.profile.id)
        .await
        .unwrap()
        .unwrap()
        .value;
    let poller = Poller::new(ports, PollerOptions::default());
    let spec = poller.streams(&profile).await.unwrap().remove(0);
    let report = poller.poll_stream(&profile, &spec, 10).await.unwrap();
    (poller, profile, spec, report)
}
