//! What the poller asks of Dataverse: every request costs the app user's service-protection
//! budget at least a page's base time, so the one-off requests of a stream's start are few.

use dataverse_emulator::ServiceLimits;
use des_core::profile::Profile;
use des_engine::Mode;
use des_engine::poller::{Poller, PollerOptions, StepOutcome};
use des_tests::harness::{Harness, Options};

/// Streams planned at once share one read of the global option sets, each entity's metadata
/// (the entity and its casts' `$batch`) is read once, and a stream's first page follows its
/// plan without reading the metadata again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_starts_with_its_metadata_read_once_and_the_option_sets_shared() {
    let options = Options {
        records: 6,
        entities: vec!["account".into(), "contact".into(), "new_project".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let limits = harness.emulator.control().limits();
    // Counted, never refused: the service's own limits are far above this test's requests.
    limits.set(ServiceLimits {
        enabled: true,
        ..ServiceLimits::default()
    });
    let profile = stored_profile(&harness).await;
    let poller = Poller::new(harness.ports.clone(), PollerOptions::default());
    let specs = poller.streams(&profile).await.unwrap();
    assert_eq!(specs.len(), 3);

    limits.reset();
    let planned = tokio::join!(
        poller.step(&profile, &specs[0]),
        poller.step(&profile, &specs[1]),
        poller.step(&profile, &specs[2]),
    );
    for outcome in [planned.0, planned.1, planned.2] {
        assert!(
            matches!(outcome, Ok(StepOutcome::Progressed { .. })),
            "{outcome:?}"
        );
    }
    assert_eq!(
        requests(&limits),
        3 * 2 + 1,
        "3 entities and their casts, 1 option set read"
    );

    limits.reset();
    for spec in &specs {
        let outcome = poller.step(&profile, spec).await.unwrap();
        assert!(
            matches!(
                outcome,
                StepOutcome::Progressed {
                    changes: 6,
                    more: false,
                    ..
                }
            ),
            "{outcome:?}"
        );
    }
    assert_eq!(requests(&limits), 3, "one page each, no metadata again");
    harness.dispose().await;
}

async fn stored_profile(harness: &Harness) -> Profile {
    let id = harness.profile.id;
    harness
        .ports
        .control
        .profile(id)
        .await
        .unwrap()
        .unwrap()
        .value
}

fn requests(limits: &dataverse_emulator::Limiter) -> u64 {
    limits.usage().iter().map(|u| u.total_requests).sum()
}
