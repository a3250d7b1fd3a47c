//! The data folder is private: it holds the control store, the work queue, the record
//! payloads, the failure log, the link key and, by default, the target. `des run` creates
//! it 0700 and everything in it 0600 (a file-creation mask of 077 for the whole process, so
//! SQLite's `-wal`/`-shm` files, failure logs and the emulator's state are private too), and
//! warns about entries made earlier that other users may read.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Makes every file and folder this process creates private (unix; a no-op elsewhere).
pub fn private_from_now_on() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Creates `dir` (0700) if missing, and warns on stdout about the folder and the entries in
/// it (and in its `failures/`) that other users may read or enter.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    create_private(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (path, mode) in exposed(dir) {
        let wanted = if path.is_dir() { "700" } else { "600" };
        println!(
            "warning: {} may be read by other users (mode {mode:o}); run chmod {wanted} on it",
            path.display()
        );
    }
    Ok(())
}

fn create_private(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The folder itself and the entries in it, in `failures/` and in `payloads/` with group or
/// other permission bits, with their modes.
pub fn exposed(dir: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    let mut check = |path: PathBuf| {
        if let Some(mode) = open_mode(&path) {
            found.push((path, mode));
        }
    };
    check(dir.to_path_buf());
    let folders = [
        dir.to_path_buf(),
        dir.join("failures"),
        dir.join("payloads"),
    ];
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        let inner = |p: &PathBuf| p.ends_with("failures") || p.ends_with("payloads");
        for path in paths.into_iter().filter(|p| !inner(p)) {
            check(path);
        }
    }
    found
}

#[cfg(unix)]
fn open_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::symlink_metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn open_mode(_path: &Path) -> Option<u32> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_new_folder_is_private_and_open_entries_are_found() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        prepare(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(exposed(&dir).is_empty());
        let file = dir.join("control.db");
        std::fs::write(&file, b"").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(exposed(&dir), vec![(file.clone(), 0o644)]);
        let payload = dir.join("payloads").join("batches%2Fp%2Faccount%2F1");
        create_private(&dir.join("payloads")).unwrap();
        std::fs::write(&payload, b"rows").unwrap();
        std::fs::set_permissions(&payload, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(exposed(&dir), vec![(file, 0o644), (payload, 0o640)]);
    }
}
