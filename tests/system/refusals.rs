//! The randomized convergence test against a target that refuses records: real triggers in
//! SQLite and PostgreSQL refuse chosen ids for a while, then stop. Besides the usual
//! randomized changes, duplicated and reordered deliveries and crashes, each seeded run
//! checks (issue: a target that refuses records loses nothing):
//! - every other record lands and, once the refusals stop and the refused records change
//!   again, every table equals the source (no row the source holds is missing);
//! - every failure line names a real id that was refused;
//! - the failure counters equal the failure lines (in runs with a crash, at most the lines:
//!   a crash between a line and its count leaves it uncounted, a known limit).

use std::collections::HashSet;
use std::time::Duration;

use des_engine::Mode;
use des_tests::chaos_queue::Chaos;
use des_tests::harness::{Harness, Options, wait_until};
use des_tests::target::{TargetKind, postgres_server};
use uuid::Uuid;

use crate::scenario::{SourceModel, random_change, touch};

const SEEDS: u64 = 12;
const PG_SEEDS: u64 = 6;
const ROUNDS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn converges_on_sqlite_while_triggers_refuse_records() {
    run_seeds("SQLite", SEEDS, TargetKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn converges_on_postgresql_while_triggers_refuse_records() {
    let Some(url) = postgres_server() else { return };
    run_seeds("PostgreSQL", PG_SEEDS, TargetKind::Postgres(url)).await;
}

async fn run_seeds(label: &str, seeds: u64, target: TargetKind) {
    des_tests::init_logging();
    for chunk in (0..seeds).collect::<Vec<_>>().chunks(3) {
        let mut runs = tokio::task::JoinSet::new();
        for &seed in chunk {
            let target = target.clone();
            runs.spawn(async move { (seed, run(seed, target).await) });
        }
        while let Some(joined) = runs.join_next().await {
            let (seed, result) = joined.expect("a seeded run panicked");
            if let Err(diff) = result {
                panic!("DIVERGED on {label} with refusals, seed {seed}: {diff}");
            }
        }
    }
}

async fn run(seed: u64, target: TargetKind) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let chaos = Chaos {
        duplicate: 0.3,
        max_delay: Duration::from_millis(150),
    };
    let mut options = Options {
        records: 12,
        page_size: 5,
        chaos: Some((chaos, seed)),
        target,
        ..Options::default()
    };
    options.retry.max_retry_count = rng.u32(0..3);
    let mut harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let mut runtime = harness.run();
    harness.converged(Duration::from_secs(30)).await?;
    let tables: Vec<String> = harness
        .options
        .entities
        .iter()
        .map(|e| format!("crm_{e}"))
        .collect();
    harness.target.install_refusals(&tables).await?;

    let mut model = SourceModel::default();
    let mut refused: HashSet<Uuid> = HashSet::new();
    let mut crashed = false;
    for round in 0..ROUNDS {
        for _ in 0..rng.usize(2..8) {
            let change = random_change(&harness, &mut model, &mut rng).await;
            if let Some((_, id)) = change
                && rng.u8(..10) < 3
            {
                // Refused from the change on: the change itself may already have landed.
                harness.target.refuse(&[id]).await;
                refused.insert(id);
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.u64(0..300))).await;
        if rng.u8(..10) < 2 {
            runtime.abort();
            crashed = true;
            harness.reopen().await;
            runtime = harness.run();
        }
        tracing::debug!(round, refused = refused.len(), "Round done.");
    }
    // The refusals stop; each refused record changes again and must land.
    let quiet = wait_until(Duration::from_secs(30), || async {
        harness.queue.approximate_len().await.is_ok_and(|n| n == 0)
    })
    .await;
    if !quiet {
        return Err("the queue never drained while records were refused".into());
    }
    harness.target.allow_all().await;
    let refused: Vec<Uuid> = refused.into_iter().collect();
    touch(&harness, &refused).await;
    let result = harness.converged(Duration::from_secs(40)).await;
    runtime.shutdown().await;
    result?;
    check_lines(&harness, &refused, crashed).await?;
    harness.dispose().await;
    Ok(())
}

/// Every failure line names a refused id; the counters equal the lines.
async fn check_lines(harness: &Harness, refused: &[Uuid], crashed: bool) -> Result<(), String> {
    let lines = harness.failure_lines().await;
    for line in &lines {
        let named = refused
            .iter()
            .any(|id| line.contains(&format!("RecordId: {id},")));
        if !named {
            return Err(format!("a failure line names no refused record: {line}"));
        }
    }
    let status = des_engine::admin::status(&harness.ports, harness.profile.id)
        .await
        .map_err(|e| e.to_string())?;
    let counted: u64 = status.iter().map(|s| s.failure_notifications).sum();
    let lines_n = lines.len() as u64;
    if counted != lines_n && !(crashed && counted < lines_n) {
        return Err(format!(
            "FailureNotifications {counted} != {} failure lines",
            lines.len()
        ));
    }
    Ok(())
}
