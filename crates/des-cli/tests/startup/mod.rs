//! Start-up is as patient as steady state: a throttled environment is waited for (and said
//! to be throttled, not refused), and the first SIGTERM during those waits stops at once.

use std::time::Duration;

use serde_json::json;

use crate::authority::{EmulatorProcess, run_against};
use crate::support::poll_until;
use crate::{SYNC_TIMEOUT, is_sync_done};

#[test]
fn a_throttled_start_waits_says_throttled_and_goes_on() {
    let emulator = EmulatorProcess::start();
    // More 429s than the client's own eight tries of one request.
    emulator.faults(json!({"throttle_next": 11, "retry_after_secs": 1}));
    let dir = tempfile::tempdir().unwrap();
    let mut des = run_against(&emulator, dir.path());
    let waiting = des.wait_for(|l| l.starts_with("Dataverse is "), SYNC_TIMEOUT);
    assert!(
        waiting.contains("throttled") && waiting.contains("signing in"),
        "{waiting}"
    );
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    assert!(
        !des.seen.iter().any(|l| l.contains("cannot sign in")),
        "{:?}",
        des.seen
    );
    assert!(des.interrupt().success());
}

#[test]
fn the_first_sigterm_during_start_up_waits_stops_at_once() {
    let emulator = EmulatorProcess::start();
    // Each 429 asks for two minutes: longer than `terminate` waits for the exit.
    emulator.faults(json!({"throttle_next": 1000, "retry_after_secs": 120}));
    let dir = tempfile::tempdir().unwrap();
    let mut des = run_against(&emulator, dir.path());
    let log = dir.path().join(format!("des-{}.log", std::process::id()));
    poll_until("des waiting out a 429", Duration::from_secs(120), || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.contains("Retrying a Dataverse request").then_some(())
    });
    assert!(des.terminate().success(), "a clean exit");
    assert!(
        des.seen.iter().any(|l| l == "stopped during start-up"),
        "{:?}",
        des.seen
    );
}
