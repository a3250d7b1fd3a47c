//! One `des run` per data folder: two processes sharing a control store and a work queue
//! would both poll and apply the same streams. The first takes an exclusive OS lock on
//! `<data>/des.lock` (holding its pid, for the message the second one prints); the OS lets
//! go of it when the process ends, however it ends (SIGKILL included), so a stale file never
//! keeps the folder locked.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, bail};

/// Holds the lock until dropped (or the process ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "des.lock";

/// Takes the folder's lock, or says which process holds it.
pub fn lock(dir: &Path) -> anyhow::Result<FolderLock> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = holder(&mut file);
            bail!(
                "another des run (pid {holder}) is using the data folder {}; stop it first or use another --data-dir",
                dir.display()
            );
        }
        Err(TryLockError::Error(error)) => {
            return Err(error).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    // The pid is for the message above only: the lock itself is what counts.
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    file.flush()?;
    Ok(FolderLock { _file: file })
}

/// The pid the holder wrote, or "unknown" (it may not have written it yet).
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let pid = text.trim();
    if pid.is_empty() || pid.parse::<u32>().is_err() {
        "unknown".into()
    } else {
        pid.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_free_again_after_a_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path()).unwrap();
        let err = lock(dir.path()).unwrap_err().to_string();
        let pid = std::process::id().to_string();
        assert!(err.contains(&format!("pid {pid}")), "{err}");
        drop(first);
        lock(dir.path()).expect("free once the holder let go");
    }
}
