//! A SQLite target deleted or replaced while `des run` writes to it: the open connection
//! keeps writing into the deleted file, so the new one stays empty while every figure looks
//! well. The start-up check (`des_engine::check`) rebuilds such a target, so this watch says
//! loudly, once, that a restart is needed, on stdout and in the log.

use std::path::PathBuf;

use crate::target::Target;

/// The target file's identity at start, compared on every status refresh.
pub struct TargetWatch {
    path: PathBuf,
    identity: Identity,
    said: bool,
}

/// Device and inode: the same path may come to name another file.
type Identity = (u64, u64);

#[cfg(unix)]
fn identity(path: &std::path::Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_path: &std::path::Path) -> Option<Identity> {
    None
}

impl TargetWatch {
    /// Watches a SQLite target that exists now (opened at start); `None` for servers.
    pub fn new(target: &Target) -> Option<Self> {
        let Target::Sqlite(path) = target else {
            return None;
        };
        Some(Self {
            identity: identity(path)?,
            path: path.clone(),
            said: false,
        })
    }

    /// The warning, the first time the file is found gone or replaced.
    pub fn check(&mut self) -> Option<String> {
        if self.said || identity(&self.path) == Some(self.identity) {
            return None;
        }
        self.said = true;
        tracing::error!(
            path = %self.path.display(),
            "The SQLite target was deleted or replaced while being written."
        );
        Some(format!(
            "warning: the target {} was deleted or replaced while des run writes to it (rows go to the deleted file); stop and start des run, which checks the target at start and rebuilds it",
            self.path.display()
        ))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.db");
        std::fs::write(&path, b"").unwrap();
        let mut watch = TargetWatch::new(&Target::Sqlite(path.clone())).unwrap();
        assert_eq!(watch.check(), None, "as it was");
        std::fs::remove_file(&path).unwrap();
        let said = watch.check().expect("gone");
        assert!(said.contains("deleted or replaced"), "{said}");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(watch.check(), None, "said once");
        let mut again = TargetWatch::new(&Target::Sqlite(path.clone())).unwrap();
        let replacement = dir.path().join("other.db");
        std::fs::write(&replacement, b"").unwrap();
        std::fs::rename(&replacement, &path).unwrap();
        assert!(again.check().is_some(), "replaced");
    }
}
