//! `/crm/exporter/profiles*`: list, create, read, update, delete, activate, deactivate, and
//! the resync extensions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use des_core::ports::{Organization, Precondition, Versioned};
use des_core::profile::Profile;
use des_engine::Mode;
use des_engine::admin;
use serde::Serialize;
use tokio::time::Instant;
use uuid::Uuid;

use crate::access::{admin_org, is_admin, org_by_id, refuse_evenly};
use crate::auth::Caller;
use crate::body::DesJson;
use crate::error::{ApiError, ApiResult};
use crate::profile_body::{ProfileBody, check_against_source};
use crate::query::{OrgRef, Query};
use crate::routes::listing::with_status;
use crate::state::ApiState;

/// A profile id from the path, or a 400 naming it.
pub fn parse_id(text: &str) -> ApiResult<Uuid> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("id: '{text}' is not a GUID")))
}

/// The stored profile and its organization, if the caller administers that organization.
/// A profile of an organization the caller does not administer is answered exactly as one
/// that does not exist (404).
pub async fn authorized(
    state: &ApiState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Versioned<Profile>, Organization)> {
    let started = Instant::now();
    let id = parse_id(id)?;
    let hidden = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("Profile {id} not found."),
            "No such profile in an organization you administer.",
        )
    };
    let Some(stored) = state.engine().control.profile(id).await? else {
        return refuse_evenly(state, started, hidden()).await;
    };
    let Some(org) = org_by_id(state, stored.value.organization_id).await? else {
        return refuse_evenly(state, started, hidden()).await;
    };
    match is_admin(state, caller, &org).await? {
        true => Ok((stored, org)),
        false => refuse_evenly(state, started, hidden()).await,
    }
}

async fn answer(state: &ApiState, profile: Profile, status: bool) -> ApiResult<Json<Profile>> {
    match status {
        true => Ok(Json(with_status(state, profile).await?)),
        false => Ok(Json(profile)),
    }
}

/// The organization a body is for: its `OrganizationId`, else the query's.
pub async fn body_org(
    state: &ApiState,
    caller: &Caller,
    body: &ProfileBody,
    query: &Query,
) -> ApiResult<Organization> {
    // The query is checked even when the body names the organization: a malformed
    // parameter is refused, never ignored.
    let from_query = query.org()?;
    let wanted = match body.organization_id() {
        Some(id) => OrgRef {
            id: Some(id),
            url: None,
        },
        None => from_query,
    };
    if wanted.id.is_none() && wanted.url.is_none() {
        return Err(ApiError::bad_request(
            "OrganizationId: is required (in the body or as the organizationId parameter)",
        ));
    }
    admin_org(state, caller, &wanted).await
}

pub async fn create(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
    DesJson(body): DesJson<ProfileBody>,
) -> ApiResult<(StatusCode, Json<Profile>)> {
    let org = body_org(&state, &caller, &body, &query).await?;
    let now = state.engine().clock.now();
    let profile = body.into_profile(Uuid::new_v4(), &org, now)?;
    let source = state.engine().sources.source(org.organization_id).await?;
    check_against_source(&profile, source.as_ref()).await?;
    ensure_unique_name(&state, &profile).await?;
    let created = admin::create_profile(state.engine(), profile).await?;
    tracing::info!(profile = %created.id, caller = %caller.object_id, "Profile created.");
    Ok((StatusCode::CREATED, Json(created)))
}

/// DES's wizard required unique names per organization.
async fn ensure_unique_name(state: &ApiState, profile: &Profile) -> ApiResult<()> {
    let taken = state
        .engine()
        .control
        .profiles()
        .await?
        .into_iter()
        .any(|p| {
            p.value.id != profile.id
                && p.value.organization_id == profile.organization_id
                && p.value.name.eq_ignore_ascii_case(&profile.name)
        });
    match taken {
        true => Err(ApiError::conflict(format!(
            "Name: a profile named '{}' already exists in this organization",
            profile.name
        ))),
        false => Ok(()),
    }
}

pub async fn get(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<Profile>> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    answer(&state, stored.value, query.flag("status")?).await
}

/// Replaces the settings; the id, state and creation time stay.
pub async fn update(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    DesJson(body): DesJson<ProfileBody>,
) -> ApiResult<Json<Profile>> {
    let (stored, org) = authorized(&state, &caller, &id).await?;
    if body
        .organization_id()
        .is_some_and(|o| o != org.organization_id)
    {
        return Err(ApiError::bad_request(
            "OrganizationId: a profile cannot move to another organization",
        ));
    }
    let current = stored.value;
    let mut profile = body.into_profile(current.id, &org, state.engine().clock.now())?;
    profile.state = current.state;
    profile.created_on = current.created_on;
    let source = state.engine().sources.source(org.organization_id).await?;
    check_against_source(&profile, source.as_ref()).await?;
    ensure_unique_name(&state, &profile).await?;
    let when = Precondition::Match(stored.etag);
    state.engine().control.put_profile(&profile, when).await?;
    tracing::info!(profile = %profile.id, caller = %caller.object_id, "Profile updated.");
    Ok(Json(profile))
}

pub async fn delete(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    state
        .engine()
        .control
        .delete_profile(stored.value.id)
        .await?;
    tracing::info!(profile = %stored.value.id, caller = %caller.object_id, "Profile deleted.");
    Ok(StatusCode::NO_CONTENT)
}

async fn activate_as(
    state: ApiState,
    caller: Caller,
    id: String,
    mode: Mode,
) -> ApiResult<Json<Profile>> {
    let (stored, org) = authorized(&state, &caller, &id).await?;
    if !org.privacy_terms_accepted {
        return Err(ApiError::conflict(format!(
            "Privacy terms: organization {} has not accepted them; POST \
             /crm/exporter/metadata/acceptprivacyterms first",
            org.organization_id
        )));
    }
    let profile = admin::activate(state.engine(), stored.value.id, mode).await?;
    tracing::info!(profile = %profile.id, ?mode, caller = %caller.object_id, "Profile activated.");
    Ok(Json(profile))
}

pub async fn activate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Profile>> {
    activate_as(state, caller, id, Mode::All).await
}

pub async fn activate_metadata(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Profile>> {
    activate_as(state, caller, id, Mode::MetadataOnly).await
}

pub async fn activate_data(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Profile>> {
    activate_as(state, caller, id, Mode::DataOnly).await
}

pub async fn deactivate(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Profile>> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    let profile = admin::deactivate(state.engine(), stored.value.id).await?;
    tracing::info!(profile = %profile.id, caller = %caller.object_id, "Profile deactivated.");
    Ok(Json(profile))
}

/// What a resync extension started.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResyncView {
    profile_id: Uuid,
    resynced: Vec<String>,
}

/// Extension: re-read one entity fully (`?entity=<logical name>`).
pub async fn resync_entity(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<(StatusCode, Json<ResyncView>)> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    let entity = query
        .get("entity")
        .ok_or_else(|| ApiError::bad_request("entity: is required"))?
        .to_owned();
    let profile_id = stored.value.id;
    admin::resync_entity(state.engine(), profile_id, &entity).await?;
    let view = ResyncView {
        profile_id,
        resynced: vec![entity],
    };
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// Extension: DES's "Resync failed records" for every entity with new failures.
pub async fn resync_failed(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ResyncView>)> {
    let (stored, _) = authorized(&state, &caller, &id).await?;
    let profile_id = stored.value.id;
    let resynced = admin::resync_failed(state.engine(), profile_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResyncView {
            profile_id,
            resynced,
        }),
    ))
}
