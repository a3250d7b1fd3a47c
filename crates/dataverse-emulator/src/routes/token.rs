//! Entra ID v2 endpoints: client-credentials token, OpenID configuration and JWKS.

use crate::server::ServerState;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

/// An Entra-style error body (`token-error.json`).
pub(super) fn token_error(
    status: StatusCode,
    error: &str,
    aadsts: u32,
    description: &str,
) -> Response {
    let trace = uuid::Uuid::new_v4();
    let correlation = uuid::Uuid::new_v4();
    let now = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{aadsts}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {stamp}"),
        "error_codes": [aadsts],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
    });
    (status, Json(body)).into_response()
}

pub async fn issue(
    State(sh): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if tenant != sh.tenant {
        let d = format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        );
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &d);
    }
    if form.grant_type.as_deref() == Some("authorization_code") {
        let mut fields = form.rest;
        fields.extend(form.client_id.map(|c| ("client_id".to_owned(), c)));
        fields.extend(form.scope.map(|s| ("scope".to_owned(), s)));
        return super::code_grant::redeem(&sh, &headers, &fields);
    }
    if form.grant_type.as_deref() != Some("client_credentials") {
        let d = "The provided value for the input parameter 'grant_type' is not valid. Expected values are the following: 'authorization_code', 'client_credentials'.";
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003, d);
    }
    let client = form.client_id.unwrap_or_default();
    let Some(secret) = sh.secret_of(&client) else {
        let d = format!(
            "Application with identifier '{client}' was not found in the directory '{tenant}'."
        );
        return token_error(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, &d);
    };
    if form.client_secret.as_deref() != Some(secret.as_str()) {
        let d = format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'."
        );
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, &d);
    }
    let scope = form.scope.unwrap_or_default();
    let resource = scope
        .strip_suffix("/.default")
        .map(|r| r.trim_end_matches('/'));
    let Some(resource) = resource.filter(|r| sh.authority.audiences.iter().any(|a| a == r)) else {
        let d = format!(
            "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
        );
        return token_error(StatusCode::BAD_REQUEST, "invalid_scope", 70011, &d);
    };
    let mut claims = sh
        .authority
        .claims(resource, ServerState::object_id_of(&client));
    claims.appid = Some(client);
    let token = sh.authority.sign(&claims);
    Json(json!({"token_type": "Bearer", "expires_in": crate::auth::TOKEN_LIFETIME_SECS, "access_token": token})).into_response()
}

pub async fn openid_configuration(
    State(sh): State<Arc<ServerState>>,
    Path(tenant): Path<String>,
) -> Response {
    let base = format!("{}/{tenant}", sh.base_url);
    Json(json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "response_modes_supported": ["query", "fragment"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "preferred_username", "oid", "tid", "ver"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "issuer": sh.authority.issuer,
        "tenant_region_scope": "EU",
    }))
    .into_response()
}

pub async fn jwks(State(sh): State<Arc<ServerState>>) -> Response {
    sh.authority.rollover.count_fetch();
    Json(sh.authority.jwks()).into_response()
}
