//! The route table: every operation's path, verb, parameters and documentation next to its
//! handler. The router and the OpenAPI document are both built from it, so they cannot drift.

mod checks;
mod docs;
mod failures;
mod listing;
mod metadata;
mod monitor;
mod operation;
mod profiles;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};

use crate::auth::unauthorized;
use crate::body::MAX_BODY_BYTES;
use crate::error::ApiError;
use crate::links::FAILURE_LOG_PATH;
use crate::state::ApiState;

use operation::route;
pub use operation::{In, Operation, Param, Route};

const ORG_URL: Param = Param {
    name: "organizationUrl",
    location: In::Query,
    required: false,
    kind: "string",
    description: "The organization's URL (name matched in any case). This or organizationId is required.",
};
const ORG_ID: Param = Param {
    name: "organizationId",
    location: In::Query,
    required: false,
    kind: "uuid",
    description: "The organization's id (name matched in any case). This or organizationUrl is required.",
};
const ID: Param = Param {
    name: "id",
    location: In::Path,
    required: true,
    kind: "uuid",
    description: "The profile id.",
};
const STATUS: Param = Param {
    name: "status",
    location: In::Query,
    required: false,
    kind: "boolean",
    description: "true adds each entity's Status object.",
};

const X_TOP: Param = Param {
    name: "x-top",
    location: In::Query,
    required: false,
    kind: "integer",
    description: "EXTENSION (not in DES): at most this many profiles (1 to 1000); a Link header names the next page.",
};
const X_SKIPTOKEN: Param = Param {
    name: "x-skiptoken",
    location: In::Query,
    required: false,
    kind: "string",
    description: "EXTENSION (not in DES): where the next page starts, as the Link header gave it.",
};

/// Every route of the API.
pub fn table() -> Vec<Route> {
    let mut routes = metadata_routes();
    routes.extend(profile_routes());
    routes.extend(other_routes());
    routes
}

fn metadata_routes() -> Vec<Route> {
    use metadata::*;
    let org = [ORG_URL, ORG_ID];
    let doc = |id, summary| (id, "Metadata", summary);
    vec![
        route(
            Method::GET,
            "/crm/exporter/metadata/organizations",
            doc(
                "Metadata_GetOrganizations",
                "Configured organizations where the caller is a System Administrator.",
            ),
            organizations,
        )
        .returns(StatusCode::OK, Some("[Organization]")),
        route(
            Method::GET,
            "/crm/exporter/metadata/discover",
            doc("Metadata_GetOrgDetails", "Details of one organization."),
            discover,
        )
        .params(&org)
        .returns(StatusCode::OK, Some("Organization")),
        route(
            Method::GET,
            "/crm/exporter/metadata/connector",
            doc(
                "Metadata_GetConnectorDetails",
                "The connector URL to send profile operations to.",
            ),
            connector,
        )
        .params(&org)
        .returns(StatusCode::OK, Some("ConnectorDetails")),
        route(
            Method::GET,
            "/crm/exporter/metadata/entities",
            doc(
                "Metadata_GetEntities",
                "Exportable (change-tracked) entities.",
            ),
            entities,
        )
        .params(&org)
        .returns(StatusCode::OK, Some("[ExportableEntity]")),
        route(
            Method::GET,
            "/crm/exporter/metadata/relationships",
            doc("Metadata_GetRelationships", "Exportable M:N relationships."),
            relationships,
        )
        .params(&org)
        .returns(StatusCode::OK, Some("[ExportableRelationship]")),
        route(
            Method::GET,
            "/crm/exporter/metadata/hasorgacceptedprivacyterms",
            doc(
                "Metadata_HasOrgAcceptedPrivacyTerms",
                "Whether the organization accepted the privacy terms.",
            ),
            has_accepted_privacy_terms,
        )
        .params(&org)
        .returns(StatusCode::OK, Some("boolean")),
        route(
            Method::POST,
            "/crm/exporter/metadata/acceptprivacyterms",
            doc(
                "Metadata_AcceptOrgPrivacyTerms",
                "Accepts the privacy terms for the organization (needed before activation).",
            ),
            accept_privacy_terms,
        )
        .params(&org)
        .returns(StatusCode::OK, Some("boolean")),
    ]
}

fn profile_routes() -> Vec<Route> {
    use profiles::*;
    let doc = |id, summary| (id, "Profiles", summary);
    let item = "/crm/exporter/profiles/{id}";
    vec![
        route(Method::GET, "/crm/exporter/profiles", doc("Profiles_GetProfilesByOrganizationId", "Profiles of an organization, by name. EXTENSION: x-top pages the list; a Link header (rel=\"next\") then names the next page."), listing::list)
            .params(&[ORG_URL, ORG_ID, STATUS, X_TOP, X_SKIPTOKEN]).returns(StatusCode::OK, Some("[Profile]")),
        route(Method::POST, "/crm/exporter/profiles", doc("Profiles_CreateProfile", "Creates an inactive profile."), create)
            .params(&[ORG_URL, ORG_ID]).body("ProfileDescription").returns(StatusCode::CREATED, Some("Profile")).conflicts(),
        route(Method::GET, item, doc("Profiles_GetProfileById", "One profile."), get)
            .params(&[ID, STATUS]).returns(StatusCode::OK, Some("Profile")),
        route(Method::PUT, item, doc("Profiles_UpdateProfile", "Replaces a profile's settings (id, state and creation time stay)."), update)
            .params(&[ID]).body("ProfileDescription").returns(StatusCode::OK, Some("Profile")).conflicts(),
        route(Method::DELETE, item, doc("Profiles_DeleteProfileById", "Deletes a profile (target tables are kept)."), delete)
            .params(&[ID]).returns(StatusCode::NO_CONTENT, None),
        route(Method::POST, "/crm/exporter/profiles/{id}/activate", doc("Profiles_Activate", "Starts schema and data replication."), activate)
            .params(&[ID]).returns(StatusCode::OK, Some("Profile")).conflicts(),
        route(Method::POST, "/crm/exporter/profiles/{id}/activatemetadata", doc("Profiles_ActivateMetadata", "Starts schema (metadata) replication only."), activate_metadata)
            .params(&[ID]).returns(StatusCode::OK, Some("Profile")).conflicts(),
        route(Method::POST, "/crm/exporter/profiles/{id}/activatedata", doc("Profiles_ActivateData", "Starts data replication."), activate_data)
            .params(&[ID]).returns(StatusCode::OK, Some("Profile")).conflicts(),
        route(Method::POST, "/crm/exporter/profiles/{id}/deactivate", doc("Profiles_Deactivate", "Stops replication; a later activation resumes."), deactivate)
            .params(&[ID]).returns(StatusCode::OK, Some("Profile")).conflicts(),
        route(Method::GET, "/crm/exporter/profiles/{id}/test", doc("Profiles_GetTestResultById", "Runs the checks on a stored profile."), checks::test)
            .params(&[ID]).returns(StatusCode::OK, Some("TestReport")),
        route(Method::POST, "/crm/exporter/profiles/validate", doc("Profiles_ValidateBeforeProfileCreation", "Runs the checks on a profile description."), checks::validate)
            .params(&[ORG_URL, ORG_ID]).body("ProfileDescription").returns(StatusCode::OK, Some("TestReport")),
        route(Method::GET, "/crm/exporter/profiles/{id}/failures", doc("Profiles_GetProfileFailuresInfoById", "A read-only link to the failure log, valid 24 hours."), failures::failures)
            .params(&[ID]).returns(StatusCode::OK, Some("FailuresInfo")),
        route(Method::POST, "/crm/exporter/profiles/{id}/x-resync", ("Extensions_ResyncEntity", "Extensions", "EXTENSION (not in DES): re-reads one entity fully, deleting rows the source no longer has."), resync_entity)
            .params(&[ID, Param { name: "entity", location: In::Query, required: true, kind: "string", description: "Logical name of an exported entity." }])
            .returns(StatusCode::ACCEPTED, Some("ResyncResult")).extension().conflicts(),
        route(Method::POST, "/crm/exporter/profiles/{id}/x-resyncfailed", ("Extensions_ResyncFailedRecords", "Extensions", "EXTENSION (not in DES): resyncs every entity with failures since its last resync (the DES UI's \"Resync failed records\")."), resync_failed)
            .params(&[ID]).returns(StatusCode::ACCEPTED, Some("ResyncResult")).extension().conflicts(),
        route(Method::GET, "/crm/exporter/profiles/{id}/x-monitor", ("Extensions_Monitor", "Extensions", "EXTENSION (not in DES): each entity's counters, pending batches and lag now, and the last hour of samples (rows applied, lag) for charts."), monitor::monitor)
            .params(&[ID]).returns(StatusCode::OK, Some("MonitorReport")).extension(),
    ]
}

fn other_routes() -> Vec<Route> {
    let sig = |name| Param {
        name,
        location: In::Query,
        required: true,
        kind: "string",
        description: "Part of the signed link.",
    };
    vec![
        route(Method::GET, "/crm/exporter/aad/challenge", ("Aad_Challenge", "Authentication", "Answers 401 with the WWW-Authenticate challenge naming the authority and the resource."), challenge)
            .returns(StatusCode::UNAUTHORIZED, Some("Error")).public(),
        route(Method::GET, FAILURE_LOG_PATH, ("FailureLog_Download", "Profiles", "The failure lines as text; the signed link from 'failures' (no bearer token)."), failures::download)
            .params(&[ID, sig("se"), sig("sig")]).returns(StatusCode::OK, Some("text")).public(),
        route(Method::GET, docs::DOCS_PATH, ("Docs_OpenApi", "Documentation", "This OpenAPI document."), docs::openapi)
            .public(),
        route(Method::GET, docs::UI_PATH, ("Docs_Ui", "Documentation", "A page that renders this document."), docs::ui)
            .public(),
    ]
}

async fn challenge(axum::extract::State(state): axum::extract::State<ApiState>) -> ApiError {
    unauthorized(state.authenticator().settings())
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such operation; see /swagger/ui/index.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "This operation does not accept that HTTP method.",
        "See /swagger/ui/index.",
    )
}

/// The API's router; mount it at the root of a listener.
pub fn router(state: ApiState) -> Router {
    let mut router = Router::new();
    for route in table() {
        router = router.route(route.operation.path, route.handler);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::monitor::count_requests,
        ))
        .layer(axum::middleware::from_fn(crate::refusal::guard))
        .layer(axum::middleware::from_fn(crate::span::request_span))
        .with_state(state)
}
