//! Delta reads: following a `$deltatoken`, paged with `nextLink` when large.

use super::data::Read;
use super::{Reply, json_reply};
use crate::error::EmulatorError;
use crate::odata::{DeltaToken, PageCookie};
use crate::render::string;
use crate::server::ServerState;
use crate::store::delta::DeltaPos;
use crate::store::{DeltaEntry, Store};
use std::fmt::Write;

/// Checks a delta token against expiry (explicit or by retention) and the current counter.
pub fn valid_token(
    sh: &ServerState,
    store: &Store,
    text: &str,
) -> Result<DeltaToken, EmulatorError> {
    let token = DeltaToken::parse(text).ok_or_else(EmulatorError::expired_token)?;
    let too_old = sh
        .retention
        .is_some_and(|r| crate::auth::now() - token.issued > r.as_secs() as i64);
    if token.version < store.min_valid || token.version > store.counter || too_old {
        return Err(EmulatorError::expired_token());
    }
    Ok(token)
}

pub(super) fn delta(sh: &ServerState, r: &Read<'_>, text: &str) -> Result<Reply, EmulatorError> {
    let token = valid_token(sh, r.store, text)?;
    let cookie =
        r.q.skiptoken
            .as_deref()
            .map(PageCookie::decode)
            .transpose()?;
    let to = cookie
        .as_ref()
        .and_then(|c| c.delta_to)
        .unwrap_or(r.store.counter);
    let pos = match &cookie {
        Some(c) => DeltaPos {
            phase: c.delta_phase.unwrap_or(0),
            after: c.delta_after.unwrap_or(token.version),
        },
        None => DeltaPos {
            phase: 0,
            after: token.version,
        },
    };
    let (entries, next) = r.store.delta_page(r.e, token.version, to, pos, r.page_size);
    let mut buf = String::with_capacity(entries.len() * 1024 + 512);
    buf.push_str("{\"@odata.context\":");
    string(&mut buf, &r.context("/$delta"));
    if next.is_none() {
        buf.push_str(",\"@odata.deltaLink\":");
        string(
            &mut buf,
            &r.delta_link(&DeltaToken {
                version: to,
                issued: crate::auth::now(),
            }),
        );
    }
    buf.push_str(",\"value\":[");
    let w = r.writer();
    let deleted_ctx = format!("{}/$metadata#{}/$deletedEntity", r.api, r.set());
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        match entry {
            DeltaEntry::Upsert(row) => w.write(&mut buf, row, None),
            DeltaEntry::Deleted(id) => {
                buf.push_str("{\"@odata.context\":");
                string(&mut buf, &deleted_ctx);
                let _ = write!(buf, ",\"id\":\"{id}\",\"reason\":\"deleted\"}}");
            }
        }
    }
    buf.push(']');
    if let Some(pos) = next {
        let page = cookie.as_ref().map_or(1, |c| c.page) + 1;
        let c = PageCookie {
            page,
            tracking: true,
            delta_phase: Some(pos.phase),
            delta_after: Some(pos.after),
            delta_to: Some(to),
            ..PageCookie::default()
        };
        buf.push_str(",\"@odata.nextLink\":");
        string(&mut buf, &r.next_link(&c));
    }
    buf.push('}');
    Ok(json_reply(200, buf, &r.applied(true)).with_rows(entries.len()))
}
