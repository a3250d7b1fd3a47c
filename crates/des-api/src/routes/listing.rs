//! `GET /crm/exporter/profiles` and the `?status=true` of profile reads.
//!
//! Statuses come from one read of the listed profiles' progress (`des_engine::admin::statuses`),
//! however many profiles are listed; the profiles themselves from the control store, which
//! parses them once per change. Paging is an extension DES clients can ignore: without
//! `x-top` the whole list comes back as DES answered it; with `x-top=N` at most N profiles
//! come back (by name, then id) and, when more follow, a `Link: <...>; rel="next"` header
//! names the next page (its `x-skiptoken` is opaque: the last name and id, base64url).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use des_core::profile::{EntityStatus, Profile};
use des_core::sync::EntityStats;
use des_engine::admin;
use uuid::Uuid;

use crate::access::admin_org;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::Query;
use crate::state::ApiState;

/// The largest page `x-top` may ask for.
pub const MAX_PAGE: usize = 1000;

/// Fills each entity's `Status` of `profiles` from `statuses` (never started: `NotStarted`).
fn fill(profiles: &mut [Profile], statuses: &HashMap<(Uuid, String), EntityStatus>) {
    for profile in profiles {
        let id = profile.id;
        for entity in &mut profile.entities {
            let key = (id, entity.entity_type.clone());
            let status = statuses.get(&key).cloned().unwrap_or_else(|| {
                admin::entity_status(id, &entity.entity_type, &EntityStats::default(), None)
            });
            entity.status = Some(status);
        }
    }
}

/// One profile with its entities' status (`?status=true`): one store read.
pub async fn with_status(state: &ApiState, mut profile: Profile) -> ApiResult<Profile> {
    let statuses = admin::statuses(state.engine(), &[profile.id]).await?;
    fill(std::slice::from_mut(&mut profile), &statuses);
    Ok(profile)
}

/// The page after `token`: (name, id) of the last profile of the previous page.
#[derive(serde::Serialize, serde::Deserialize)]
struct After(String, Uuid);

fn parse_token(query: &Query) -> ApiResult<Option<After>> {
    let Some(text) = query.get("x-skiptoken") else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request("x-skiptoken: not a token this API handed out");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
}

fn parse_top(query: &Query) -> ApiResult<Option<usize>> {
    let Some(text) = query.get("x-top") else {
        return Ok(None);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::bad_request(format!(
            "x-top: must be a whole number from 1 to {MAX_PAGE}, got '{text}'"
        ))),
    }
}

pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    query: Query,
) -> ApiResult<(HeaderMap, Json<Vec<Profile>>)> {
    let org = admin_org(&state, &caller, &query.org()?).await?;
    let status = query.flag("status")?;
    let (top, after) = (parse_top(&query)?, parse_token(&query)?);
    let mut out: Vec<Profile> = state
        .engine()
        .control
        .profiles()
        .await?
        .into_iter()
        .map(|stored| stored.value)
        .filter(|p| p.organization_id == org.organization_id)
        .filter(|p| after.as_ref().is_none_or(|a| (&p.name, p.id) > (&a.0, a.1)))
        .collect();
    out.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    let mut headers = HeaderMap::new();
    if let Some(top) = top
        && out.len() > top
    {
        out.truncate(top);
        if let Some(last) = out.last() {
            let next = next_link(uri.path(), uri.query().unwrap_or(""), last)?;
            headers.insert(header::LINK, next);
        }
    }
    if status {
        let ids: Vec<Uuid> = out.iter().map(|p| p.id).collect();
        let statuses = admin::statuses(state.engine(), &ids).await?;
        fill(&mut out, &statuses);
    }
    Ok((headers, Json(out)))
}

fn next_link(path: &str, query: &str, last: &Profile) -> ApiResult<HeaderValue> {
    let token = serde_json::to_vec(&After(last.name.clone(), last.id))
        .map_err(|e| ApiError::internal(&e))?;
    let token = URL_SAFE_NO_PAD.encode(token);
    let kept = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| !k.eq_ignore_ascii_case("x-skiptoken"));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .append_pair("x-skiptoken", &token)
        .finish();
    HeaderValue::from_str(&format!("<{path}?{query}>; rel=\"next\""))
        .map_err(|e| ApiError::internal(&e))
}
