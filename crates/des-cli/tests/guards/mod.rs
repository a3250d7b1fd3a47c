//! What `des run` refuses at start: a data folder another run is using, and targets that
//! are not targets.

use crate::support::{Des, run_to_end};
use crate::{SYNC_TIMEOUT, is_sync_done};

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
