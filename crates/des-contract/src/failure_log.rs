//! The [`FailureLog`] contract: lines come back formatted, in append order, never changed,
//! with nothing lost to concurrent appends, and each profile's log is its own.

use std::future::Future;
use std::sync::Arc;

use des_core::ports::FailureLog;
use des_core::{ChangeType, FailureLine};
use time::macros::datetime;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::case::run_cases;

/// Tasks, appends per task and lines per append in [`concurrent_appends_lose_nothing`].
const TASKS: usize = 6;
const APPENDS_PER_TASK: usize = 8;
const LINES_PER_APPEND: usize = 3;

/// Runs every failure log case; `make` returns a fresh, empty log for each.
pub async fn run_all<F, Fut, T>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = T>,
    T: FailureLog + 'static,
{
    run_cases!(
        "FailureLog",
        make,
        [
            append_then_read_in_order,
            lines_never_change,
            concurrent_appends_lose_nothing,
            profiles_are_separate,
        ]
    );
}

fn line(entity: &str, reason: &str) -> FailureLine {
    FailureLine {
        entity: entity.to_owned(),
        record_id: Some(Uuid::new_v4()),
        notification_time: Some(datetime!(2026-05-06 17:08:09 UTC)),
        change_type: ChangeType::Update,
        reason: reason.to_owned(),
    }
}

fn formatted(lines: &[FailureLine]) -> Vec<String> {
    lines.iter().map(FailureLine::format).collect()
}

/// Lines come back as `FailureLine::format` prints them, one per entry, in append order.
pub async fn append_then_read_in_order<T: FailureLog>(log: T) {
    let profile = Uuid::new_v4();
    assert!(
        log.read_all(profile).await.expect("read").is_empty(),
        "a new log is empty"
    );
    let first = [
        line("account", "String or binary data would be truncated."),
        {
            let mut entity_level = line("lead", "There is already an object named 'crm_lead'.");
            (entity_level.record_id, entity_level.notification_time) = (None, None);
            entity_level.change_type = ChangeType::TriggerInitialExport;
            entity_level
        },
    ];
    let second = [line("contact", "a reason\nover two lines")];
    log.append(profile, &first).await.expect("append");
    log.append(profile, &[]).await.expect("append nothing");
    log.append(profile, &second).await.expect("append");
    let expected: Vec<String> = formatted(&first)
        .into_iter()
        .chain(formatted(&second))
        .collect();
    assert_eq!(log.read_all(profile).await.expect("read"), expected);
}

/// Appending never alters what was read before: earlier reads stay a prefix.
pub async fn lines_never_change<T: FailureLog>(log: T) {
    let profile = Uuid::new_v4();
    let mut previous: Vec<String> = Vec::new();
    for round in 0..4 {
        let batch = [
            line("account", &format!("round {round} a")),
            line("account", "same text"),
        ];
        log.append(profile, &batch).await.expect("append");
        let now = log.read_all(profile).await.expect("read");
        assert_eq!(
            now.len(),
            previous.len() + batch.len(),
            "round {round} line count"
        );
        assert_eq!(
            now[..previous.len()],
            previous[..],
            "round {round} changed earlier lines"
        );
        assert_eq!(now[previous.len()..], formatted(&batch)[..]);
        previous = now;
    }
}

/// Concurrent appends lose nothing; each keeps its lines together and each task's appends
/// keep their order.
pub async fn concurrent_appends_lose_nothing<T: FailureLog + 'static>(log: T) {
    let log = Arc::new(log);
    let profile = Uuid::new_v4();
    let mut tasks = JoinSet::new();
    for task in 0..TASKS {
        let log = Arc::clone(&log);
        tasks.spawn(async move {
            for append in 0..APPENDS_PER_TASK {
                let batch: Vec<FailureLine> = (0..LINES_PER_APPEND)
                    .map(|n| line("account", &format!("task {task} append {append} line {n}")))
                    .collect();
                log.append(profile, &batch).await.expect("append");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("append task");
    }
    let lines = log.read_all(profile).await.expect("read");
    assert_eq!(
        lines.len(),
        TASKS * APPENDS_PER_TASK * LINES_PER_APPEND,
        "lines lost"
    );
    for chunk in lines.chunks(LINES_PER_APPEND) {
        let append = reason_prefix(&chunk[0]);
        assert!(
            chunk.iter().all(|l| reason_prefix(l) == append),
            "an append was split"
        );
    }
    for task in 0..TASKS {
        let mine = format!("task {task} append ");
        let reasons: Vec<&str> = lines
            .iter()
            .map(|l| reason_of(l))
            .filter(|r| r.starts_with(&mine))
            .collect();
        let expected: Vec<String> = (0..APPENDS_PER_TASK)
            .flat_map(|a| (0..LINES_PER_APPEND).map(move |n| (a, n)))
            .map(|(a, n)| format!("{mine}{a} line {n}"))
            .collect();
        assert_eq!(reasons, expected, "task {task} lines out of order");
    }
}

fn reason_of(formatted: &str) -> &str {
    formatted
        .split_once("FailureReason: ")
        .map_or("", |(_, reason)| reason)
}

/// `task T append A`: which append call a line came from.
fn reason_prefix(formatted: &str) -> &str {
    let reason = reason_of(formatted);
    reason
        .rsplit_once(" line ")
        .map_or(reason, |(prefix, _)| prefix)
}

/// Each profile reads back only its own lines.
pub async fn profiles_are_separate<T: FailureLog>(log: T) {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let (for_a, for_b) = ([line("account", "for a")], [line("contact", "for b")]);
    log.append(a, &for_a).await.expect("append a");
    log.append(b, &for_b).await.expect("append b");
    assert_eq!(log.read_all(a).await.expect("read a"), formatted(&for_a));
    assert_eq!(log.read_all(b).await.expect("read b"), formatted(&for_b));
    assert!(
        log.read_all(Uuid::new_v4())
            .await
            .expect("read other")
            .is_empty()
    );
}
