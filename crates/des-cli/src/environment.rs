//! The Dataverse side of a command: a real environment signed in with client credentials, or
//! the built-in emulator started in this process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use dataverse::{CachedToken, ClientConfig, ClientCredentials, DataverseClient, TokenProvider};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_core::Secret;
use des_core::ports::Source;
use url::Url;

use crate::config::SourceSettings;

/// A connected source and, when it is the emulator, the emulator itself.
pub struct Environment {
    pub client: Arc<DataverseClient>,
    pub emulator: Option<Emulator>,
    pub org_url: String,
    pub tenant: String,
    pub client_id: String,
    /// Where tokens come from: the cloud's authority, or the emulator itself.
    pub authority: Url,
}

/// Emulator options that only `run` and `bench` set.
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    pub state_file: Option<PathBuf>,
    pub seed: Option<u64>,
    /// Row counts that differ from `records`, by entity.
    pub records_per_entity: HashMap<String, usize>,
}

impl Environment {
    pub async fn connect(
        settings: &SourceSettings,
        options: EmulatorOptions,
    ) -> anyhow::Result<Self> {
        match settings {
            SourceSettings::Emulator { records, port } => {
                start_emulator(*records, *port, options).await
            }
            SourceSettings::Dataverse {
                url,
                tenant,
                client_id,
                secret,
                more_users,
                authority,
            } => {
                let org_url =
                    Url::parse(url).with_context(|| format!("bad --dataverse-url {url}"))?;
                let first = (client_id.as_str(), secret);
                let users = std::iter::once(first)
                    .chain(more_users.iter().map(|u| (u.client_id.as_str(), &u.secret)));
                let mut tokens: Vec<Arc<dyn TokenProvider>> = Vec::new();
                for (id, secret) in users {
                    let credentials = ClientCredentials::for_tenant(
                        authority,
                        tenant,
                        id,
                        secret.clone(),
                        &org_url,
                    )?;
                    tokens.push(Arc::new(CachedToken::new(credentials)));
                }
                let client = Arc::new(DataverseClient::with_app_users(
                    ClientConfig::new(org_url),
                    tokens,
                )?);
                Ok(Self {
                    client,
                    emulator: None,
                    org_url: url.clone(),
                    tenant: tenant.clone(),
                    client_id: client_id.clone(),
                    authority: authority.clone(),
                })
            }
        }
    }

    /// The client as the engine's `Source` port.
    pub fn source(&self) -> Arc<dyn Source> {
        Arc::clone(&self.client) as Arc<dyn Source>
    }

    /// Stops the emulator, if this environment started one.
    pub async fn shutdown(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}

async fn start_emulator(
    records: usize,
    port: u16,
    options: EmulatorOptions,
) -> anyhow::Result<Environment> {
    let config = EmulatorConfig {
        port,
        records,
        records_per_entity: options.records_per_entity,
        seed: options.seed.unwrap_or(42),
        state_file: options.state_file,
        ..Default::default()
    };
    let emulator = Emulator::start(config)
        .await
        .context("cannot start the Dataverse emulator")?;
    let secret = Secret::new(emulator.client_secret());
    let mut env = Environment::at_emulator(EmulatorAddress::of(&emulator), secret)?;
    env.emulator = Some(emulator);
    Ok(env)
}

/// Where an emulator listens and the app user it knows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EmulatorAddress {
    pub base_url: String,
    pub token_url: String,
    pub tenant: String,
    pub client_id: String,
}

impl EmulatorAddress {
    pub fn of(emulator: &Emulator) -> Self {
        Self {
            base_url: emulator.base_url(),
            token_url: emulator.token_url(),
            tenant: emulator.tenant_id().to_string(),
            client_id: emulator.client_id().to_string(),
        }
    }
}

impl Environment {
    /// An emulator this process did not start (the bench's, in a process of its own).
    pub fn at_emulator(address: EmulatorAddress, secret: Secret) -> anyhow::Result<Self> {
        let org_url = Url::parse(&address.base_url)?;
        let token_url = Url::parse(&address.token_url)?;
        let scope = ClientCredentials::scope_for(&org_url);
        let credentials = ClientCredentials::new(token_url, &address.client_id, secret, &scope);
        Ok(Environment {
            client: client_for(org_url.clone(), credentials)?,
            org_url: address.base_url,
            tenant: address.tenant,
            client_id: address.client_id,
            authority: org_url,
            emulator: None,
        })
    }
}

fn client_for(
    org_url: Url,
    credentials: ClientCredentials,
) -> anyhow::Result<Arc<DataverseClient>> {
    let tokens = Arc::new(CachedToken::new(credentials));
    let client = DataverseClient::new(ClientConfig::new(org_url), tokens)
        .context("cannot build the Dataverse client")?;
    Ok(Arc::new(client))
}

/// The port the emulator listens on.
pub fn emulator_port(emulator: &Emulator) -> Option<u16> {
    Url::parse(&emulator.base_url()).ok()?.port()
}

/// What a user needs to talk to the emulator themselves, with a curl example that signs in
/// and creates an account. The emulator's secret is a fixed sample value, not a real one.
pub fn emulator_banner(emulator: &Emulator) -> String {
    let api = emulator.api_url();
    let token_url = emulator.token_url();
    let (client_id, secret) = (emulator.client_id(), emulator.client_secret());
    let scope = format!("{}/.default", emulator.base_url().trim_end_matches('/'));
    format!(
        "Dataverse emulator listening on {base}\n\
         \x20 Web API:       {api}\n\
         \x20 token URL:     {token_url}\n\
         \x20 tenant id:     {tenant}\n\
         \x20 client id:     {client_id}\n\
         \x20 client secret: {secret}\n\
         Try it:\n\
         \x20 TOKEN=$(curl -s -X POST '{token_url}' -d grant_type=client_credentials \
         -d client_id={client_id} -d client_secret={secret} -d scope={scope} \
         | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n\
         \x20 curl -s -X POST '{api_root}accounts' -H \"Authorization: Bearer $TOKEN\" \
         -H 'Content-Type: application/json' -d '{{\"name\":\"Hello from curl\"}}'",
        base = emulator.base_url(),
        tenant = emulator.tenant_id(),
        api_root = with_slash(&api),
    )
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}
