//! Targets that are not targets, refused at start: a SQLite path that is a device, folder or
//! pipe (`sqlite:/dev/null` would fail every write with "disk I/O error", forever), a file
//! that is not a SQLite database, and the data folder's own files (exporting into the
//! control store or the work queue would overwrite the engine's state with rows).

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::target::Target;

/// The data folder's own files: the control store, the work queue (each with SQLite's
/// `-wal`, `-shm` and `-journal`), the lock, the emulator's state and the secrets.
fn is_state_file(name: &str) -> bool {
    let databases = ["control.db", "queue.db"];
    let others = [
        "des.lock",
        "emulator.json",
        "emulator.port",
        "api-link.key",
        "secrets.json",
    ];
    databases.iter().any(|db| name.starts_with(db)) || others.contains(&name)
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a target this run must not write to (only SQLite paths can be one).
pub fn refuse_non_target(target: &Target, data_dir: &Path) -> anyhow::Result<()> {
    let Target::Sqlite(path) = target else {
        return Ok(());
    };
    if is_in_data_folder(path, data_dir) {
        bail!(
            "the target {target} is a file of the data folder {} (the engine's own state); name another file",
            data_dir.display()
        );
    }
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // Created on first use.
    };
    if !meta.is_file() {
        bail!(
            "the target {target} is not a regular file (a device, folder or pipe cannot hold a SQLite database); name a file"
        );
    }
    if meta.len() > 0 && !has_sqlite_header(path) {
        bail!(
            "the target {target} is not a SQLite database (its first bytes are not SQLite's); name another file"
        );
    }
    Ok(())
}

fn has_sqlite_header(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0_u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == SQLITE_HEADER)
}

/// True when `path` names one of the data folder's own files, through whatever symlinks,
/// `..` or relative spelling.
fn is_in_data_folder(path: &Path, data_dir: &Path) -> bool {
    let (Some(resolved), Ok(dir)) = (resolve(path), data_dir.canonicalize()) else {
        return false;
    };
    let name = resolved.file_name().and_then(|n| n.to_str()).unwrap_or("");
    resolved.parent() == Some(dir.as_path()) && is_state_file(name)
}

/// The canonical path of `path`, or of its folder joined with its name when the file does
/// not exist yet.
fn resolve(path: &Path) -> Option<PathBuf> {
    if let Ok(found) = path.canonicalize() {
        return Some(found);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?,
    };
    Some(parent.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(path: &Path) -> Target {
        Target::Sqlite(path.to_path_buf())
    }

    #[test]
    fn the_data_folders_own_files_are_refused_however_they_are_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("des-data");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("control.db"), b"").unwrap();
        for name in ["control.db", "queue.db", "queue.db-wal", "des.lock"] {
            let err = refuse_non_target(&sqlite(&data.join(name)), &data).unwrap_err();
            assert!(err.to_string().contains("data folder"), "{name}: {err}");
        }
        let dotted = data.join("..").join("des-data").join("control.db");
        assert!(refuse_non_target(&sqlite(&dotted), &data).is_err());
        for fine in [data.join("export.db"), dir.path().join("control.db")] {
            refuse_non_target(&sqlite(&fine), &data).expect("a target");
        }
    }

    #[test]
    fn devices_folders_and_other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("des-data");
        for path in [Path::new("/dev/null"), dir.path()] {
            let err = refuse_non_target(&sqlite(path), &data).unwrap_err();
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, b"not a database at all").unwrap();
        let err = refuse_non_target(&sqlite(&text), &data).unwrap_err();
        assert!(err.to_string().contains("not a SQLite database"), "{err}");
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        refuse_non_target(&sqlite(&empty), &data).expect("an empty file is a new database");
    }
}
