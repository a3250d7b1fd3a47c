//! Authorization: a caller may act on an organization only as one of its System
//! Administrators (directly or through a team), checked against that organization's Dataverse
//! with the service's own identity and cached briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use des_core::ports::{Organization, SourceError};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::query::{OrgRef, same_url};
use crate::state::ApiState;

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

/// Remembers answers for `ttl`, so a burst of calls costs one role lookup.
pub struct CachedAdminChecker {
    inner: Arc<dyn AdminChecker>,
    ttl: Duration,
    answers: Mutex<HashMap<(Uuid, Uuid), (bool, Instant)>>,
}

impl CachedAdminChecker {
    pub fn new(inner: Arc<dyn AdminChecker>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            answers: Mutex::new(HashMap::new()),
        }
    }

    fn remembered(&self, key: (Uuid, Uuid)) -> Option<bool> {
        let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        answers
            .get(&key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(admin, _)| *admin)
    }
}

#[async_trait]
impl AdminChecker for CachedAdminChecker {
    async fn is_system_admin(&self, org: &Organization, oid: Uuid) -> Result<bool, SourceError> {
        let key = (org.organization_id, oid);
        if let Some(admin) = self.remembered(key) {
            return Ok(admin);
        }
        let admin = self.inner.is_system_admin(org, oid).await?;
        let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
        answers.retain(|_, (_, at)| at.elapsed() < self.ttl);
        answers.insert(key, (admin, Instant::now()));
        Ok(admin)
    }

    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError> {
        self.inner.who_am_i(org).await
    }
}

/// The configured organization a query names (by id, by URL, or both, which must agree).
pub async fn find_org(state: &ApiState, wanted: &OrgRef) -> ApiResult<Organization> {
    if wanted.id.is_none() && wanted.url.is_none() {
        return Err(ApiError::bad_request(
            "organizationUrl or organizationId: one of them is required",
        ));
    }
    let orgs = state.engine().control.organizations().await?;
    let found = orgs.into_iter().find(|org| {
        wanted.id.is_none_or(|id| id == org.organization_id)
            && wanted
                .url
                .as_deref()
                .is_none_or(|url| same_url(url, &org.organization_url))
    });
    found.ok_or_else(|| {
        let named = match (&wanted.id, &wanted.url) {
            (Some(id), Some(url)) => format!("organizationId {id} with organizationUrl {url}"),
            (Some(id), None) => format!("organizationId {id}"),
            (None, Some(url)) => format!("organizationUrl {url}"),
            (None, None) => String::new(),
        };
        ApiError::not_found(format!("Organization not configured: {named}."))
    })
}

/// Fails with 403 unless `caller` is a System Administrator of `org`.
pub async fn require_admin(state: &ApiState, caller: &Caller, org: &Organization) -> ApiResult<()> {
    let admin = state
        .admins()
        .is_system_admin(org, caller.object_id)
        .await
        .map_err(|e| {
            tracing::warn!(organization = %org.organization_id, error = %e, "Admin check failed.");
            ApiError::unavailable("Your role in the organization could not be checked.")
        })?;
    if admin {
        return Ok(());
    }
    tracing::info!(caller = %caller.object_id, organization = %org.organization_id, "Refused a caller without System Administrator.");
    Err(ApiError::forbidden(format!(
        "You are not a System Administrator of organization {}.",
        org.organization_id
    )))
}

/// [`find_org`] then [`require_admin`].
pub async fn admin_org(
    state: &ApiState,
    caller: &Caller,
    wanted: &OrgRef,
) -> ApiResult<Organization> {
    let org = find_org(state, wanted).await?;
    require_admin(state, caller, &org).await?;
    Ok(org)
}

/// The configured organization with this id.
pub async fn org_by_id(state: &ApiState, id: Uuid) -> ApiResult<Organization> {
    let wanted = OrgRef {
        id: Some(id),
        url: None,
    };
    find_org(state, &wanted).await
}
