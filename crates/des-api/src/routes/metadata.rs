//! `/crm/exporter/metadata/*`: organizations, connector, exportable entities and M:N
//! relationships, privacy terms.

use axum::Json;
use axum::extract::State;
use des_core::ports::Organization;
use serde::Serialize;

use crate::access::{admin_org, is_admin};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::query::Query;
use crate::state::ApiState;

/// DES's organization object (`MsCrmOrganization`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationView {
    organization_name: String,
    organization_url: String,
    organization_id: uuid::Uuid,
    connector_url: String,
    error_category: i32,
    error_code: i32,
}

fn view(state: &ApiState, org: &Organization) -> OrganizationView {
    OrganizationView {
        organization_name: org.organization_name.clone(),
        organization_url: org.organization_url.clone(),
        organization_id: org.organization_id,
        connector_url: state.settings().connector_url(),
        error_category: 0,
        error_code: 0,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectorView {
    connector_url: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EntityView {
    logical_name: String,
    display_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RelationshipView {
    schema_name: String,
    entity1_logical_name: String,
    entity2_logical_name: String,
    intersect_entity_name: String,
}

/// The configured organizations where the caller is a System Administrator.
pub async fn organizations(
    State(state): State<ApiState>,
    caller: Caller,
) -> ApiResult<Json<Vec<OrganizationView>>> {
    let mut out = Vec::new();
    for org in state.engine().control.organizations().await? {
        // An organization whose Dataverse cannot answer is left out (logged), not a 503.
        if matches!(is_admin(&state, &caller, &org).await, Ok(true)) {
            out.push(view(&state, &org));
        }
    }
    Ok(Json(out))
}

pub async fn discover(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<OrganizationView>> {
    let org = admin_org(&state, &caller, &query.org()?).await?;
    Ok(Json(view(&state, &org)))
}

pub async fn connector(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<ConnectorView>> {
    admin_org(&state, &caller, &query.org()?).await?;
    Ok(Json(ConnectorView {
        connector_url: state.settings().connector_url(),
    }))
}

/// Exportable entities: change-tracked and not intersect entities (those come as M:N).
pub async fn entities(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Vec<EntityView>>> {
    let org = admin_org(&state, &caller, &query.org()?).await?;
    let source = state.engine().sources.source(org.organization_id).await?;
    let mut out: Vec<EntityView> = source
        .entities()
        .await?
        .into_iter()
        .filter(|e| e.change_tracking_enabled && !e.is_intersect)
        .map(|e| EntityView {
            display_name: e.display_name.unwrap_or_else(|| e.logical_name.clone()),
            logical_name: e.logical_name,
        })
        .collect();
    out.sort_by(|a, b| a.logical_name.cmp(&b.logical_name));
    Ok(Json(out))
}

/// Exportable M:N relationships: those whose intersect entity is change-tracked.
pub async fn relationships(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<Vec<RelationshipView>>> {
    let org = admin_org(&state, &caller, &query.org()?).await?;
    let source = state.engine().sources.source(org.organization_id).await?;
    let entities = source.entities().await?;
    let tracked = |name: &str| {
        entities
            .iter()
            .any(|e| e.logical_name.eq_ignore_ascii_case(name) && e.change_tracking_enabled)
    };
    let out = source
        .relationships()
        .await?
        .into_iter()
        .filter(|r| tracked(&r.intersect_entity_name))
        .map(|r| RelationshipView {
            schema_name: r.schema_name,
            entity1_logical_name: r.entity1_logical_name,
            entity2_logical_name: r.entity2_logical_name,
            intersect_entity_name: r.intersect_entity_name,
        })
        .collect();
    Ok(Json(out))
}

pub async fn has_accepted_privacy_terms(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<bool>> {
    let org = admin_org(&state, &caller, &query.org()?).await?;
    Ok(Json(org.privacy_terms_accepted))
}

pub async fn accept_privacy_terms(
    State(state): State<ApiState>,
    caller: Caller,
    query: Query,
) -> ApiResult<Json<bool>> {
    let mut org = admin_org(&state, &caller, &query.org()?).await?;
    if !org.privacy_terms_accepted {
        org.privacy_terms_accepted = true;
        state.engine().control.put_organization(&org).await?;
        tracing::info!(organization = %org.organization_id, caller = %caller.object_id, "Privacy terms accepted.");
    }
    Ok(Json(true))
}
