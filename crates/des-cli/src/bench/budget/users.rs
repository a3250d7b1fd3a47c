//! `--app-users N`: the parallel reader again, through N app users of the same emulator, each
//! with its own budget. The bound scales with the users (N budgets), the longest stream not.

use std::sync::Arc;

use anyhow::Context;
use dataverse::{CachedToken, ClientConfig, ClientCredentials, DataverseClient, TokenProvider};
use dataverse_emulator::Emulator;
use des_core::Secret;
use url::Url;

use super::figures::Budget;
use crate::environment::Environment;

/// The bench's own app user first, then `n - 1` more registered at `emulator`.
pub fn environment(
    env: &Environment,
    emulator: &Emulator,
    n: usize,
) -> anyhow::Result<Environment> {
    let org_url = Url::parse(&emulator.base_url())?;
    let token_url = Url::parse(&emulator.token_url())?;
    let scope = ClientCredentials::scope_for(&org_url);
    let mut users = vec![(
        emulator.client_id().to_owned(),
        emulator.client_secret().to_owned(),
    )];
    for i in 1..n {
        let id = uuid::Uuid::new_v4().to_string();
        let secret = format!("bench-app-user-{i}");
        emulator.control().register_confidential_app(&id, &secret);
        users.push((id, secret));
    }
    let tokens: Vec<Arc<dyn TokenProvider>> = users
        .into_iter()
        .map(|(id, secret)| {
            let grant = ClientCredentials::new(token_url.clone(), &id, Secret::new(secret), &scope);
            Arc::new(CachedToken::new(grant)) as Arc<dyn TokenProvider>
        })
        .collect();
    let client = DataverseClient::with_app_users(ClientConfig::new(org_url), tokens)
        .context("cannot build the bench's client of several app users")?;
    Ok(Environment {
        client: Arc::new(client),
        emulator: None,
        org_url: env.org_url.clone(),
        tenant: env.tenant.clone(),
        client_id: env.client_id.clone(),
        authority: env.authority.clone(),
    })
}

/// What `n` users' budgets allow together: n times the execution time, requests and
/// requests in flight of one.
pub fn budget_of(one: Budget, n: usize) -> Budget {
    let n32 = u32::try_from(n).unwrap_or(u32::MAX);
    Budget {
        execution_secs: one.execution_secs * n as f64,
        requests: one.requests.saturating_mul(n32),
        concurrent: one.concurrent.saturating_mul(n32),
        ..one
    }
}
