//! The DES REST API inside `des run`: `des_api::router` on 127.0.0.1, over the same control
//! store and engine ports as the replication, stopped with it.
//!
//! In local mode the emulator is both the token issuer and the Dataverse: a sample System
//! Administrator is added to it, and the start-up banner shows how to get that user's token
//! and call the API with curl.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use dataverse_emulator::Emulator;
use des_api::portal::PortalSettings;
use des_api::{ApiSettings, ApiState, AuthSettings, Authenticator, LinkKey, OrgClients};
use des_core::ports::{Organization, Secrets};
use des_engine::EnginePorts;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;
use uuid::{Uuid, uuid};

use crate::link_key;

/// The `aud` the API accepts unless `--api-audience` says otherwise.
pub const DEFAULT_AUDIENCE: &str = "api://data-export-service";
/// The emulator's sample admin: fixed, so a token curl copied once keeps working.
pub const SAMPLE_ADMIN_OID: Uuid = uuid!("5a3e1d0c-0de5-4c11-9a7e-000000000a11");
/// A sample user without System Administrator, to see what the portal shows such a person.
pub const SAMPLE_USER_OID: Uuid = uuid!("5a3e1d0c-0de5-4c11-9a7e-000000000b22");
/// The portal's app registration in the emulator (a single-page app).
pub const EMULATOR_PORTAL_CLIENT_ID: &str = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Port of the DES API on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 7071)]
    api_port: u16,
    /// Do not serve the DES API.
    #[arg(long)]
    no_api: bool,
    /// The token audience the API accepts (its app id URI or client id).
    #[arg(long, default_value = DEFAULT_AUDIENCE)]
    api_audience: String,
    /// The delegated permission user tokens must carry in `scp`.
    #[arg(long, default_value = des_api::DEFAULT_SCOPE)]
    api_scope: String,
    /// Admit app-only tokens carrying this app role (repeatable); without it they are refused.
    #[arg(long = "api-app-role")]
    api_app_roles: Vec<String>,
    /// The least time, in milliseconds, a refusal about an organization or profile takes, so
    /// its timing does not tell which exist (0 turns it off, e.g. for a fuzzer's throughput).
    #[arg(long, default_value_t = des_api::REFUSAL_FLOOR.as_millis() as u64)]
    api_refusal_floor_ms: u64,
    /// The admin portal's Entra app registration (a single-page app); with the built-in
    /// emulator, the emulator's own portal app.
    #[arg(long, env = "DES_PORTAL_CLIENT_ID")]
    portal_client_id: Option<String>,
    /// The delegated scope the portal asks for; default `<api audience>/user_impersonation`.
    #[arg(long, env = "DES_PORTAL_SCOPE")]
    portal_scope: Option<String>,
}

/// How long requests in flight may take to finish once the API stops.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// What the API is built from.
pub struct ApiParts<'a> {
    pub ports: EnginePorts,
    pub secrets: Arc<dyn Secrets>,
    pub clients: Arc<OrgClients>,
    pub emulator: Option<&'a Emulator>,
    pub org: &'a Organization,
    pub data_dir: &'a Path,
    /// The Entra authority of the environment (`--authority`); the API accepts tokens its
    /// tenant issues.
    pub authority: &'a Url,
}

/// The running API.
pub struct ApiServer {
    pub base_url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl ApiServer {
    /// Stops accepting and lets requests in flight finish, for at most [`DRAIN`].
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(DRAIN, &mut self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => tracing::warn!(%error, "The API server stopped with an error."),
            Ok(Err(error)) => tracing::warn!(%error, "The API server task failed."),
            Err(_) => {
                tracing::warn!("API requests still running after the drain time; cut off.");
                self.task.abort();
            }
        }
    }
}

/// Binds and serves the API, unless `--no-api`.
pub async fn start(args: &ApiArgs, parts: ApiParts<'_>) -> anyhow::Result<Option<ApiServer>> {
    if args.no_api {
        return Ok(None);
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.api_port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{} for the DES API (choose --api-port, or --no-api)",
                args.api_port
            )
        })?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let state = state(args, &parts, &base_url)?;
    let (stop, stopped) = oneshot::channel::<()>();
    state.monitor().start_sampling(parts.ports.clone());
    let portal = portal_settings(args, &parts, state.authenticator().settings())?;
    let metrics = axum::Router::new()
        .route("/metrics", axum::routing::get(des_api::monitor::metrics))
        .with_state(state.clone());
    let router = des_api::router(state)
        .merge(des_api::portal::router(portal))
        .merge(metrics);
    let task = tokio::spawn(des_api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    if let Some(emulator) = parts.emulator {
        let control = emulator.control();
        control.add_user(SAMPLE_ADMIN_OID, "DES Sample Admin", true);
        control.add_user(SAMPLE_USER_OID, "DES Sample User", false);
        control.register_app(EMULATOR_PORTAL_CLIENT_ID, &redirect_uris(&base_url));
    }
    Ok(Some(ApiServer {
        base_url,
        stop,
        task,
    }))
}

fn state(args: &ApiArgs, parts: &ApiParts<'_>, base_url: &str) -> anyhow::Result<ApiState> {
    let authority = match parts.emulator {
        Some(emulator) => emulator.issuer(),
        None => format!(
            "{}/{}/v2.0",
            parts.authority.as_str().trim_end_matches('/'),
            parts.org.tenant_id
        ),
    };
    let authority = Url::parse(&authority).context("token issuer URL")?;
    let mut auth = AuthSettings::new(authority, args.api_audience.clone());
    auth.scope = args.api_scope.clone();
    auth.app_roles = args.api_app_roles.clone();
    let authenticator = Authenticator::new(auth).context("API authentication")?;
    let key = LinkKey::new(link_key::load_or_create(parts.data_dir)?);
    let mut settings = ApiSettings::new(Url::parse(base_url)?, key);
    settings.refusal_floor = std::time::Duration::from_millis(args.api_refusal_floor_ms);
    Ok(ApiState::new(
        parts.ports.clone(),
        Arc::clone(&parts.secrets),
        authenticator,
        Arc::clone(&parts.clients) as _,
        settings,
    ))
}

/// The portal's sign-in settings: the API's authority, the emulator's portal app in local
/// mode, and the API's delegated scope.
fn portal_settings(
    args: &ApiArgs,
    parts: &ApiParts<'_>,
    auth: &AuthSettings,
) -> anyhow::Result<PortalSettings> {
    let client_id = args
        .portal_client_id
        .clone()
        .or_else(|| parts.emulator.map(|_| EMULATOR_PORTAL_CLIENT_ID.to_owned()));
    let audience = args.api_audience.trim_end_matches('/');
    let scope = args
        .portal_scope
        .clone()
        .unwrap_or_else(|| format!("{audience}/user_impersonation"));
    Ok(PortalSettings {
        client_id,
        authority: auth.authority.clone(),
        scope,
    })
}

/// The page's address as typed: the printed 127.0.0.1 one and its `localhost` twin.
fn redirect_uris(base_url: &str) -> Vec<String> {
    let page = format!("{base_url}/");
    vec![page.clone(), page.replace("127.0.0.1", "localhost")]
}

/// Where the API listens and, in local mode, a ready-to-paste curl: a user token from the
/// emulator, then the profiles with their status.
pub fn banner(
    server: &ApiServer,
    args: &ApiArgs,
    emulator: Option<&Emulator>,
    org: &Organization,
) -> String {
    let api = &server.base_url;
    let terms = if org.privacy_terms_accepted {
        "accepted"
    } else {
        "not accepted yet (POST /crm/exporter/metadata/acceptprivacyterms)"
    };
    let who = match emulator {
        Some(_) => " (sign in as DES Sample Admin)",
        None if args.portal_client_id.is_none() => {
            " (needs --portal-client-id: the portal's Entra app registration)"
        }
        None => "",
    };
    let mut out = format!(
        "Admin portal: {api}/{who}\n\
         DES API listening on {api} (OpenAPI UI: {api}/swagger/ui/index, Prometheus: {api}/metrics)\n\
         \x20 organization:  {url} ({id}), privacy terms {terms}",
        url = org.organization_url,
        id = org.organization_id,
    );
    if org.privacy_terms_accepted && emulator.is_some() {
        out +=
            "\n  (accepted for this local sample organization, so its profiles work as they are)";
    }
    let Some(emulator) = emulator else {
        return out;
    };
    let base = emulator.base_url();
    let body = format!("{{\"audience\":\"{}\"}}", args.api_audience);
    out += &format!(
        "\n\x20 sample admin:  {SAMPLE_ADMIN_OID} (System Administrator in the emulator)\n\
         Call the API:\n\
         \x20 API_TOKEN=$(curl -s -X POST '{base}/_emulator/users/{SAMPLE_ADMIN_OID}/token' \
         -H 'Content-Type: application/json' -d '{body}' \
         | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\
         \x20 curl -s '{api}/crm/exporter/profiles?status=true&organizationUrl={url}&organizationId={id}' \
         -H \"Authorization: Bearer $API_TOKEN\"",
        url = org.organization_url,
        id = org.organization_id,
    );
    out
}
