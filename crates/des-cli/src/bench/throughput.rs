//! Source-only and sink-only rates: the same pages, read through the Web API client, then
//! written to a fresh SQLite target with only the writes timed.

use std::time::{Duration, Instant};

use anyhow::bail;
use des_core::ports::{NextLink, Page, PageRequest, Sink, Source};
use des_core::schema::SchemaPlan;
use des_core::{Batch, BatchKind, EntityMetadata, StreamId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::report::Rate;
use crate::cpu::CpuTimes;
use crate::memory;

/// The attributes a full read selects, by logical name.
pub fn select_list(meta: &EntityMetadata) -> Vec<String> {
    meta.readable_attributes()
        .map(|a| a.logical_name.clone())
        .collect()
}

/// Pages of one entity's full read, one at a time, so memory holds a single page.
pub(super) struct Pages<'a> {
    source: &'a dyn Source,
    select: Vec<String>,
    next: Option<PageRequest>,
}

impl<'a> Pages<'a> {
    pub(super) fn new(source: &'a dyn Source, meta: &EntityMetadata) -> Self {
        let select = select_list(meta);
        let start = PageRequest::Start {
            entity_set: meta.entity_set_name.clone(),
            select: select.clone(),
        };
        Self {
            source,
            select,
            next: Some(start),
        }
    }

    pub(super) async fn next(&mut self) -> anyhow::Result<Option<Page>> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        let page = self.source.read_page(&request, &self.select).await?;
        if let NextLink::More(link) = &page.next {
            self.next = Some(PageRequest::Follow { link: link.clone() });
        }
        Ok(Some(page))
    }
}

/// Reads every page of the entity and counts the records.
pub async fn source_read(source: &dyn Source, meta: &EntityMetadata) -> anyhow::Result<Rate> {
    memory::reset_peak();
    let cpu_before = CpuTimes::now();
    let started = Instant::now();
    let mut pages = Pages::new(source, meta);
    let mut records = 0u64;
    while let Some(page) = pages.next().await? {
        records += page.changes.len() as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(CpuTimes::now()).map(|(b, a)| a.since(b));
    Ok(Rate::new(records, seconds, memory::peak_rss_bytes()).with_cpu(cpu))
}

/// Applies the entity's pages to `sink` as ordered batches, timing only the writes.
pub async fn sink_write(
    source: &dyn Source,
    sink: &dyn Sink,
    plan: &SchemaPlan,
    meta: &EntityMetadata,
) -> anyhow::Result<Rate> {
    let Some(table) = plan.table_for(&meta.logical_name) else {
        bail!("the plan has no table for {}", meta.logical_name);
    };
    sink.apply_schema(plan).await?;
    memory::reset_peak();
    let stream = StreamId {
        profile_id: Uuid::new_v4(),
        entity: meta.logical_name.clone(),
    };
    let mut pages = Pages::new(source, meta);
    let (mut records, mut writing, mut seq) = (0u64, Duration::ZERO, 0u64);
    // Only the writes count: the pages are read between them.
    let mut cpu = Some(CpuTimes::default());
    while let Some(page) = pages.next().await? {
        seq += 1;
        records += page.changes.len() as u64;
        let batch = Batch {
            stream: stream.clone(),
            seq,
            kind: BatchKind::Initial,
            columns: pages.select.clone(),
            changes: page.changes,
            read_at: OffsetDateTime::now_utc(),
        };
        let (started, cpu_before) = (Instant::now(), CpuTimes::now());
        let outcome = sink.apply_batch(plan, table, &batch).await?;
        writing += started.elapsed();
        cpu = match (cpu, cpu_before, CpuTimes::now()) {
            (Some(sum), Some(before), Some(after)) => Some(sum.add(after.since(before))),
            _ => None,
        };
        if !matches!(outcome, des_core::ports::BatchOutcome::Applied { .. }) {
            bail!("batch {seq} was not applied: {outcome:?}");
        }
    }
    let rate = Rate::new(records, writing.as_secs_f64(), memory::peak_rss_bytes());
    Ok(rate.with_cpu(cpu))
}
