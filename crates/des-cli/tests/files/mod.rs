//! `des run` keeps its data folder private: a new folder is 0700 and what it creates in it
//! 0600; an existing entry other users may read is warned about.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::Des;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn run_creates_its_data_folder_private_and_warns_about_open_entries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("des-data");
    let args = ["run", "--records", "5", "--status-every", "1"];
    let mut des = Des::spawn(dir.path(), &args);
    des.wait_for(
        |l| l.starts_with("initial sync complete"),
        Duration::from_secs(180),
    );
    assert!(des.interrupt().success());
    assert_eq!(mode(&data), 0o700, "the data folder");
    for file in ["control.db", "queue.db", "export.db", "api-link.key"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(
        !des.seen.iter().any(|l| l.starts_with("warning:")),
        "{:?}",
        des.seen
    );

    // Opened up by hand (or made by an older version): each is named on the next start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let queue = data.join("queue.db");
    std::fs::set_permissions(&queue, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut again = Des::spawn(dir.path(), &args);
    let folder = again.wait_for(
        |l| l.starts_with("warning:") && l.contains("mode 755"),
        Duration::from_secs(60),
    );
    assert!(
        folder.contains("des-data") && folder.contains("chmod 700"),
        "{folder}"
    );
    let file = again.wait_for(
        |l| l.contains("queue.db may be read"),
        Duration::from_secs(60),
    );
    assert!(
        file.contains("mode 644") && file.contains("chmod 600"),
        "{file}"
    );
    assert!(again.interrupt().success());
}

/// A Ctrl-C as soon as `des` has printed anything stops it cleanly, even when it was started
/// with SIGINT ignored (a background command of a shell without job control): the signal is
/// taken over before the first line.
#[test]
fn a_ctrl_c_right_after_the_first_line_stops_des_started_with_it_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("des-data");
    std::fs::create_dir(&data).unwrap();
    // An open folder makes `des` warn at once, before any other step of its start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let args = ["run", "--records", "5", "--status-every", "1"];
    for _ in 0..5 {
        let mut des = Des::spawn_ignoring_interrupt(dir.path(), &args);
        des.wait_for(|l| l.starts_with("warning:"), Duration::from_secs(60));
        assert!(des.interrupt().success(), "{:?}", des.seen);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
