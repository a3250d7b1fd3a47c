//! The three apps' processes: bind the host's port, answer readiness at once, wire in the
//! background, serve. Each binary's `main` calls one `run_*`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use des_api::portal::PortalSettings;
use des_api::{ApiSettings, ApiState, AuthSettings, Authenticator, LinkKey};
use des_azure::names::{
    API_AUDIENCE_SETTING, API_AUTHORITY_SETTING, APPLY_FUNCTION, POLL_FUNCTION,
    PUBLIC_BASE_URL_SETTING,
};
use tower::ServiceExt;

use crate::apply::ApplyFunction;
use crate::poll::PollFunction;
use crate::protocol::{Invocation, InvocationRequest};
use crate::server::{Wired, WiringError, bind, prepare, serve, with_readiness};
use crate::settings::Settings;
use crate::wiring::Wiring;

/// The API app: every request (forwarded by the host as is) goes to `des_api::router`.
pub async fn run_api() -> std::io::Result<()> {
    crate::logs::init();
    let listener = bind().await?;
    let wired = Wired::new(wire_api);
    wired.warm();
    let router = with_readiness(Router::new())
        .fallback(forward)
        .with_state(wired);
    let router = prepare(&listener, router);
    // des_api::serve gives hyper's own refusals (oversized heads) DES's error body.
    des_api::serve(listener, router, std::future::pending()).await
}

async fn wire_api() -> Result<Router, WiringError> {
    let settings = Settings::from_env()?;
    let authority = Settings::required(&settings.api_authority, API_AUTHORITY_SETTING)?.clone();
    let audiences = Settings::required(&settings.api_audience, API_AUDIENCE_SETTING)?;
    let audiences: Vec<String> = audiences.split(',').map(|a| a.trim().to_owned()).collect();
    let base = Settings::required(&settings.public_base_url, PUBLIC_BASE_URL_SETTING)?.clone();
    let mut auth = AuthSettings::new(authority.clone(), String::new());
    auth.audiences = audiences.into_iter().filter(|a| !a.is_empty()).collect();
    if let Some(scope) = &settings.api_scope {
        auth.scope.clone_from(scope);
    }
    auth.app_roles.clone_from(&settings.api_app_roles);
    let portal = portal_settings(&settings, authority, &auth.audiences);
    let authenticator = Authenticator::new(auth).map_err(|e| WiringError::new("API tokens", e))?;
    let wiring = Wiring::connect(settings).await?;
    let state = ApiState::new(
        wiring.ports(),
        Arc::clone(&wiring.secrets) as _,
        authenticator,
        Arc::clone(&wiring.sources) as _,
        ApiSettings::new(base, LinkKey::random()),
    )
    .with_failure_links(Arc::clone(&wiring.failures) as _);
    Ok(des_api::router(state).merge(des_api::portal::router(portal)))
}

/// The admin portal signs in at the API's authority and asks for the API's delegated scope.
fn portal_settings(
    settings: &Settings,
    authority: url::Url,
    audiences: &[String],
) -> PortalSettings {
    let audience = audiences.first().map_or("", |a| a.trim_end_matches('/'));
    PortalSettings {
        client_id: settings.portal_client_id.clone(),
        authority,
        scope: settings
            .portal_scope
            .clone()
            .unwrap_or_else(|| format!("{audience}/user_impersonation")),
    }
}

async fn forward(State(wired): State<Arc<Wired<Router>>>, request: Request) -> Response {
    match wired.get().await {
        Ok(router) => match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err(error) => {
            tracing::error!(%error, "The API is not wired.");
            des_api::ApiError::unavailable("The service is starting or misconfigured; see its log.")
                .into_response()
        }
    }
}

/// The poller app: `POST /poll` per timer tick.
pub async fn run_poller() -> std::io::Result<()> {
    crate::logs::init();
    let listener = bind().await?;
    let wired = Wired::new(|| async {
        let settings = Settings::from_env()?;
        let budget = settings.poll_budget;
        let wiring = Wiring::connect(settings).await?;
        Ok(PollFunction::new(wiring.ports(), budget))
    });
    wired.warm();
    let path = format!("/{POLL_FUNCTION}");
    let router = with_readiness(Router::new())
        .route(&path, post(invoke_poll))
        .with_state(wired);
    serve(listener, router).await
}

async fn invoke_poll(State(wired): State<Arc<Wired<PollFunction>>>, body: Bytes) -> Invocation {
    // A timer needs no data: a body whose shape the host changed is no reason to skip a tick.
    let request = InvocationRequest::parse(&body).unwrap_or_default();
    match wired.get().await {
        Ok(function) => function.invoke(&request).await,
        Err(error) => Invocation::failed(vec![format!("Not wired: {error}")]),
    }
}

/// The applier app: `POST /apply` per queue message.
pub async fn run_applier() -> std::io::Result<()> {
    crate::logs::init();
    let listener = bind().await?;
    let wired = Wired::new(|| async {
        let settings = Settings::from_env()?;
        let max = settings.max_dequeue_count;
        let wiring = Wiring::connect(settings).await?;
        Ok(ApplyFunction::new(wiring.ports(), max))
    });
    wired.warm();
    let path = format!("/{APPLY_FUNCTION}");
    let router = with_readiness(Router::new())
        .route(&path, post(invoke_apply))
        .with_state(wired);
    serve(listener, router).await
}

async fn invoke_apply(State(wired): State<Arc<Wired<ApplyFunction>>>, body: Bytes) -> Invocation {
    let request = match InvocationRequest::parse(&body) {
        Ok(request) => request,
        Err(error) => return Invocation::failed(vec![error.to_string()]),
    };
    match wired.get().await {
        Ok(function) => function.invoke(&request).await,
        Err(error) => Invocation::failed(vec![format!("Not wired: {error}")]),
    }
}
