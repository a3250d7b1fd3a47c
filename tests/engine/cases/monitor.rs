//! `monitor::figures`: pending batches and lag come from the payloads still stored between the
//! first unapplied `seq` and the cursor, and go to zero once the applier has caught up.

use std::time::{Duration, Instant};

use des_engine::Mode;
use des_engine::applier::{Applier, ApplierOptions};
use des_engine::monitor::{StreamFigures, figures};

use super::CONVERGE;
use des_tests::harness::{Harness, Options};

async fn account_figures(harness: &Harness) -> StreamFigures {
    let ports = &harness.ports;
    let profile = ports
        .control
        .profile(harness.profile.id)
        .await
        .unwrap()
        .unwrap();
    let all = figures(ports, &profile.value).await.unwrap();
    all.into_iter()
        .find(|f| f.entity == "account")
        .expect("account figures")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_batches_and_lag_follow_the_applier() {
    let options = Options {
        records: 30,
        entities: vec!["account".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let (_, _, _, report) = super::steps::poll_first_stream(&harness).await;
    assert_eq!((report.batches, report.changes), (3, 30));

    let waiting = account_figures(&harness).await;
    assert_eq!(waiting.pending_batches, 3);
    assert_eq!((waiting.rows_read, waiting.rows_applied), (30, 0));
    assert!(
        waiting.lag_seconds.is_some_and(|lag| lag > 0.0),
        "{waiting:?}"
    );

    let applier = Applier::new(harness.ports.clone(), ApplierOptions::default());
    let deadline = Instant::now() + CONVERGE;
    while account_figures(&harness).await.pending_batches > 0 {
        assert!(Instant::now() < deadline, "the applier catches up");
        let deliveries = harness
            .queue
            .receive(4, Duration::from_secs(5))
            .await
            .unwrap();
        for delivery in deliveries {
            applier.apply_one(&delivery).await.unwrap();
        }
    }
    let caught_up = account_figures(&harness).await;
    assert_eq!(caught_up.rows_applied, 30);
    assert_eq!(caught_up.lag_seconds, Some(0.0));
    assert!(caught_up.last_sync.is_some());

    des_engine::admin::deactivate(&harness.ports, harness.profile.id)
        .await
        .unwrap();
    assert_eq!(
        account_figures(&harness).await.lag_seconds,
        None,
        "no lag when not replicating"
    );
    harness.dispose().await;
}
