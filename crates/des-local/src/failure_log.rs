//! [`FileFailureLog`]: the failure log as append-only text files, one per profile per hour.
//!
//! Files are laid out like DES's blob folders,
//! `<root>/<profile_id>/failurelog/<yyyy>/<MM>/<dd>/<HH>.log` (UTC), so the zero-padded paths
//! sort in time order. One process owns a root: appends are serialized by a lock, each call is
//! written with one `write_all` and made durable with `fsync` before it returns.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use des_core::FailureLine;
use des_core::ports::{Clock, FailureLog, FailureLogError, SystemClock};
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

/// The local [`FailureLog`].
#[derive(Clone)]
pub struct FileFailureLog {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    clock: Arc<dyn Clock>,
    /// Serializes appends and reads, so a reader never sees half of an append.
    lock: Mutex<()>,
}

impl std::fmt::Debug for FileFailureLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileFailureLog")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

impl FileFailureLog {
    /// A log under `root` (created on first append), filed by the system clock.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_clock(root, Arc::new(SystemClock))
    }

    /// A log whose hourly files follow `clock`.
    pub fn with_clock(root: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Self {
        let inner = Inner {
            root: root.into(),
            clock,
            lock: Mutex::new(()),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The folder holding one profile's hourly files.
    pub fn profile_dir(&self, profile_id: Uuid) -> PathBuf {
        self.inner
            .root
            .join(profile_id.to_string())
            .join("failurelog")
    }

    async fn blocking<R, F>(&self, f: F) -> Result<R, FailureLogError>
    where
        F: FnOnce(&Inner) -> io::Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _guard = inner.lock.lock().unwrap_or_else(PoisonError::into_inner);
            f(&inner)
        })
        .await
        .map_err(|e| FailureLogError::Unavailable(e.to_string()))?
        .map_err(|e| FailureLogError::Unavailable(e.to_string()))
    }
}

/// `<yyyy>/<MM>/<dd>/<HH>.log` for the hour holding `at`.
fn hour_file(at: OffsetDateTime) -> PathBuf {
    let at = at.to_offset(time::UtcOffset::UTC);
    let path = format_description!("[year]/[month]/[day]/[hour].log");
    // Formatting a UTC time with numeric components only cannot fail.
    PathBuf::from(at.format(path).unwrap_or_else(|_| "unknown.log".to_owned()))
}

fn append_text(path: &Path, text: &str) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let created = !path.exists();
    if created {
        fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let mut buffer = String::with_capacity(text.len() + 1);
    if !created && !ends_with_newline(&mut file)? {
        // A crash cut the last append short; keep that fragment on a line of its own.
        buffer.push('\n');
    }
    buffer.push_str(text);
    file.write_all(buffer.as_bytes())?;
    file.sync_data()?;
    if created {
        // Make the new file's directory entry durable too.
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn ends_with_newline(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Every `.log` file under `dir`, in path order (which is time order).
fn log_files(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    for path in paths {
        if path.is_dir() {
            log_files(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "log") {
            found.push(path);
        }
    }
    Ok(())
}

fn read_lines(dir: &Path) -> io::Result<Vec<String>> {
    let mut files = Vec::new();
    log_files(dir, &mut files)?;
    let mut lines = Vec::new();
    for file in files {
        let text = fs::read_to_string(file)?;
        lines.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
    }
    Ok(lines)
}

#[async_trait]
impl FailureLog for FileFailureLog {
    async fn append(&self, profile_id: Uuid, lines: &[FailureLine]) -> Result<(), FailureLogError> {
        if lines.is_empty() {
            return Ok(());
        }
        let text: String = lines.iter().map(|line| line.format() + "\n").collect();
        let dir = self.profile_dir(profile_id);
        self.blocking(move |inner| append_text(&dir.join(hour_file(inner.clock.now())), &text))
            .await?;
        tracing::debug!(%profile_id, count = lines.len(), "Appended failure lines.");
        Ok(())
    }

    async fn read_all(&self, profile_id: Uuid) -> Result<Vec<String>, FailureLogError> {
        let dir = self.profile_dir(profile_id);
        self.blocking(move |_| read_lines(&dir)).await
    }
}
