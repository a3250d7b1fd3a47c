//! Data reads: collections with paging and change tracking, single rows and `$count`.

use super::expand::{self, Expansion};
use super::filter::Filter;
use super::order::OrderBy;
use super::{Reply, json_reply};
use crate::error::EmulatorError;
use crate::odata::{DeltaToken, PageCookie, Prefer, QueryOptions};
use crate::render::{Annotations, RowWriter, columns, string};
use crate::server::ServerState;
use crate::store::{RowSource, Store};
use std::fmt::Write;
use uuid::Uuid;

pub const MAX_PAGE: usize = 5000;

/// Everything one collection read needs, worked out from the request.
pub(super) struct Read<'a> {
    pub(super) store: &'a Store,
    pub(super) e: usize,
    pub(super) q: &'a QueryOptions,
    pub(super) prefer: &'a Prefer,
    pub(super) api: &'a str,
    pub(super) cols: Vec<usize>,
    pub(super) page_size: usize,
    pub(super) expand: Vec<Expansion>,
}

impl<'a> Read<'a> {
    pub(super) fn new(
        sh: &'a ServerState,
        store: &'a Store,
        e: usize,
        q: &'a QueryOptions,
        prefer: &'a Prefer,
    ) -> Result<Self, EmulatorError> {
        let def = &store.catalog.entities[e];
        let cols = columns(def, q.select.as_deref())?;
        let page_size = prefer.max_page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let expand = match &q.expand {
            Some(text) => expand::parse(&store.catalog, def, text)?,
            None => Vec::new(),
        };
        Ok(Read {
            store,
            e,
            q,
            prefer,
            api: &sh.api_url,
            cols,
            page_size,
            expand,
        })
    }

    pub(super) fn set(&self) -> &str {
        &self.store.catalog.entities[self.e].entity_set
    }

    pub(super) fn context(&self, suffix: &str) -> String {
        match &self.q.select {
            Some(s) => format!(
                "{}/$metadata#{}({}){suffix}",
                self.api,
                self.set(),
                s.iter()
                    .cloned()
                    .chain(expand::context_parts(&self.expand))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None => format!("{}/$metadata#{}{suffix}", self.api, self.set()),
        }
    }

    pub(super) fn writer(&self) -> RowWriter<'_> {
        let def = &self.store.catalog.entities[self.e];
        RowWriter {
            store: self.store,
            def,
            cols: &self.cols,
            ann: Annotations::from_prefer(self.prefer),
        }
    }

    pub(super) fn next_link(&self, cookie: &PageCookie) -> String {
        let pk = &self.store.catalog.entities[self.e].primary_id;
        let sep = if self.q.raw_without_skiptoken.is_empty() {
            ""
        } else {
            "&"
        };
        format!(
            "{}/{}?{}{sep}$skiptoken={}",
            self.api,
            self.set(),
            self.q.raw_without_skiptoken,
            cookie.encode(pk)
        )
    }

    pub(super) fn delta_link(&self, token: &DeltaToken) -> String {
        match &self.q.select_raw {
            Some(s) => format!(
                "{}/{}?$select={s}&$deltatoken={}",
                self.api,
                self.set(),
                token.encoded()
            ),
            None => format!(
                "{}/{}?$deltatoken={}",
                self.api,
                self.set(),
                token.encoded()
            ),
        }
    }

    pub(super) fn applied(&self, tracking: bool) -> String {
        let mut applied = Vec::new();
        if tracking {
            applied.push("odata.track-changes".to_owned());
        }
        if let Some(n) = self.prefer.max_page_size {
            applied.push(format!("odata.maxpagesize={}", n.min(MAX_PAGE)));
        }
        if let Some(a) = &self.prefer.annotations {
            applied.push(format!("odata.include-annotations=\"{a}\""));
        }
        applied.join(",")
    }
}

pub fn collection(
    sh: &ServerState,
    e: usize,
    q: &QueryOptions,
    prefer: &Prefer,
) -> Result<Reply, EmulatorError> {
    let store = sh.read();
    let r = Read::new(sh, &store, e, q, prefer)?;
    if let Some(token) = &q.deltatoken {
        return super::delta::delta(sh, &r, token);
    }
    let cookie = q.skiptoken.as_deref().map(PageCookie::decode).transpose()?;
    let tracking = prefer.track_changes || cookie.as_ref().is_some_and(|c| c.tracking);
    if tracking {
        check_trackable(&r)?;
    }
    let filter = q
        .filter
        .as_deref()
        .map(|f| Filter::parse(&store.catalog.entities[e], f))
        .transpose()?;
    let limit = q.top.map_or(r.page_size, |t| t.min(r.page_size));
    let stamp = match cookie.as_ref().and_then(|c| c.version_stamp.clone()) {
        Some(s) => s,
        None => DeltaToken {
            version: store.counter,
            issued: crate::auth::now(),
        }
        .text(),
    };
    let (rows, more) = page_rows(&r, filter.as_ref(), cookie.as_ref(), limit)?;
    let mut buf = String::with_capacity(1024);
    buf.push_str("{\"@odata.context\":");
    string(&mut buf, &r.context(""));
    if q.count {
        let n = match &filter {
            Some(f) => store
                .scan(e, None)
                .filter(|(_, row)| f.matches(row))
                .take(MAX_PAGE)
                .count(),
            None => store.live_count(e).min(MAX_PAGE),
        };
        let _ = write!(buf, ",\"@odata.count\":{n}");
    }
    if tracking && !more {
        let token = DeltaToken::parse(&stamp).ok_or_else(EmulatorError::expired_token)?;
        buf.push_str(",\"@odata.deltaLink\":");
        string(&mut buf, &r.delta_link(&token));
    }
    buf.push_str(",\"value\":[");
    let mut chunks = render_rows(&r.writer(), &r.expand, e, &rows);
    let mut tail = String::from("]");
    if more {
        let page = cookie.as_ref().map_or(1, |c| c.page) + 1;
        let next = PageCookie {
            page,
            last: rows.last().map(|(id, _)| *id),
            first: rows.first().map(|(id, _)| *id),
            tracking,
            version_stamp: tracking.then_some(stamp),
            ..PageCookie::default()
        };
        tail.push_str(",\"@odata.nextLink\":");
        string(&mut tail, &r.next_link(&next));
    }
    tail.push('}');
    chunks.push(tail);
    let reply = json_reply(200, buf, &r.applied(tracking)).with_rows(rows.len());
    Ok(reply.with_chunks(chunks))
}

/// The rows of this page and whether more follow: in id order after the cookie's last id,
/// or, with `$orderby`, sorted and taken from the cookie's page on.
fn page_rows<'a>(
    r: &Read<'a>,
    filter: Option<&Filter>,
    cookie: Option<&PageCookie>,
    limit: usize,
) -> Result<(Vec<(Uuid, RowSource<'a>)>, bool), EmulatorError> {
    let (store, e) = (r.store, r.e);
    let wanted =
        |src: &RowSource<'_>| filter.is_none_or(|f| f.matches(&store.materialize(e, *src)));
    let mut rows: Vec<(Uuid, RowSource<'a>)> = match &r.q.orderby {
        None => store
            .scan_sources(e, cookie.and_then(|c| c.last))
            .filter(|(_, src)| wanted(src))
            .take(limit + 1)
            .collect(),
        Some(text) => {
            let order = OrderBy::parse(&store.catalog.entities[e], text)?;
            let mut keyed: Vec<_> = store
                .scan_sources(e, None)
                .filter(|(_, src)| wanted(src))
                .map(|(id, src)| (order.key(&store.materialize(e, src)), id, src))
                .collect();
            keyed.sort_by(|a, b| order.compare(&a.0, &b.0).then(a.1.cmp(&b.1)));
            let skip = cookie.map_or(0, |c| c.page.saturating_sub(1) as usize * r.page_size);
            keyed
                .into_iter()
                .skip(skip)
                .take(limit + 1)
                .map(|(_, id, src)| (id, src))
                .collect()
        }
    };
    let more = rows.len() > limit && r.q.top.is_none();
    rows.truncate(limit);
    Ok((rows, more))
}

fn check_trackable(r: &Read<'_>) -> Result<(), EmulatorError> {
    for (name, present) in [
        ("filter", r.q.filter.is_some()),
        ("orderby", r.q.orderby.is_some()),
        ("expand", r.q.expand.is_some()),
        ("top", r.q.top.is_some()),
    ] {
        if present {
            return Err(EmulatorError::bad_request(
                "0x80060888",
                format!(
                    "The \"${name}\" query parameter isn't supported when Change Tracking is enabled."
                ),
            ));
        }
    }
    let def = &r.store.catalog.entities[r.e];
    if !def.change_tracking {
        return Err(EmulatorError::bad_request(
            "0x80040203",
            format!(
                "Change tracking is not enabled for the entity '{}'.",
                def.logical_name
            ),
        ));
    }
    Ok(())
}

/// `GET <set>(<id>)`.
pub fn single(
    sh: &ServerState,
    e: usize,
    id: Uuid,
    q: &QueryOptions,
    prefer: &Prefer,
) -> Result<Reply, EmulatorError> {
    let store = sh.read();
    let r = Read::new(sh, &store, e, q, prefer)?;
    let def = &store.catalog.entities[e];
    let row = store
        .get(e, &id)
        .ok_or_else(|| EmulatorError::not_found(&def.logical_name, &id))?;
    let mut buf = String::with_capacity(2048);
    r.writer()
        .write(&mut buf, &row, Some(&r.context("/$entity")));
    expand::append(&store, def, &row, &r.expand, &mut buf);
    Ok(json_reply(200, buf, &r.applied(false)).with_rows(1))
}

/// `GET <set>/$count`: plain text, capped at 5000 like Dataverse.
pub fn count(sh: &ServerState, e: usize) -> Reply {
    let n = sh.read().live_count(e).min(MAX_PAGE);
    Reply {
        status: 200,
        content_type: "text/plain",
        body: n.to_string(),
        chunks: Vec::new(),
        headers: Vec::new(),
        rows: 0,
    }
}

/// Rows per body chunk. A page goes out as the chunks it was written in, never joined: a
/// 5,000-row page with formatted values is about 20 MB, and joining it (or growing one
/// buffer to hold it) would allocate it two or three times over, which the bench's peak
/// memory counts (the emulator runs in its process).
const CHUNK_ROWS: usize = 250;

/// Generates and writes the rows of a page as body chunks (every one after the first starts
/// with its comma), split across the machine's cores: generating rows dominates the cost of
/// a big page.
fn render_rows(
    w: &RowWriter<'_>,
    expand: &[Expansion],
    e: usize,
    rows: &[(Uuid, RowSource<'_>)],
) -> Vec<String> {
    let chunks: Vec<_> = rows.chunks(CHUNK_ROWS).enumerate().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let render = |group: &[(usize, &[(Uuid, RowSource<'_>)])]| -> Vec<String> {
        group
            .iter()
            .map(|&(i, part)| render_chunk(w, expand, e, part, i > 0))
            .collect()
    };
    if threads < 2 || rows.len() < 512 {
        return render(&chunks);
    }
    let per_thread = chunks.len().div_ceil(threads);
    let mut groups = chunks.chunks(per_thread);
    let first = groups.next().unwrap_or_default();
    std::thread::scope(|s| {
        let handles: Vec<_> = groups.map(|group| s.spawn(move || render(group))).collect();
        let mut out = render(first);
        for handle in handles {
            out.extend(handle.join().unwrap_or_default());
        }
        out
    })
}

/// One chunk of rows, its buffer sized from its first row so it rarely grows.
fn render_chunk(
    w: &RowWriter<'_>,
    expand: &[Expansion],
    e: usize,
    rows: &[(Uuid, RowSource<'_>)],
    comma: bool,
) -> String {
    let mut buf = String::with_capacity(4096);
    if comma {
        buf.push(',');
    }
    let Some((first, rest)) = rows.split_first() else {
        return buf;
    };
    write_chunk(w, expand, e, std::slice::from_ref(first), &mut buf);
    // A quarter more than the first row's share: rows differ in their texts' lengths.
    let per_row = buf.len() + buf.len() / 4;
    buf.reserve(per_row * rest.len());
    if !rest.is_empty() {
        buf.push(',');
        write_chunk(w, expand, e, rest, &mut buf);
    }
    buf
}

fn write_chunk(
    w: &RowWriter<'_>,
    expand: &[Expansion],
    e: usize,
    rows: &[(Uuid, RowSource<'_>)],
    buf: &mut String,
) {
    for (i, (_, src)) in rows.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        let row = w.store.materialize(e, *src);
        w.write(buf, &row, None);
        expand::append(w.store, w.def, &row, expand, buf);
    }
}
