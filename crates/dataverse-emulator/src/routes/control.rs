//! `/_emulator/*`: drive faults, token expiry, changes and user tokens from other processes.

use crate::control::Control;
use crate::cost::CostRequest;
use crate::faults::FaultRequest;
use crate::limits::LimitsRequest;
use crate::server::ServerState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<ServerState>> {
    Router::new()
        .route("/faults", post(faults))
        .route("/limits", get(limits).post(set_limits))
        .route("/cost", get(cost).post(set_cost))
        .route("/expire-tokens", post(expire_tokens))
        .route("/changes", post(changes))
        .route("/users/{oid}/token", post(user_token))
        .route("/attributes", post(add_attribute))
        .route("/attributes/max-length", post(set_max_length))
        .merge(super::keys::router())
}

async fn faults(State(sh): State<Arc<ServerState>>, Json(req): Json<FaultRequest>) -> StatusCode {
    sh.faults.apply(&req);
    StatusCode::NO_CONTENT
}

/// The limit values in force and every user's usage in the current window.
async fn limits(State(sh): State<Arc<ServerState>>) -> Response {
    Json(json!({"limits": sh.limits.settings(), "users": sh.limits.usage()})).into_response()
}

async fn set_limits(
    State(sh): State<Arc<ServerState>>,
    Json(req): Json<LimitsRequest>,
) -> Response {
    match req.apply_to(&sh.limits.settings()) {
        Ok(settings) => {
            sh.limits.set(settings);
            if req.reset {
                sh.limits.reset();
            }
            limits(State(sh)).await
        }
        Err(problem) => refused(&problem),
    }
}

async fn cost(State(sh): State<Arc<ServerState>>) -> Response {
    Json(CostRequest::from(sh.cost.get())).into_response()
}

async fn set_cost(State(sh): State<Arc<ServerState>>, Json(req): Json<CostRequest>) -> Response {
    match req.model() {
        Ok(model) => {
            sh.cost.set(model);
            cost(State(sh)).await
        }
        Err(problem) => refused(&problem),
    }
}

fn refused(problem: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": problem}))).into_response()
}

async fn expire_tokens(State(sh): State<Arc<ServerState>>) -> StatusCode {
    Control::new(sh).expire_change_tokens();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Changes {
    count: u32,
}

async fn changes(State(sh): State<Arc<ServerState>>, Json(req): Json<Changes>) -> Response {
    let control = Control::new(sh);
    let mut rng = fastrand::Rng::new();
    let mut applied = 0;
    for _ in 0..req.count {
        if control.random_change(&mut rng).is_ok() {
            applied += 1;
        }
    }
    Json(json!({"applied": applied})).into_response()
}

#[derive(Deserialize, Default)]
struct UserTokenRequest {
    audience: Option<String>,
}

async fn user_token(
    State(sh): State<Arc<ServerState>>,
    Path(oid): Path<uuid::Uuid>,
    body: Option<Json<UserTokenRequest>>,
) -> Response {
    let audience = body
        .and_then(|Json(b)| b.audience)
        .unwrap_or_else(|| sh.base_url.clone());
    let token = Control::new(sh).mint_user_token(oid, &audience);
    Json(json!({"token_type": "Bearer", "access_token": token})).into_response()
}

/// A schema change at run time, as a maker would make it in the portal.
#[derive(Deserialize)]
struct NewAttribute {
    entity: String,
    logical_name: String,
    /// `AttributeType`, e.g. `String` or `Integer`.
    kind: String,
    max_length: Option<i32>,
}

async fn add_attribute(
    State(sh): State<Arc<ServerState>>,
    Json(req): Json<NewAttribute>,
) -> Response {
    let added =
        Control::new(sh).add_attribute(&req.entity, &req.logical_name, &req.kind, req.max_length);
    match added {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct MaxLength {
    entity: String,
    attribute: String,
    max_length: i32,
}

async fn set_max_length(
    State(sh): State<Arc<ServerState>>,
    Json(req): Json<MaxLength>,
) -> Response {
    match Control::new(sh).set_max_length(&req.entity, &req.attribute, req.max_length) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}
