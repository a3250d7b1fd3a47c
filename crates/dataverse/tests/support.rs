//! A running emulator and clients pointed at it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dataverse::{
    AccessToken, CachedToken, ClientConfig, ClientCredentials, DataverseClient, RetryPolicy,
    TokenError, TokenProvider,
};
use dataverse_emulator::{Emulator, EmulatorConfig};
use des_core::Secret;
use des_core::ports::{NextLink, Page, PageRequest, Source};
use url::Url;

pub struct Env {
    pub emulator: Emulator,
    pub client: DataverseClient,
}

pub async fn emulator(records: usize) -> Emulator {
    Emulator::start(EmulatorConfig {
        port: 0,
        records,
        ..Default::default()
    })
    .await
    .expect("emulator starts")
}

/// Short waits so fault tests stay fast; the caps still apply.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        max_total_wait: Duration::from_secs(10),
    }
}

pub fn credentials(emulator: &Emulator) -> ClientCredentials {
    let token_url = Url::parse(&emulator.token_url()).expect("token url");
    let org = Url::parse(&emulator.base_url()).expect("base url");
    let secret = Secret::new(emulator.client_secret());
    ClientCredentials::new(
        token_url,
        emulator.client_id(),
        secret,
        &ClientCredentials::scope_for(&org),
    )
}

pub fn config(emulator: &Emulator, page_size: u32) -> ClientConfig {
    let mut config = ClientConfig::new(Url::parse(&emulator.base_url()).expect("base url"));
    config.page_size = page_size;
    config.retry = fast_retry();
    config.request_timeout = Duration::from_secs(10);
    config
}

pub fn client(config: ClientConfig, tokens: Arc<dyn TokenProvider>) -> DataverseClient {
    DataverseClient::new(config, tokens).expect("client")
}

pub async fn env(records: usize, page_size: u32) -> Env {
    let emulator = emulator(records).await;
    let tokens = Arc::new(CachedToken::new(credentials(&emulator)));
    let client = client(config(&emulator, page_size), tokens);
    Env { emulator, client }
}

/// A second handle on `provider`, typed for the client.
pub fn shared<P: TokenProvider + 'static>(provider: &Arc<P>) -> Arc<dyn TokenProvider> {
    let handle: Arc<P> = Arc::clone(provider);
    handle
}

/// Counts fetches of the wrapped provider.
pub struct Counted<P> {
    pub inner: P,
    pub fetches: AtomicU32,
}

impl<P> Counted<P> {
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            fetches: AtomicU32::new(0),
        }
    }

    pub fn fetches(&self) -> u32 {
        self.fetches.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl<P: TokenProvider> TokenProvider for Counted<P> {
    async fn token(&self) -> Result<AccessToken, TokenError> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.inner.token().await
    }
}

/// Reads from `request` until a delta link, returning every page and that link.
pub async fn read_to_end(
    source: &dyn Source,
    mut request: PageRequest,
    select: &[String],
) -> (Vec<Page>, String) {
    let mut pages = Vec::new();
    loop {
        let page = source.read_page(&request, select).await.expect("page");
        let next = page.next.clone();
        pages.push(page);
        match next {
            NextLink::More(link) => request = PageRequest::Follow { link },
            NextLink::Done(link) => return (pages, link),
        }
    }
}

pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
