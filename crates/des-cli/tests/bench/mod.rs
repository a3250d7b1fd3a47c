//! `des bench`'s emulator runs in a process of its own: never left behind by the bench.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::poll_until;

#[test]
fn a_killed_bench_takes_its_emulator_process_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut bench = Command::new(env!("CARGO_BIN_EXE_des"))
        .args(["bench", "--records", "200000", "--json"])
        .current_dir(dir.path())
        .env_remove("DES_TARGET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("des bench starts");
    let emulator = poll_until("the emulator process", Duration::from_secs(60), || {
        child_of(bench.id())
    });
    assert!(
        matches!(state_of(emulator), Some('R' | 'S' | 'D')),
        "the emulator runs"
    );
    // SIGKILL: the bench gets no chance to stop it; the emulator ends when its stdin closes.
    bench.kill().unwrap();
    bench.wait().unwrap();
    poll_until("the emulator to end", Duration::from_secs(30), || {
        matches!(state_of(emulator), None | Some('Z') | Some('X')).then_some(())
    });
}

/// A child process of `parent`, from `/proc/<pid>/stat` (field 4 is the parent).
fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| parent_of(*pid) == Some(parent))
}

fn parent_of(pid: u32) -> Option<u32> {
    after_name(pid)?.split_whitespace().nth(1)?.parse().ok()
}

/// The process's state letter (`R`, `S`, `Z`...), or `None` once it is gone.
fn state_of(pid: u32) -> Option<char> {
    after_name(pid)?.split_whitespace().next()?.chars().next()
}

/// `/proc/<pid>/stat` after the command name, which may hold spaces.
fn after_name(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(stat[stat.rfind(')')? + 1..].to_owned())
}
