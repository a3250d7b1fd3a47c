//! Read-ahead: while a step stores and ships one page of a read, the next page of the same
//! read is already being fetched, so the source and the durable writes overlap.
//!
//! Only `More` links (the rest of a read in progress) are read ahead, one page per stream. A
//! step uses a read-ahead only when its cursor asks for exactly that link and columns;
//! anything else (a resync, a schema change, another poller's move) drops it. Fetching a page
//! early changes nothing durable: the outbox, the cursor and the `seq` are only touched by the
//! step that uses it, exactly as if it had read the page itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use des_core::StreamId;
use des_core::ports::{Page, PageRequest, Source, SourceError};
use tokio::task::JoinHandle;

type Fetch = JoinHandle<Result<Page, SourceError>>;

struct Pending {
    link: String,
    columns: Vec<String>,
    fetch: Fetch,
}

/// At most one page being fetched ahead per stream.
#[derive(Default)]
pub(super) struct ReadAhead {
    streams: Mutex<HashMap<StreamId, Pending>>,
}

impl ReadAhead {
    /// Starts fetching `link`, replacing (and cancelling) the stream's earlier read-ahead.
    pub fn start(
        &self,
        stream: &StreamId,
        source: Arc<dyn Source>,
        link: &str,
        columns: &[String],
    ) {
        let request = PageRequest::Follow {
            link: link.to_owned(),
        };
        let select = columns.to_vec();
        let fetch = tokio::spawn(async move { source.read_page(&request, &select).await });
        let pending = Pending {
            link: link.to_owned(),
            columns: columns.to_vec(),
            fetch,
        };
        if let Some(old) = self.lock().insert(stream.clone(), pending) {
            old.fetch.abort();
        }
    }

    /// The page at `link` if it was fetched ahead successfully; `None` means read it now (a
    /// failed read-ahead is simply read again, with the source's own retries).
    pub async fn take(&self, stream: &StreamId, link: &str, columns: &[String]) -> Option<Page> {
        let pending = self.lock().remove(stream)?;
        if pending.link != link || pending.columns != columns {
            pending.fetch.abort();
            return None;
        }
        match pending.fetch.await {
            Ok(Ok(page)) => Some(page),
            _ => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<StreamId, Pending>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        for pending in self.lock().values() {
            pending.fetch.abort();
        }
    }
}
