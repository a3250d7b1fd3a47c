//! [`AppendBlobFailureLog`]: each profile's failure log as append blobs in `des-failures`,
//! one per hour as DES laid them out: `<profile id>/failurelog/<yyyy>/<MM>/<dd>/<HH>.log`
//! (UTC). The zero-padded names list in time order, so reading them in listing order reads
//! the log in append order.
//!
//! One `append` call is one Append Block (the service applies each block whole and in
//! commit order), so concurrent appends never interleave their lines and lose nothing. A
//! call larger than one block (4 MiB) is split at line boundaries.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::RequestContent;
use azure_storage_blob::models::AppendBlobClientCreateOptions;
use des_core::FailureLine;
use des_core::ports::{Clock, FailureLog, FailureLogError, SystemClock};
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

use crate::container::{Container, Unavailable};
use crate::storage::{StorageAccount, status};

/// The largest Append Block every service version accepts.
const MAX_BLOCK_BYTES: usize = 4 * 1024 * 1024;
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

/// The Azure [`FailureLog`]; it also hands out read links (see `links`).
#[derive(Clone)]
pub struct AppendBlobFailureLog {
    pub(crate) container: Container,
    pub(crate) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AppendBlobFailureLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppendBlobFailureLog")
            .field("container", &self.container.name())
            .finish_non_exhaustive()
    }
}

impl From<Unavailable> for FailureLogError {
    fn from(error: Unavailable) -> Self {
        FailureLogError::Unavailable(error.0)
    }
}

impl AppendBlobFailureLog {
    /// The log in `container` of `account` (normally [`crate::names::FAILURE_CONTAINER`]),
    /// creating the container if missing; hours follow the system clock.
    pub async fn open(account: &StorageAccount, container: &str) -> Result<Self, FailureLogError> {
        let container = Container::open(account, container).await?;
        Ok(Self {
            container,
            clock: Arc::new(SystemClock),
        })
    }

    /// The same log with hourly blobs chosen by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The folder of one profile's hourly blobs.
    pub fn profile_prefix(profile_id: Uuid) -> String {
        format!("{profile_id}/failurelog/")
    }

    /// The blob holding the lines appended in the hour of `at`.
    pub fn hour_blob(profile_id: Uuid, at: OffsetDateTime) -> String {
        let at = at.to_offset(time::UtcOffset::UTC);
        let hour = format_description!("[year]/[month]/[day]/[hour].log");
        // Formatting a UTC time with numeric components only cannot fail.
        let hour = at.format(hour).unwrap_or_else(|_| "unknown.log".to_owned());
        format!("{}{hour}", Self::profile_prefix(profile_id))
    }

    /// Appends one block; creates the blob first if it is not there yet.
    async fn append_block(&self, name: &str, block: Vec<u8>) -> Result<(), Unavailable> {
        let blob = self
            .container
            .account()
            .blob(self.container.name(), name)?
            .append_blob_client();
        let length = block.len() as u64;
        let first = blob
            .append_block(RequestContent::from(block.clone()), length, None)
            .await;
        match first {
            Ok(_) => return Ok(()),
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => return Err(e.into()),
        }
        let create = AppendBlobClientCreateOptions {
            blob_content_type: Some(TEXT.to_owned()),
            ..Default::default()
        };
        match blob.create(Some(create.if_not_exists())).await {
            Ok(_) => {}
            // BlobAlreadyExists: another writer created it first.
            Err(e) if status(&e) == Some(409) => {}
            Err(e) => return Err(e.into()),
        }
        blob.append_block(RequestContent::from(block), length, None)
            .await?;
        Ok(())
    }
}

/// The lines as text, cut into blocks of at most [`MAX_BLOCK_BYTES`] at line ends.
fn blocks(lines: &[FailureLine]) -> Vec<Vec<u8>> {
    let mut blocks = vec![Vec::new()];
    for line in lines {
        let text = line.format() + "\n";
        let current = blocks.last_mut().expect("never empty");
        if !current.is_empty() && current.len() + text.len() > MAX_BLOCK_BYTES {
            blocks.push(Vec::new());
        }
        blocks
            .last_mut()
            .expect("never empty")
            .extend_from_slice(text.as_bytes());
    }
    blocks
}

#[async_trait]
impl FailureLog for AppendBlobFailureLog {
    async fn append(&self, profile_id: Uuid, lines: &[FailureLine]) -> Result<(), FailureLogError> {
        if lines.is_empty() {
            return Ok(());
        }
        let name = Self::hour_blob(profile_id, self.clock.now());
        for block in blocks(lines) {
            self.append_block(&name, block).await?;
        }
        tracing::debug!(%profile_id, count = lines.len(), "Appended failure lines.");
        Ok(())
    }

    async fn read_all(&self, profile_id: Uuid) -> Result<Vec<String>, FailureLogError> {
        let mut lines = Vec::new();
        for name in self
            .container
            .list(&Self::profile_prefix(profile_id))
            .await?
        {
            let Some(stored) = self.container.read(&name).await? else {
                continue;
            };
            let text = String::from_utf8_lossy(&stored.bytes);
            lines.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use des_core::ChangeType;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn hourly_blobs_follow_the_des_layout_in_utc() {
        let id = Uuid::nil();
        let at = datetime!(2026-03-04 01:30:00 +02:00);
        assert_eq!(
            AppendBlobFailureLog::hour_blob(id, at),
            "00000000-0000-0000-0000-000000000000/failurelog/2026/03/03/23.log"
        );
    }

    #[test]
    fn big_appends_split_at_line_ends() {
        let line = FailureLine {
            entity: "account".to_owned(),
            record_id: None,
            notification_time: None,
            change_type: ChangeType::Update,
            reason: "x".repeat(100_000),
        };
        let lines = vec![line; 100];
        let blocks = blocks(&lines);
        assert!(blocks.len() > 1);
        assert!(
            blocks
                .iter()
                .all(|b| b.len() <= MAX_BLOCK_BYTES && b.ends_with(b"\n"))
        );
        let total: usize = blocks.iter().map(Vec::len).sum();
        assert_eq!(
            total,
            lines.iter().map(|l| l.format().len() + 1).sum::<usize>()
        );
    }
}
