//! `/_emulator/keys`: the signing keys published in the JWKS, how often the JWKS was fetched,
//! and a rollover to a second key on demand.

use crate::control::Control;
use crate::server::ServerState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::sync::Arc;

pub fn router() -> Router<Arc<ServerState>> {
    Router::new()
        .route("/keys", get(keys))
        .route("/keys/rollover", post(rollover))
}

async fn keys(State(sh): State<Arc<ServerState>>) -> Response {
    let rollover = &sh.authority.rollover;
    Json(json!({"kids": rollover.kids(), "jwks_fetches": rollover.fetches()})).into_response()
}

async fn rollover(State(sh): State<Arc<ServerState>>) -> Response {
    match Control::new(sh).roll_signing_key() {
        Ok(kid) => Json(json!({"kid": kid})).into_response(),
        Err(e) => e.into_response(),
    }
}
