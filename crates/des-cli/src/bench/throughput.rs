//! Source-only and sink-only rates: the same pages, read through the Web API client, then
//! written to a fresh SQLite target with only the writes timed.

use std::time::{Duration, Instant};

use anyhow::bail;
use dataverse::DataverseClient;
use des_core::ports::{NextLink, Page, PageRequest, Sink, Source};
use des_core::schema::SchemaPlan;
use des_core::{Batch, BatchKind, EntityMetadata, StreamId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::report::Rate;
use crate::cpu::CpuTimes;
use crate::memory;

/// The attributes a full read selects, by logical name: what the engine reads (with each
/// lookup's name and type columns, read from annotations) or, without `lookup_names`, only
/// the Web API properties.
pub fn select_list(meta: &EntityMetadata, lookup_names: bool) -> Vec<String> {
    let attributes: Vec<&des_core::AttributeMetadata> = match lookup_names {
        true => meta.exported_attributes().collect(),
        false => meta.readable_attributes().collect(),
    };
    attributes.iter().map(|a| a.logical_name.clone()).collect()
}

/// A full read's pages and their body bytes.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PageBytes {
    pub pages: u64,
    pub bytes: u64,
}

impl PageBytes {
    pub fn per_page(&self) -> f64 {
        self.bytes as f64 / (self.pages.max(1) as f64)
    }
}

/// Pages of one entity's full read, one at a time, so memory holds a single page.
pub(super) struct Pages<'a> {
    source: &'a dyn Source,
    select: Vec<String>,
    next: Option<PageRequest>,
}

impl<'a> Pages<'a> {
    pub(super) fn new(source: &'a dyn Source, meta: &EntityMetadata, select: Vec<String>) -> Self {
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

/// Reads every page of the entity and counts the records and the page bytes.
pub async fn source_read(
    client: &DataverseClient,
    meta: &EntityMetadata,
    lookup_names: bool,
) -> anyhow::Result<(Rate, PageBytes)> {
    memory::reset_peak();
    let cpu_before = CpuTimes::now();
    let bytes_before = client.page_bytes_read();
    let started = Instant::now();
    let mut pages = Pages::new(client, meta, select_list(meta, lookup_names));
    let (mut records, mut count) = (0u64, 0u64);
    while let Some(page) = pages.next().await? {
        records += page.changes.len() as u64;
        count += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(CpuTimes::now()).map(|(b, a)| a.since(b));
    let rate = Rate::new(records, seconds, memory::peak_rss_bytes()).with_cpu(cpu);
    let bytes = client.page_bytes_read() - bytes_before;
    Ok((
        rate,
        PageBytes {
            pages: count,
            bytes,
        },
    ))
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
    let mut pages = Pages::new(source, meta, select_list(meta, true));
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
