//! What `des run` refuses or repairs: a data folder another run is using, targets that are
//! not targets, and a target that lost what the control store believes it holds (at start,
//! or a table dropped while running).

use std::time::Duration;

use crate::support::{Des, poll_until, run_to_end, target};
use crate::{SYNC_TIMEOUT, is_sync_done, sign_in};

#[test]
fn a_second_run_on_the_same_data_folder_is_refused_until_the_first_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["run", "--records", "5", "--poll-interval", "0.2"];
    let mut first = Des::spawn(dir.path(), &args);
    first.wait_for(is_sync_done, SYNC_TIMEOUT);

    let second: Vec<&str> = args.iter().copied().chain(["--api-port", "0"]).collect();
    let (ok, _, err) = run_to_end(dir.path(), &second);
    assert!(!ok, "a second run on the same folder starts");
    let pid = format!("pid {}", first.pid());
    assert!(
        err.contains("another des run") && err.contains(&pid) && err.contains("des-data"),
        "{err}"
    );

    // SIGKILL leaves the lock file behind, but not the lock.
    first.kill();
    let mut again = Des::spawn(dir.path(), &args);
    again.wait_for(|l| l.starts_with("resuming export"), SYNC_TIMEOUT);
    assert!(again.interrupt().success());
}

#[test]
fn targets_that_are_not_targets_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |target: &str, why: &str| {
        let args = ["run", "--records", "5", "--no-api", "--target", target];
        let (ok, _, err) = run_to_end(dir.path(), &args);
        assert!(!ok, "{target} accepted");
        assert!(err.contains(why), "{target}: {err}");
    };
    refused("sqlite:/dev/null", "not a regular file");
    refused("sqlite:des-data/control.db", "a file of the data folder");
    refused(
        "sqlite:./des-data/../des-data/queue.db",
        "a file of the data folder",
    );
    std::fs::write(dir.path().join("notes.txt"), "some notes").unwrap();
    refused("sqlite:notes.txt", "not a SQLite database");
    assert!(
        !dir.path().join("des-data/control.db").exists(),
        "refused before anything is opened"
    );
}

#[test]
fn a_target_deleted_between_runs_is_noticed_recreated_and_refilled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("des-data/export.db");
    let args = [
        "run",
        "--records",
        "7",
        "--entity",
        "account",
        "--poll-interval",
        "0.2",
    ];
    let mut first = Des::spawn(dir.path(), &args);
    first.wait_for(is_sync_done, SYNC_TIMEOUT);
    let (rows, _) = target::counts(&db, "account").expect("the account table");
    assert!(rows > 0);
    assert!(first.interrupt().success());

    for file in ["export.db", "export.db-wal", "export.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join("des-data").join(file));
    }
    let mut again = Des::spawn(dir.path(), &args);
    let said = again.wait_for(|l| l.starts_with("target check:"), SYNC_TIMEOUT);
    assert!(
        said.contains("account") && said.contains("resyncing"),
        "{said}"
    );
    assert!(said.contains("identity token"), "says why: {said}");
    let (back, ids) = poll_until(
        "the rows back in the new file",
        Duration::from_secs(120),
        || target::counts(&db, "account").filter(|(n, _)| *n == rows),
    );
    assert_eq!(back, ids, "no duplicate ids");
    assert!(again.interrupt().success());

    // Nothing lost this time: the next start finds the target as it left it.
    let mut third = Des::spawn(dir.path(), &args);
    third.wait_for(|l| l.starts_with("resuming export"), SYNC_TIMEOUT);
    assert!(third.interrupt().success());
    assert!(
        !third.seen.iter().any(|l| l.starts_with("target check:")),
        "{:?}",
        third.seen
    );
}

#[test]
fn a_target_deleted_while_running_is_said_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--records",
        "5",
        "--entity",
        "account",
        "--status-every",
        "0.5",
    ];
    let mut des = Des::spawn(dir.path(), &args);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    std::fs::remove_file(dir.path().join("des-data/export.db")).unwrap();
    let said = des.wait_for(
        |l| l.starts_with("warning: the target"),
        Duration::from_secs(60),
    );
    assert!(
        said.contains("export.db") && said.contains("stop and start"),
        "{said}"
    );
    assert!(des.interrupt().success());
}

/// A table dropped while `des run` runs is recreated at the next write that fails for it,
/// with a `target check:` line saying why, and refilled by a resync.
#[test]
fn a_table_dropped_while_running_is_recreated_and_refilled() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("des-data/export.db");
    let args = [
        "run",
        "--records",
        "7",
        "--entity",
        "account",
        "--poll-interval",
        "0.2",
        "--status-every",
        "0.5",
    ];
    let mut des = Des::spawn(dir.path(), &args);
    let api = sign_in(&mut des);
    des.wait_for(is_sync_done, SYNC_TIMEOUT);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        let table = target::entity_table(&conn, "account").expect("the account table");
        conn.execute_batch(&format!("DROP TABLE {table}")).unwrap();
    }
    // The next change is the write that finds the table gone.
    api.create_account("Created after the drop");
    let said = des.wait_for(|l| l.starts_with("target check:"), SYNC_TIMEOUT);
    assert!(
        said.contains("account: a write failed for a missing table") && said.contains("resyncing"),
        "{said}"
    );
    let (rows, ids) = poll_until(
        "the table recreated and refilled",
        Duration::from_secs(120),
        || target::counts(&db, "account").filter(|(n, _)| *n == 8),
    );
    assert_eq!(ids, rows, "no duplicate ids");
    assert_eq!(
        target::rows_named(&db, "account", "Created after the drop"),
        Some(1)
    );
    assert!(des.interrupt().success());
}
