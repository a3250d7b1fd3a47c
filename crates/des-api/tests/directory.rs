//! `OrgClients` builds a client per organization: with the organization's app secret, or, for
//! one that names no secret, as the service itself when the deployment gives a way
//! (`with_service_identity`: the Functions apps' managed identity).

use std::sync::{Arc, Mutex};

use dataverse::{CachedToken, ClientCredentials};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_api::{AdminChecker, OrgClients, ServiceTokens};
use des_core::Secret;
use des_core::ports::{Organization, SourceError, TokenProvider};
use des_local::{LocalSecrets, SqliteControlStore};
use url::Url;

struct Setup {
    emulator: Emulator,
    control: Arc<SqliteControlStore>,
    secrets: Arc<LocalSecrets>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let control = SqliteControlStore::open(dir.path().join("control.db"))
        .await
        .expect("control");
    let secret = emulator.client_secret().to_owned();
    let secrets = LocalSecrets::new().with_vars([("DES_SECRET_DATAVERSE", secret)]);
    Setup {
        emulator,
        control: Arc::new(control),
        secrets: Arc::new(secrets),
        _dir: dir,
    }
}

fn organization(emulator: &Emulator, secret_ref: &str) -> Organization {
    Organization {
        organization_id: uuid::Uuid::new_v4(),
        organization_name: "Contoso".into(),
        organization_url: emulator.base_url(),
        tenant_id: emulator.tenant_id().to_owned(),
        client_id: emulator.client_id().to_owned(),
        client_secret_ref: secret_ref.to_owned(),
        privacy_terms_accepted: false,
    }
}

/// The service's identity, played by the emulator's app: it records the URLs asked for.
fn service_tokens(emulator: &Emulator, asked: Arc<Mutex<Vec<String>>>) -> Box<ServiceTokens> {
    let token_url = Url::parse(&emulator.token_url()).expect("url");
    let (client_id, secret) = (emulator.client_id().to_owned(), emulator.client_secret());
    let secret = secret.to_owned();
    Box::new(move |org_url: &Url| {
        asked.lock().unwrap().push(org_url.to_string());
        let scope = ClientCredentials::scope_for(org_url);
        let grant = ClientCredentials::new(
            token_url.clone(),
            &client_id,
            Secret::new(secret.clone()),
            &scope,
        );
        let tokens: Arc<dyn TokenProvider> = Arc::new(CachedToken::new(grant));
        Ok(tokens)
    })
}

fn clients(setup: &Setup) -> OrgClients {
    let authority = Url::parse(&setup.emulator.base_url()).expect("authority");
    OrgClients::new().with_credentials(
        Arc::clone(&setup.control) as _,
        Arc::clone(&setup.secrets) as _,
        authority,
    )
}

#[tokio::test]
async fn an_organization_without_a_secret_signs_in_as_the_service() {
    let setup = setup().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let clients =
        clients(&setup).with_service_identity(service_tokens(&setup.emulator, Arc::clone(&asked)));
    let org = organization(&setup.emulator, "");
    let user = clients
        .who_am_i(&org)
        .await
        .expect("signed in as the service");
    assert!(!user.is_nil());
    let org_url = Url::parse(&org.organization_url).unwrap().to_string();
    assert_eq!(*asked.lock().unwrap(), vec![org_url]);
    clients.who_am_i(&org).await.expect("again");
    assert_eq!(asked.lock().unwrap().len(), 1, "the client is built once");
}

#[tokio::test]
async fn an_organization_with_a_secret_uses_it_and_not_the_service() {
    let setup = setup().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let clients =
        clients(&setup).with_service_identity(service_tokens(&setup.emulator, Arc::clone(&asked)));
    let org = organization(&setup.emulator, "local:dataverse");
    clients
        .who_am_i(&org)
        .await
        .expect("signed in with the app secret");
    assert!(
        asked.lock().unwrap().is_empty(),
        "the service was not asked"
    );
}

#[tokio::test]
async fn without_a_service_identity_an_organization_needs_its_secret() {
    let setup = setup().await;
    let org = organization(&setup.emulator, "");
    let refused = clients(&setup).who_am_i(&org).await;
    assert!(matches!(refused, Err(SourceError::Auth(_))), "{refused:?}");
}
