//! Pacing against the emulator's service-protection limits: many callers of one client share
//! one budget, stay within the concurrency limit and do not set off a storm of 429s.

use std::sync::Arc;
use std::time::Duration;

use dataverse::{CachedToken, DataverseClient, RetryPolicy};
use dataverse_emulator::{CostModel, Emulator, EmulatorConfig, ServiceLimits, UserUsage};
use des_core::ports::PageRequest;

use crate::support::{client, config, credentials, names, read_to_end};

const READERS: usize = 8;

async fn limited(limits: ServiceLimits, base: Duration) -> Emulator {
    Emulator::start(EmulatorConfig {
        port: 0,
        records: 300,
        limits,
        cost: CostModel {
            base,
            per_row: Duration::ZERO,
        },
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

fn paced_client(emulator: &Emulator, max_concurrency: u32) -> Arc<DataverseClient> {
    let mut config = config(emulator, 50);
    config.max_concurrency = max_concurrency;
    // Retry-After of the execution-time limit can be most of the window.
    config.retry = RetryPolicy {
        max_attempts: 10,
        max_total_wait: Duration::from_secs(60),
        ..config.retry
    };
    let tokens = Arc::new(CachedToken::new(credentials(emulator)));
    Arc::new(client(config, tokens))
}

/// `READERS` full reads of `account` at once through one client; every one completes.
async fn read_in_parallel(client: &Arc<DataverseClient>) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..READERS {
        let client = Arc::clone(client);
        tasks.spawn(async move {
            let start = PageRequest::Start {
                entity_set: "accounts".to_owned(),
                select: names(&["name"]),
            };
            let (pages, _) = read_to_end(client.as_ref(), start, &names(&["name"])).await;
            pages.iter().map(|p| p.changes.len()).sum::<usize>()
        });
    }
    while let Some(read) = tasks.join_next().await {
        assert_eq!(read.expect("reader"), 300, "every reader reads every row");
    }
}

fn the_user(emulator: &Emulator) -> UserUsage {
    let usage = emulator.control().limits().usage();
    assert_eq!(usage.len(), 1, "one app user: {usage:?}");
    usage[0].clone()
}

#[tokio::test]
async fn parallel_readers_never_exceed_the_concurrency_limit() {
    let emulator = limited(
        ServiceLimits {
            concurrent: 3,
            dop_hint: 2,
            window: Duration::from_secs(60),
            ..ServiceLimits::default()
        },
        Duration::from_millis(20),
    )
    .await;
    let client = paced_client(&emulator, 3);
    read_in_parallel(&client).await;
    let seen = the_user(&emulator);
    assert!(seen.peak_in_flight <= 3, "emulator saw {seen:?}");
    assert!(
        seen.peak_in_flight >= 2,
        "readers went in parallel: {seen:?}"
    );
    assert_eq!(seen.throttled, 0, "never refused: {seen:?}");
    let paced = client.pace_stats();
    assert!(paced.peak_in_flight <= 3 && paced.limit <= 3, "{paced:?}");
}

#[tokio::test]
async fn an_execution_time_budget_is_shared_without_a_storm_of_429s() {
    // 8 readers × 7 requests × 50 ms ≈ 2.8 s of execution against 1 s per 3 s window.
    let emulator = limited(
        ServiceLimits {
            execution: Duration::from_secs(1),
            window: Duration::from_secs(3),
            dop_hint: 4,
            ..ServiceLimits::default()
        },
        Duration::from_millis(50),
    )
    .await;
    let client = paced_client(&emulator, 52);
    read_in_parallel(&client).await;
    let seen = the_user(&emulator);
    let paced = client.pace_stats();
    assert!(seen.throttled >= 1, "the budget had to bind: {seen:?}");
    assert_eq!(paced.throttled, seen.throttled, "every 429 was seen");
    // A 429 holds every caller until Retry-After, so refusals come a few per window, not one
    // per caller per try.
    assert!(
        seen.throttled <= 2 * READERS as u64,
        "a storm of 429s: {seen:?}"
    );
    assert!(seen.peak_in_flight <= 52, "{seen:?}");
}
