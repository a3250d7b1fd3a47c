//! `profiles/{id}/failures` (a read-only link valid 24 hours) and the local download that
//! link points at. The download needs no bearer token: the signature is the capability.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::Query;
use crate::routes::profiles::{authorized, parse_id};
use crate::state::{ApiState, FAILURE_LINK_LIFETIME};

/// The `failures` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailuresView {
    profile_id: Uuid,
    /// GET it for the failure lines, one per line, as text.
    url: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_on: OffsetDateTime,
}

pub async fn failures(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<FailuresView>> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    let expires = state.engine().clock.now() + FAILURE_LINK_LIFETIME;
    let profile_id = stored.value.id;
    let url = state
        .failure_links()
        .link(profile_id, expires)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(FailuresView {
        profile_id,
        url: url.to_string(),
        expires_on: expires,
    }))
}

fn refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "The link is not valid or has expired.",
        "Ask GET /crm/exporter/profiles/{id}/failures for a new link.",
    )
}

/// GET on a signed link: the failure lines as `text/plain`, or 403.
pub async fn download(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Response> {
    let profile_id = parse_id(&id).map_err(|_| refused())?;
    let expires: i64 = query
        .get("se")
        .and_then(|s| s.parse().ok())
        .ok_or_else(refused)?;
    let signature = query.get("sig").ok_or_else(refused)?;
    let now = state.engine().clock.now().unix_timestamp();
    if expires < now
        || !state
            .settings()
            .link_key
            .verify(profile_id, expires, signature)
    {
        return Err(refused());
    }
    let lines = state
        .engine()
        .failures
        .read_all(profile_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    let content_type = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    Ok((content_type, text).into_response())
}
