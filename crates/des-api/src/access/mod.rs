//! Authorization: a caller may act on an organization only as one of its enabled System
//! Administrators (directly or through a team), checked against that organization's Dataverse
//! with the service's own identity and remembered briefly ([`CachedAdminChecker`]).
//!
//! No existence oracle: a caller who is not a System Administrator of an organization gets the
//! same answer whether it is configured or not (403), and the same answer for a profile of it
//! as for a profile that does not exist (404).

mod cache;

use async_trait::async_trait;
use des_core::ports::{Organization, SourceError};
use tokio::time::Instant;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::{OrgRef, same_url};
use crate::state::ApiState;

pub use cache::{AdminRecheck, CachedAdminChecker};

/// Questions asked of an organization's Dataverse with the service's own identity.
#[async_trait]
pub trait AdminChecker: Send + Sync {
    /// True when the Entra user `object_id` holds System Administrator in `org`.
    async fn is_system_admin(
        &self,
        org: &Organization,
        object_id: Uuid,
    ) -> Result<bool, SourceError>;

    /// `WhoAmI`: the service's own `systemuserid` in `org` (the `test` reachability check).
    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError>;
}

/// The configured organization a query names (by id, by URL, or both, which must agree).
async fn find_org(state: &ApiState, wanted: &OrgRef) -> ApiResult<Option<Organization>> {
    let orgs = state.engine().control.organizations().await?;
    Ok(orgs.into_iter().find(|org| {
        wanted.id.is_none_or(|id| id == org.organization_id)
            && wanted
                .url
                .as_deref()
                .is_none_or(|url| same_url(url, &org.organization_url))
    }))
}

/// How the caller named the organization, for a message that only repeats it.
fn named(wanted: &OrgRef) -> ApiResult<String> {
    match (&wanted.id, &wanted.url) {
        (Some(id), Some(url)) => Ok(format!("organizationId {id} with organizationUrl {url}")),
        (Some(id), None) => Ok(format!("organizationId {id}")),
        (None, Some(url)) => Ok(format!("organizationUrl {url}")),
        (None, None) => Err(ApiError::bad_request(
            "organizationUrl or organizationId: one of them is required",
        )),
    }
}

/// True when `caller` is an enabled System Administrator of `org`; 503 when Dataverse
/// cannot say.
pub async fn is_admin(state: &ApiState, caller: &Caller, org: &Organization) -> ApiResult<bool> {
    let admin = state
        .admins()
        .is_system_admin(org, caller.object_id)
        .await
        .map_err(|e| {
            tracing::warn!(organization = %org.organization_id, error = %e, "Admin check failed.");
            ApiError::unavailable("Your role in the organization could not be checked.")
        })?;
    if !admin {
        tracing::info!(caller = %caller.object_id, organization = %org.organization_id, "Refused a caller without System Administrator.");
    }
    Ok(admin)
}

/// The organization `wanted` names, if `caller` administers it. An unknown organization and
/// one the caller does not administer get the same 403, which only repeats the caller's words.
pub async fn admin_org(
    state: &ApiState,
    caller: &Caller,
    wanted: &OrgRef,
) -> ApiResult<Organization> {
    let started = Instant::now();
    let named = named(wanted)?;
    let refused = || {
        ApiError::forbidden(format!(
            "You are not a System Administrator of an organization configured here as {named}."
        ))
    };
    let Some(org) = find_org(state, wanted).await? else {
        tracing::info!(caller = %caller.object_id, "Refused a call about an organization that is not configured.");
        return refuse_evenly(state, started, refused()).await;
    };
    match is_admin(state, caller, &org).await? {
        true => Ok(org),
        false => refuse_evenly(state, started, refused()).await,
    }
}

/// `refusal`, no sooner than [`ApiSettings::refusal_floor`](crate::ApiSettings) after
/// `started`, so a refusal's timing does not tell what exists.
pub async fn refuse_evenly<T>(
    state: &ApiState,
    started: Instant,
    refusal: ApiError,
) -> ApiResult<T> {
    tokio::time::sleep_until(started + state.settings().refusal_floor).await;
    Err(refusal)
}

/// The configured organization with this id, if any.
pub async fn org_by_id(state: &ApiState, id: Uuid) -> ApiResult<Option<Organization>> {
    let wanted = OrgRef {
        id: Some(id),
        url: None,
    };
    find_org(state, &wanted).await
}
