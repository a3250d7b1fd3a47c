//! Authenticated GETs against the Web API with the standard headers and retries.
//!
//! Retries: 429 waits its `Retry-After`; 500/502/503/504, timeouts and dropped connections
//! back off exponentially with jitter; a 401 refreshes the token once. Everything else, and
//! an expired change token whatever its status, is returned at once. Logs carry status, code,
//! attempt and wait only: never bodies, URLs (filters may hold values) or tokens.

use std::sync::Arc;
use std::time::Duration;

use des_core::ports::SourceError;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use url::Url;

use crate::batch::Batch;
use crate::config::{ClientConfig, ConfigError, RetryPolicy};
use crate::fault::{ServiceErrorBody, service_error};
use crate::pace::PaceStats;
use crate::retry::{Backoff, retry_after};
use crate::token::{AccessToken, TokenError, TokenProvider};
use crate::users::AppUsers;

/// The HTTP side of the client; cheap to share behind an `Arc`.
pub(crate) struct Transport {
    http: reqwest::Client,
    api_root: Url,
    retry: RetryPolicy,
    /// Shared by every caller of this client: one pacer (one budget) per app user.
    users: AppUsers,
}

/// What a successful answer's body is turned into, piece by piece as it arrives, so a large
/// answer need not be held whole. A fresh one is made for each try.
pub(crate) trait Answer {
    type Output;

    /// The next piece of the body. An error here ends the request: it is not retried.
    fn piece(&mut self, bytes: &[u8]) -> Result<(), SourceError>;

    /// Once the whole body has arrived.
    fn finish(self) -> Result<Self::Output, SourceError>;
}

/// The whole body, for answers small enough to hold (metadata, `$batch`, identity).
impl Answer for Vec<u8> {
    type Output = Vec<u8>;

    fn piece(&mut self, bytes: &[u8]) -> Result<(), SourceError> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, SourceError> {
        Ok(self)
    }
}

/// Makes the answer of one try, given the body's announced length (0: not announced).
type MakeAnswer<'a, A> = dyn Fn(usize) -> A + Send + Sync + 'a;

/// Builds one try of a request.
type Build<'a> = dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + 'a;

/// What one try came to.
enum Attempt<T> {
    Done(T),
    Fatal(SourceError),
    Unauthorized {
        user: usize,
        token: AccessToken,
        body: Vec<u8>,
    },
    Transient(Transient),
}

/// A fault worth another try.
struct Transient {
    status: Option<u16>,
    code: String,
    retry_after: Option<Duration>,
    reason: String,
}

impl Transient {
    /// Status, code, attempt and wait only: bodies may hold record values.
    fn log(&self, attempt: u32, wait: Duration) {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let (status, code) = (self.status, &self.code);
        tracing::warn!(?status, %code, attempt, wait_ms, "Retrying a Dataverse request.");
    }
}

impl Transport {
    pub(crate) fn new(
        config: &ClientConfig,
        tokens: Vec<Arc<dyn TokenProvider>>,
    ) -> Result<Self, ConfigError> {
        let users = AppUsers::new(tokens, config.max_concurrency);
        if users.is_empty() {
            return Err(ConfigError::NoAppUser);
        }
        let http = reqwest::Client::builder()
            .default_headers(standard_headers())
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|e| ConfigError::Http(e.to_string()))?;
        Ok(Self {
            http,
            api_root: config.api_root()?,
            retry: config.retry.clone(),
            users,
        })
    }

    /// Each app user's pacing, in the order the users were given.
    pub(crate) fn pace_stats(&self) -> Vec<PaceStats> {
        self.users.stats()
    }

    /// `relative` (e.g. `EntityDefinitions?$select=...`) under the Web API root.
    pub(crate) fn url(&self, relative: &str) -> Result<Url, SourceError> {
        self.api_root
            .join(relative)
            .map_err(|e| SourceError::Protocol(format!("bad request path: {e}")))
    }

    /// An absolute link as the service returned it (`nextLink`, `deltaLink`).
    pub(crate) fn link(&self, link: &str) -> Result<Url, SourceError> {
        Url::parse(link).map_err(|e| SourceError::Protocol(format!("link is not a URL: {e}")))
    }

    /// GETs `url`, retrying transient faults; the body whole.
    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>, SourceError> {
        self.get_with(url, None, &whole_body).await
    }

    /// GETs `url` with an optional `Prefer` header, retrying transient faults; a successful
    /// answer's body goes to an answer `make` makes as it arrives.
    pub(crate) async fn get_with<A: Answer>(
        &self,
        url: &Url,
        prefer: Option<&str>,
        make: &MakeAnswer<'_, A>,
    ) -> Result<A::Output, SourceError> {
        let build = |http: &reqwest::Client| {
            let request = http.get(url.clone());
            match prefer {
                Some(prefer) => request.header("Prefer", prefer),
                None => request,
            }
        };
        self.send(&build, make).await
    }

    /// POSTs a `$batch`; the answer is the multipart body (parts carry their own statuses).
    pub(crate) async fn post_batch(&self, batch: &Batch) -> Result<Vec<u8>, SourceError> {
        let url = self.url("$batch")?;
        let build = |http: &reqwest::Client| {
            http.post(url.clone())
                .header(CONTENT_TYPE, batch.content_type())
                .body(batch.body().to_owned())
        };
        self.send(&build, &whole_body).await
    }

    /// Sends the request `build` makes (once per try), retrying transient faults.
    async fn send<A: Answer>(
        &self,
        build: &Build<'_>,
        make: &MakeAnswer<'_, A>,
    ) -> Result<A::Output, SourceError> {
        let mut backoff = Backoff::new(&self.retry);
        let mut refreshed = false;
        loop {
            let fault = match self.try_once(build, make).await {
                Attempt::Done(body) => return Ok(body),
                Attempt::Fatal(error) => return Err(error),
                Attempt::Unauthorized { body, .. } if refreshed => return Err(unauthorized(&body)),
                Attempt::Unauthorized { user, token, .. } => {
                    tracing::warn!(
                        status = 401,
                        "Dataverse refused the token; refreshing it once."
                    );
                    self.users.user(user).tokens.invalidate(&token).await;
                    refreshed = true;
                    continue;
                }
                Attempt::Transient(fault) => fault,
            };
            let Some(wait) = backoff.next_wait(self.retry_after(&fault)) else {
                let attempts = backoff.attempts();
                let message = format!("{} (after {attempts} attempts)", fault.reason);
                return Err(SourceError::Unavailable(message));
            };
            fault.log(backoff.attempts(), wait);
            tokio::time::sleep(wait).await;
        }
    }

    /// How long a retry waits for the service. A 429 holds the user that got it (its pacer
    /// waits the `Retry-After`), so while another user is not held the retry goes to it at
    /// once; otherwise it waits the `Retry-After` as with one user.
    fn retry_after(&self, fault: &Transient) -> Option<Duration> {
        if fault.status == Some(429) && self.users.any_free() {
            return Some(Duration::ZERO);
        }
        fault.retry_after
    }

    async fn try_once<A: Answer>(
        &self,
        build: &Build<'_>,
        make: &MakeAnswer<'_, A>,
    ) -> Attempt<A::Output> {
        // The user first: its token is the one the request carries.
        let (user, permit) = self.users.acquire().await;
        let token = match self.users.user(user).tokens.token().await {
            Ok(token) => token,
            Err(TokenError::Unavailable(reason)) => {
                return transient(None, String::new(), None, reason);
            }
            Err(error) => return Attempt::Fatal(SourceError::Auth(error.to_string())),
        };
        let request = build(&self.http).bearer_auth(token.secret().expose());
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return transport_fault(error),
        };
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        permit.answered(status, response.headers(), retry_after);
        if (200..300).contains(&status) {
            return settle(receive(response, make).await, Attempt::Done);
        }
        let body = receive(response, &whole_body).await;
        settle(body, |body| {
            refused(status, retry_after, body, (user, token))
        })
    }
}

/// What a received body comes to: `done` with it, or the fault that cut it short.
fn settle<T, U>(
    received: reqwest::Result<Result<T, SourceError>>,
    done: impl FnOnce(T) -> Attempt<U>,
) -> Attempt<U> {
    match received {
        Ok(Ok(output)) => done(output),
        Ok(Err(error)) => Attempt::Fatal(error),
        Err(error) => transport_fault(error),
    }
}

/// The most a `Content-Length` may reserve up front: a larger claim only grows the buffer as
/// the bytes really come.
const MAX_RESERVE: u64 = 64 << 20;

/// An answer that holds the whole body, sized from the announced length.
fn whole_body(expected: usize) -> Vec<u8> {
    Vec::with_capacity(expected)
}

/// The body into a fresh answer, each chunk handed on and freed as it comes. The outer error
/// is the connection failing mid-body (worth another try); the inner, the answer refusing it.
async fn receive<A: Answer>(
    mut response: reqwest::Response,
    make: &MakeAnswer<'_, A>,
) -> reqwest::Result<Result<A::Output, SourceError>> {
    let expected = response.content_length().unwrap_or(0).min(MAX_RESERVE);
    let mut answer = make(usize::try_from(expected).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        if let Err(error) = answer.piece(&chunk) {
            return Ok(Err(error));
        }
    }
    Ok(answer.finish())
}

fn standard_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert("OData-MaxVersion", HeaderValue::from_static("4.0"));
    headers.insert("OData-Version", HeaderValue::from_static("4.0"));
    // Stops cached results coming back for expanded collections.
    headers.insert("If-None-Match", HeaderValue::from_static("null"));
    headers
}

/// What a status other than 2xx means, with its body.
fn refused<T>(
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
    (user, token): (usize, AccessToken),
) -> Attempt<T> {
    let error = ServiceErrorBody::salvage(&body);
    if error
        .as_ref()
        .is_some_and(ServiceErrorBody::is_expired_token)
    {
        return Attempt::Fatal(service_error(status, &body));
    }
    let code = error.map(|e| e.code).unwrap_or_default();
    match status {
        401 => Attempt::Unauthorized { user, token, body },
        _ if !is_transient_status(status) => Attempt::Fatal(service_error(status, &body)),
        429 => transient(
            Some(status),
            code,
            retry_after,
            "throttled (HTTP 429)".to_owned(),
        ),
        _ => transient(Some(status), code, retry_after, format!("HTTP {status}")),
    }
}

/// Throttling and the server errors that clear up on their own.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

fn transient<T>(
    status: Option<u16>,
    code: String,
    retry_after: Option<Duration>,
    reason: String,
) -> Attempt<T> {
    Attempt::Transient(Transient {
        status,
        code,
        retry_after,
        reason,
    })
}

fn transport_fault<T>(error: reqwest::Error) -> Attempt<T> {
    if error.is_builder() || error.is_redirect() {
        return Attempt::Fatal(SourceError::Protocol(error.without_url().to_string()));
    }
    let kind = if error.is_timeout() {
        "timed out"
    } else {
        "connection failed"
    };
    let reason = format!("request {kind}: {}", error.without_url());
    transient(None, String::new(), None, reason)
}

fn unauthorized(body: &[u8]) -> SourceError {
    let detail = ServiceErrorBody::salvage(body)
        .map(|e| format!("{} {}", e.code, e.message).trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "no detail".to_owned());
    SourceError::Auth(format!("HTTP 401 after a token refresh: {detail}"))
}
