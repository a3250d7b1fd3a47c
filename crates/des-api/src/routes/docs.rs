//! The OpenAPI document (at DES's Swagger path) and a self-contained page that renders it
//! (no CDN: the page is one HTML file with inline script).

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::Value;

use crate::openapi;
use crate::state::ApiState;

pub const DOCS_PATH: &str = "/swagger/docs/2016-01-01";
pub const UI_PATH: &str = "/swagger/ui/index";

const UI_PAGE: &str = include_str!("../swagger_ui.html");

pub async fn openapi(State(state): State<ApiState>) -> Json<Value> {
    let operations: Vec<_> = super::table().into_iter().map(|r| r.operation).collect();
    Json(openapi::document(
        &operations,
        &state.settings().connector_url(),
    ))
}

pub async fn ui() -> Html<&'static str> {
    Html(UI_PAGE)
}
