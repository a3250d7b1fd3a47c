//! The organization `des run` exports from, registered once in the control store, and the
//! secret store its target and client secret are resolved through.

use des_core::ports::{ControlStore, Organization, SourceError};
use des_local::LocalSecrets;
use tokio::sync::watch;

use crate::config::{CLIENT_SECRET_ENV, SourceSettings};
use crate::environment::Environment;
use crate::patience::patiently;
use crate::replication::LocalStores;
use crate::target::Target;

/// The reference every profile of `des run` names its target by.
pub const TARGET_SECRET_REF: &str = "local:target";

/// The stored organization of the signed-in environment, registered on first use (its id
/// from `WhoAmI`). The emulator's sample organization accepts the privacy terms at once, so
/// the CLI's own profile and profiles made through the API work as they are; a real
/// environment's admin accepts them through the API first.
pub async fn register(
    stores: &LocalStores,
    settings: &SourceSettings,
    env: &Environment,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Organization> {
    let who = patiently("signing in", stop, || async {
        env.client.who_am_i().await.map_err(|error| {
            // Throttled or unavailable is not refused: only a refusal is "cannot sign in".
            let transient = matches!(error, SourceError::Unavailable(_));
            let error = anyhow::Error::from(error);
            if transient {
                error
            } else {
                error.context("cannot sign in to Dataverse")
            }
        })
    })
    .await?;
    let stored = stores.control.organizations().await?;
    if let Some(org) = stored
        .into_iter()
        .find(|o| o.organization_id == who.organization_id)
    {
        return Ok(org);
    }
    let (client_secret_ref, local) = match settings {
        SourceSettings::Emulator { .. } => (String::new(), true),
        SourceSettings::Dataverse { .. } => (format!("env:{CLIENT_SECRET_ENV}"), false),
    };
    let org = Organization {
        organization_id: who.organization_id,
        organization_name: env.org_url.clone(),
        organization_url: env.org_url.clone(),
        tenant_id: env.tenant.clone(),
        client_id: env.client_id.clone(),
        client_secret_ref,
        privacy_terms_accepted: local,
    };
    stores.control.put_organization(&org).await?;
    Ok(org)
}

/// `local:` names from `DES_SECRET_<NAME>` or `<data_dir>/secrets.json` (0600), `env:` names
/// from the environment; `local:target` is this run's target, kept in memory only.
pub fn secrets(data_dir: &std::path::Path, target: &Target) -> LocalSecrets {
    let name = LocalSecrets::env_var_name("target");
    let secret = target.secret().expose().to_owned();
    let vars = std::env::vars().chain([(name, secret)]);
    LocalSecrets::new()
        .with_file(data_dir.join("secrets.json"))
        .with_vars(vars)
}
