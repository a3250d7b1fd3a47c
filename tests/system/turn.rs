//! A stream's turn cut by a deadline (`Poller::poll_until`, the Functions timer tick's loop):
//! a step still running at the deadline checkpoints nothing, a turn with time pages to the
//! end, and an error ends the turn with what was done before it.

use std::time::Duration;

use des_core::sync::SyncPhase;
use des_engine::Mode;
use des_engine::poller::{Poller, PollerOptions, StepOutcome};
use des_tests::harness::{Harness, Options};
use des_tests::target::TargetKind;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_pages_until_its_deadline_and_no_further() {
    let options = Options {
        records: 30,
        page_size: 5,
        entities: vec!["account".into()],
        target: TargetKind::Sqlite,
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let poller = Poller::new(harness.ports.clone(), PollerOptions::default());
    let stored = harness.ports.control.profile(harness.profile.id).await;
    let profile = stored.unwrap().expect("the activated profile").value;
    let spec = poller.streams(&profile).await.unwrap().remove(0);
    let phase = || async {
        let cursor = harness.ports.control.cursor(profile.id, "account").await;
        cursor.unwrap().map(|c| (c.value.phase, c.value.next_seq))
    };

    let (spent, error) = poller.poll_until(&profile, &spec, Instant::now()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(spent.steps, 0, "a deadline already passed takes no step");

    let long = Instant::now() + Duration::from_secs(60);
    let (read, error) = poller.poll_until(&profile, &spec, long).await;
    assert!(error.is_none(), "{error:?}");
    assert!(read.steps >= 7, "schema step and six pages: {read:?}");
    assert!(read.changes >= 30, "{read:?}");
    assert!(
        matches!(read.last, StepOutcome::Progressed { more: false, .. }),
        "{read:?}"
    );
    assert_eq!(phase().await.map(|p| p.0), Some(SyncPhase::Delta));

    // A change waits, and the delta step that would read it is slower than the turn.
    let id = crate::scenario::ids(&harness, "account", "accountid")[0];
    let renamed = serde_json::json!({"name": "Renamed"});
    let fields = renamed.as_object().unwrap().clone();
    harness
        .emulator
        .control()
        .update("account", id, fields)
        .unwrap();
    let before = phase().await;
    harness
        .emulator
        .control()
        .faults()
        .set_latency(Duration::from_millis(500));
    let cut_at = Instant::now() + Duration::from_millis(100);
    let (cut, error) = poller.poll_until(&profile, &spec, cut_at).await;
    harness.emulator.control().faults().clear();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(cut.steps, 0, "the slow step was cut");
    assert_eq!(phase().await, before, "a cut step checkpoints nothing");

    harness.emulator.control().faults().fail_next(5, 400);
    let (failed, error) = poller.poll_until(&profile, &spec, long).await;
    harness.emulator.control().faults().clear();
    assert!(
        error.is_some(),
        "the refused request ends the turn: {failed:?}"
    );
    assert_eq!(failed.steps, 0, "{failed:?}");
    harness.dispose().await;
}
