//! [`FilePayloadStore`]: write-once batch payloads as files, one per key.
//!
//! Why files: a page's payload is megabytes, written once, read only after a restart and
//! deleted once applied. In SQLite each one went through the WAL a frame per page, was copied
//! again into the database at the next checkpoint and left freed pages to account for: about
//! 14% of `des`'s CPU end to end (crates/des-cli/README.md, "Memory"). A file costs one write
//! and one `fsync`.
//!
//! Write-once: the bytes go to a temporary file, are synced, then hard-linked under the key's
//! name; the link fails when the name exists, so of racing writers exactly one stores and a
//! reader never sees part of a payload. The folder is synced after the link, so a stored
//! payload survives a power cut before the cursor that counts on it is committed. Payloads an
//! earlier version stored in SQLite stay readable and write-once (`legacy`) until they are
//! deleted.

use std::fmt::Write as _;
use std::fs;
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use des_core::ports::{PayloadStore, QueueError};

use crate::SqlitePayloadStore;

/// Temporary files start with this; a key's file name never does (its `.` is escaped).
const TEMP_PREFIX: &str = ".part-";

/// The local [`PayloadStore`] for pages: a private folder of files.
#[derive(Debug, Clone)]
pub struct FilePayloadStore {
    dir: Arc<PathBuf>,
    legacy: Option<SqlitePayloadStore>,
}

impl FilePayloadStore {
    /// Opens the folder at `dir`, creating it, and removes what a crash left half written.
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Self, QueueError> {
        let dir = dir.into();
        let opened = dir.clone();
        blocking(move || prepare(&opened)).await?;
        Ok(Self {
            dir: Arc::new(dir),
            legacy: None,
        })
    }

    /// Also reads (and keeps write-once) the payloads `legacy` holds, when it holds any: the
    /// SQLite store an earlier version wrote them to.
    pub async fn with_legacy(mut self, legacy: SqlitePayloadStore) -> Result<Self, QueueError> {
        self.legacy = legacy.holds_any().await?.then_some(legacy);
        Ok(self)
    }

    fn path(&self, key: &str) -> Result<PathBuf, QueueError> {
        Ok(self.dir.join(file_name(key)?))
    }

    async fn legacy_get(&self, key: &str) -> Result<Option<Vec<u8>>, QueueError> {
        match &self.legacy {
            Some(legacy) => legacy.get(key).await,
            None => Ok(None),
        }
    }
}

#[async_trait]
impl PayloadStore for FilePayloadStore {
    async fn put_if_absent(&self, key: &str, bytes: &[u8]) -> Result<Vec<u8>, QueueError> {
        let stored = self.put_new(key, bytes.to_vec()).await?;
        Ok(stored.unwrap_or_else(|| bytes.to_vec()))
    }

    async fn put_new(&self, key: &str, bytes: Vec<u8>) -> Result<Option<Vec<u8>>, QueueError> {
        if let Some(stored) = self.legacy_get(key).await? {
            return Ok((stored != bytes).then_some(stored));
        }
        let (dir, path) = (Arc::clone(&self.dir), self.path(key)?);
        blocking(move || store_once(&dir, &path, &bytes)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, QueueError> {
        let path = self.path(key)?;
        match blocking(move || read_if_there(&path)).await? {
            Some(bytes) => Ok(Some(bytes)),
            None => self.legacy_get(key).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), QueueError> {
        let path = self.path(key)?;
        blocking(move || remove_if_there(&path)).await?;
        match &self.legacy {
            Some(legacy) => legacy.delete(key).await,
            None => Ok(()),
        }
    }
}

/// The key as one file name: letters, digits, `-` and `_` as they are, every other byte as
/// `%XX`, so distinct keys never share a name and none is `.`, `..` or a temporary file.
fn file_name(key: &str) -> Result<String, QueueError> {
    let mut name = String::with_capacity(key.len() + 8);
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => name.push(char::from(byte)),
            _ => {
                let _ = write!(name, "%{byte:02X}");
            }
        }
    }
    // Most file systems take names up to 255 bytes.
    match name.len() {
        1..=255 => Ok(name),
        n => Err(QueueError::Unavailable(format!(
            "a payload key of {} bytes makes a file name of {n}; at most 255 fit",
            key.len()
        ))),
    }
}

/// Creates the folder private (payloads hold record values) and removes half-written files.
fn prepare(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            remove_if_there(&entry.path())?;
        }
    }
    Ok(())
}

/// Stores `bytes` at `path` unless a payload is there: `None` when these are stored, else the
/// stored bytes when they differ. The link alone decides whether one is there (a page is
/// stored again only after a crash, so no check before it on every page).
fn store_once(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let temp = dir.join(format!("{TEMP_PREFIX}{}", uuid::Uuid::new_v4().simple()));
    let linked = write_synced(&temp, bytes).and_then(|()| fs::hard_link(&temp, path));
    remove_if_there(&temp)?;
    match linked {
        Ok(()) => {
            sync_folder(dir)?;
            Ok(None)
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let stored = read_if_there(path)?.unwrap_or_default();
            Ok((stored != bytes).then_some(stored))
        }
        Err(e) => Err(e),
    }
}

/// Makes the new name durable. Only unix can open a folder to sync it; NTFS journals names.
fn sync_folder(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn read_if_there(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn remove_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Runs file work on the blocking pool; an I/O error is the store being unavailable (a full
/// or failing disk), which the engine retries.
async fn blocking<R, F>(work: F) -> Result<R, QueueError>
where
    R: Send + 'static,
    F: FnOnce() -> io::Result<R> + Send + 'static,
{
    let done = tokio::task::spawn_blocking(work).await;
    let result = done.map_err(|e| QueueError::Unavailable(format!("payload files: {e}")))?;
    result.map_err(|e| QueueError::Unavailable(format!("payload files: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_distinct_plain_file_names() {
        let name = file_name("batches/0b5e/account/12").unwrap();
        assert_eq!(name, "batches%2F0b5e%2Faccount%2F12");
        assert_ne!(file_name("a/b").unwrap(), file_name("a%2Fb").unwrap());
        assert_eq!(file_name(".").unwrap(), "%2E");
        assert_eq!(file_name("..").unwrap(), "%2E%2E");
        assert!(!file_name(".part-x").unwrap().starts_with(TEMP_PREFIX));
    }

    #[test]
    fn an_empty_or_overlong_key_is_refused_with_its_size() {
        assert!(file_name("").is_err());
        let error = file_name(&"é".repeat(50)).unwrap_err().to_string();
        assert!(error.contains("100 bytes"), "{error}");
        assert!(error.contains("300"), "{error}");
    }
}
