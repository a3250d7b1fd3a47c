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
    let router = des_api::router(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    if let Some(emulator) = parts.emulator {
        emulator
            .control()
            .add_user(SAMPLE_ADMIN_OID, "DES Sample Admin", true);
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
    let auth = AuthSettings::new(authority, args.api_audience.clone());
    let authenticator = Authenticator::new(auth).context("API authentication")?;
    let key = LinkKey::new(link_key::load_or_create(parts.data_dir)?);
    let settings = ApiSettings::new(Url::parse(base_url)?, key);
    Ok(ApiState::new(
        parts.ports.clone(),
        Arc::clone(&parts.secrets),
        authenticator,
        Arc::clone(&parts.clients) as _,
        settings,
    ))
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
    let mut out = format!(
        "DES API listening on {api} (OpenAPI UI: {api}/swagger/ui/index)\n\
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
