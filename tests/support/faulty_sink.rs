//! A test double around the REAL sink that makes chosen records fail.
//!
//! Records are failed the realistic way: their row gets a value longer than its `nvarchar(n)`
//! column, so the real sink's own rejection path runs (the record is reported as a
//! `RecordFailure`, the rest of the batch is written, a resync still counts it as seen).
//! Deletes pass through, as they cannot fail in a real target either. `fail_next_batches`
//! makes whole batches fail with `SinkError::Unavailable`, like a target that is down;
//! `refuse_seq` makes one batch fail every time with a record-class error the sink could not
//! isolate, like data the target keeps refusing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use des_core::ports::{BatchOutcome, PermissionCheck, RetryOutcome, Sink, SinkError};
use des_core::schema::{ColumnSource, SchemaPlan, SqlType, TableDef};
use des_core::{Batch, Change, RetryChange, Row, Value};
use uuid::Uuid;

/// Wraps a sink; see the module docs.
pub struct FaultySink {
    inner: Arc<dyn Sink>,
    failing: Mutex<HashSet<Uuid>>,
    batch_faults: AtomicU32,
    refused_seqs: Mutex<HashSet<u64>>,
    retries: Mutex<std::collections::HashMap<Uuid, u32>>,
}

impl FaultySink {
    pub fn new(inner: Arc<dyn Sink>) -> Self {
        Self {
            inner,
            failing: Mutex::default(),
            batch_faults: AtomicU32::new(0),
            refused_seqs: Mutex::default(),
            retries: Mutex::default(),
        }
    }

    /// Upserts of these records fail until [`FaultySink::heal`].
    pub fn fail_records(&self, ids: impl IntoIterator<Item = Uuid>) {
        self.lock().extend(ids);
    }

    /// Stops failing records; returns the ids that were failing.
    pub fn heal(&self) -> Vec<Uuid> {
        self.lock().drain().collect()
    }

    /// The next `n` batch applications fail as if the target were down.
    pub fn fail_next_batches(&self, n: u32) {
        self.batch_faults.store(n, Ordering::SeqCst);
    }

    /// How many retries of this record reached the sink.
    pub fn retries_of(&self, id: Uuid) -> u32 {
        let retries = self.retries.lock().unwrap_or_else(|p| p.into_inner());
        retries.get(&id).copied().unwrap_or(0)
    }

    /// Non-empty batches with this `seq` always fail as a database error (a batch the target
    /// keeps refusing); empty batches pass.
    pub fn refuse_seq(&self, seq: u64) {
        self.refused_seqs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(seq);
    }

    fn refuses(&self, batch: &Batch) -> bool {
        let refused = self.refused_seqs.lock().unwrap_or_else(|p| p.into_inner());
        !batch.changes.is_empty() && refused.contains(&batch.seq)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        self.failing.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take_batch_fault(&self) -> bool {
        self.batch_faults
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn spoil(&self, table: &TableDef, columns: &[String], row: &mut Row) {
        if !self.lock().contains(&row.id) {
            return;
        }
        let Some((index, max)) = bounded_text_column(table, columns) else {
            return;
        };
        if let Some(slot) = row.values.get_mut(index) {
            *slot = Value::Text("x".repeat(max as usize + 1));
        }
    }
}

/// The first batch column stored as `nvarchar(n)`, with `n`.
fn bounded_text_column(table: &TableDef, columns: &[String]) -> Option<(usize, u32)> {
    columns.iter().enumerate().find_map(|(i, name)| {
        table.columns.iter().find_map(|c| match (&c.source, c.ty) {
            (ColumnSource::Attribute(a), SqlType::Text { max_len: Some(n) }) if a == name => {
                Some((i, n))
            }
            _ => None,
        })
    })
}

#[async_trait]
impl Sink for FaultySink {
    async fn has_table(&self, table: &TableDef) -> Result<bool, SinkError> {
        self.inner.has_table(table).await
    }

    async fn apply_schema(&self, plan: &SchemaPlan) -> Result<(), SinkError> {
        self.inner.apply_schema(plan).await
    }

    async fn apply_batch(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        batch: &Batch,
    ) -> Result<BatchOutcome, SinkError> {
        if self.take_batch_fault() {
            return Err(SinkError::Unavailable("injected by FaultySink".into()));
        }
        if self.refuses(batch) {
            return Err(SinkError::Refused("refused by FaultySink".into()));
        }
        let mut batch = batch.clone();
        for change in &mut batch.changes {
            if let Change::Upsert(row) = change {
                self.spoil(table, &batch.columns, row);
            }
        }
        self.inner.apply_batch(plan, table, &batch).await
    }

    async fn apply_retry(
        &self,
        plan: &SchemaPlan,
        table: &TableDef,
        retry: &RetryChange,
    ) -> Result<RetryOutcome, SinkError> {
        let mut retry = retry.clone();
        *self
            .retries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(retry.change.id())
            .or_default() += 1;
        if let Change::Upsert(row) = &mut retry.change {
            self.spoil(table, &retry.columns, row);
        }
        self.inner.apply_retry(plan, table, &retry).await
    }

    async fn ping(&self) -> Result<(), SinkError> {
        self.inner.ping().await
    }

    async fn watermark(&self, profile_id: Uuid, table: &TableDef) -> Result<u64, SinkError> {
        self.inner.watermark(profile_id, table).await
    }

    async fn identify(&self, profile_id: Uuid, token: &str) -> Result<Option<String>, SinkError> {
        self.inner.identify(profile_id, token).await
    }

    async fn check_permissions(
        &self,
        plan: &SchemaPlan,
    ) -> Result<Vec<PermissionCheck>, SinkError> {
        self.inner.check_permissions(plan).await
    }
}
