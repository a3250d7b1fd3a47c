//! The admin portal: static files compiled into the binary (no build chain, no CDN) and the
//! sign-in settings the page reads from `/portal/config.json`. The page signs the person in
//! with Entra ID (authorization code flow with PKCE, `static/auth.js`) and then calls this
//! API like any client, with the person's token: it can do nothing the API would refuse.
//!
//! Served at `/` (the page) and `/portal/*` (its files), beside the API's `/crm/exporter/*`.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use url::Url;

/// The page's files: name, content type, body.
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("static/app.js")),
    ("auth.js", JS, include_str!("static/auth.js")),
    ("api.js", JS, include_str!("static/api.js")),
    ("charts.js", JS, include_str!("static/charts.js")),
    ("dom.js", JS, include_str!("static/dom.js")),
    ("profiles.js", JS, include_str!("static/profiles.js")),
    ("actions.js", JS, include_str!("static/actions.js")),
    ("wizard.js", JS, include_str!("static/wizard.js")),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("static/app.css"),
    ),
];
const JS: &str = "text/javascript; charset=utf-8";
const INDEX: &str = include_str!("static/index.html");

/// Where and how the page signs people in; from configuration, never hard-coded.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// The Entra app registration of the page (a single-page application); `None` serves a
    /// page that says what to configure.
    pub client_id: Option<String>,
    /// `https://login.microsoftonline.com/<tenant>/v2.0` (or the emulator's issuer).
    pub authority: Url,
    /// The delegated scope of this API, e.g. `api://des-api/user_impersonation`.
    pub scope: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageConfig {
    client_id: Option<String>,
    authority: String,
    scope: String,
}

/// The portal's routes; merge them into the API's router.
pub fn router(settings: PortalSettings) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/portal/config.json", get(config))
        .route("/favicon.ico", get(icon))
        .route("/portal/{file}", get(file))
        // The API's outer layer here too: the same head limits, and DES's error body on
        // every refusal, whichever router answers.
        .layer(axum::middleware::from_fn(crate::refusal::guard))
        .with_state(std::sync::Arc::new(settings))
}

type Settings = State<std::sync::Arc<PortalSettings>>;

async fn index(State(settings): Settings) -> Response {
    let mut response =
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response();
    let policy = content_security_policy(&settings.authority);
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Scripts and styles only from this origin; calls to this origin and the authority (its
/// discovery document and token endpoint); no framing.
fn content_security_policy(authority: &Url) -> String {
    let issuer = authority.origin().ascii_serialization();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' {issuer}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
}

async fn config(State(settings): Settings) -> Json<PageConfig> {
    Json(PageConfig {
        client_id: settings.client_id.clone(),
        authority: settings.authority.as_str().trim_end_matches('/').to_owned(),
        scope: settings.scope.clone(),
    })
}

/// Browsers ask every origin for `/favicon.ico`, also on the API's text pages (the failure
/// log); an SVG answers it.
async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 16 16\">\
<rect width=\"16\" height=\"16\" rx=\"3\" fill=\"#1f3a5f\"/>\
<path d=\"M4 4h4a4 4 0 0 1 0 8H4z\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2\"/></svg>";

async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "No such file.").into_response(),
    }
}
