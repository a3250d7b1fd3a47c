//! HTTP routes: the Entra token endpoints, the Web API under `/api/data/v9.2/` and the
//! `/_emulator/` control endpoints.

mod authorize;
mod batch;
mod code_grant;
mod control;
pub mod data;
mod delta;
mod expand;
mod filter;
mod keys;
mod metadata;
mod metadata_query;
mod order;
mod relationships;
mod token;
mod users;
mod write;

use crate::auth::Refusal;
use crate::error::{EmulatorError, error_body};
use crate::faults::Fault;
use crate::limits::Throttled;
use crate::odata::{Prefer, QueryOptions};
use crate::server::ServerState;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use std::sync::Arc;

pub const API_PREFIX: &str = "/api/data/v9.2";

/// A response independent of the transport, so `$batch` parts reuse the same handlers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// The rest of the body, sent after `body` chunk by chunk without joining them (see
    /// [`Reply::with_chunks`]).
    pub chunks: Vec<String>,
    pub headers: Vec<(String, String)>,
    /// Rows in the body, for the cost model.
    pub rows: usize,
}

pub fn json_reply(status: u16, body: String, applied: &str) -> Reply {
    let mut headers = Vec::new();
    if !applied.is_empty() {
        headers.push(("Preference-Applied".to_owned(), applied.to_owned()));
    }
    Reply {
        status,
        content_type: "application/json; odata.metadata=minimal",
        body,
        chunks: Vec::new(),
        headers,
        rows: 0,
    }
}

pub fn empty_reply(status: u16) -> Reply {
    Reply {
        status,
        content_type: "",
        body: String::new(),
        chunks: Vec::new(),
        headers: Vec::new(),
        rows: 0,
    }
}

impl Reply {
    pub fn header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_owned(), value));
        self
    }

    /// Sends `chunks` after the body, each as it is: a page of thousands of rows is tens of
    /// MB, and joining it into one buffer would hold it twice.
    pub fn with_chunks(mut self, chunks: Vec<String>) -> Reply {
        self.chunks = chunks;
        self
    }

    /// Says how many rows the body holds (the cost model charges per row).
    pub fn with_rows(mut self, rows: usize) -> Reply {
        self.rows = rows;
        self
    }
}

impl From<EmulatorError> for Reply {
    fn from(e: EmulatorError) -> Reply {
        let body = match &e {
            EmulatorError::Api { code, message, .. } => error_body(code, message),
            other => error_body("0x80040216", &other.to_string()),
        };
        Reply {
            status: e.status(),
            content_type: "application/json; odata.metadata=minimal",
            body,
            chunks: Vec::new(),
            headers: Vec::new(),
            rows: 0,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut b = Response::builder()
            .status(self.status)
            .header("OData-Version", "4.0");
        if !self.content_type.is_empty() {
            b = b.header("Content-Type", self.content_type);
        }
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let body = if self.chunks.is_empty() {
            Body::from(self.body)
        } else {
            Body::new(Chunks::new(self.body, self.chunks))
        };
        b.body(body).unwrap_or_default()
    }
}

/// A body sent as the chunks it was written in, with its exact length (so hyper sends a
/// `Content-Length`, and a client can size its buffer once); each chunk is freed once sent.
struct Chunks {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl Chunks {
    fn new(head: String, rest: Vec<String>) -> Chunks {
        let chunks: std::collections::VecDeque<Bytes> = std::iter::once(head)
            .chain(rest)
            .filter(|c| !c.is_empty())
            .map(Bytes::from)
            .collect();
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Chunks { chunks, remaining }
    }
}

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let next = this.chunks.pop_front().map(|chunk| {
            this.remaining -= chunk.len() as u64;
            Ok(hyper::body::Frame::data(chunk))
        });
        std::task::Poll::Ready(next)
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

pub fn router(state: Arc<ServerState>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::issue))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(token::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(token::jwks))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::show).post(authorize::sign_in),
        )
        .route("/{tenant}/oauth2/v2.0/logout", get(authorize::sign_out))
        .route("/_emulator/sign-in", post(code_grant::settings))
        .route("/api/data/v9.2", any(api))
        .route("/api/data/v9.2/", any(api))
        .route("/api/data/v9.2/{*rest}", any(api))
        .nest("/_emulator", control::router())
        .layer(axum::middleware::from_fn(code_grant::cors))
        .with_state(state)
}

async fn api(
    State(sh): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (latency, fault) = sh.faults.take();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(f) = fault {
        return fault_reply(f).into_response();
    }
    let claims = match sh
        .authority
        .verify(headers.get("authorization").and_then(|v| v.to_str().ok()))
    {
        Ok(claims) => claims,
        Err(refusal) => return unauthorized(&sh, refusal),
    };
    // Service protection counts per user: the token's object id.
    let permit = match sh.limits.admit(&claims.oid) {
        Ok(permit) => permit,
        Err(t) => return throttled(t).into_response(),
    };
    let path = uri
        .path()
        .strip_prefix(API_PREFIX)
        .unwrap_or("")
        .trim_start_matches('/');
    let path = crate::odata::decode(path);
    let sh2 = Arc::clone(&sh);
    let query = uri.query().map(str::to_owned);
    // Big pages take milliseconds to render; keep them off the I/O threads.
    let mut reply = tokio::task::spawn_blocking(move || {
        dispatch(&sh2, &method, &path, query.as_deref(), &headers, &body)
            .unwrap_or_else(Reply::from)
    })
    .await
    .unwrap_or_else(|_| Reply::from(EmulatorError::api(500, "0x80040216", "internal error")));
    // The cost model sets how long the request takes at least, rendering included.
    let wait = sh
        .cost
        .get()
        .of(reply.rows)
        .saturating_sub(permit.elapsed());
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    reply.headers.extend(permit.finish());
    reply.into_response()
}

/// 429 for a service-protection limit, with `Retry-After` in seconds.
fn throttled(t: Throttled) -> Reply {
    Reply::from(EmulatorError::api(429, t.code, t.message))
        .header("Retry-After", t.retry_after_secs.to_string())
}

fn fault_reply(f: Fault) -> Reply {
    match f {
        Fault::Throttle {
            retry_after,
            code,
            message,
        } => Reply::from(EmulatorError::api(429, code, message))
            .header("Retry-After", retry_after.to_string()),
        Fault::Fail(status) => Reply::from(EmulatorError::api(
            status,
            "0x80040216",
            "The service is temporarily unavailable. Please retry.",
        )),
    }
}

/// 401 with the auth-ticket error codes and the `WWW-Authenticate` challenge Dataverse sends.
fn unauthorized(sh: &ServerState, refusal: Refusal) -> Response {
    // BadAuthTicket / ExpiredAuthTicket / InvalidAuthTicket (codes as documented for the SDK).
    let (code, message) = match refusal {
        Refusal::Missing => (
            "0x8004a101",
            "Bearer token is missing from the Authorization header.",
        ),
        Refusal::Expired => ("0x8004a102", "The access token has expired."),
        Refusal::Invalid => (
            "0x8004a103",
            "The access token is not valid for this organization.",
        ),
    };
    let challenge = format!(
        "Bearer authorization_uri={}/{}/oauth2/authorize, resource_id={}/",
        sh.base_url, sh.tenant, sh.base_url
    );
    Reply::from(EmulatorError::api(401, code, message))
        .header("WWW-Authenticate", challenge)
        .into_response()
}

/// Routes one Web API request (also used for each part of a `$batch`).
pub fn dispatch(
    sh: &ServerState,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, EmulatorError> {
    let q = QueryOptions::parse(query)?;
    let prefer = Prefer::parse(headers);
    let first = path.split(['/', '(']).next().unwrap_or("");
    match (method.as_str(), first) {
        ("GET", "") => Ok(service_document(sh)),
        ("GET", "$metadata") => Ok(metadata_document(sh)),
        ("GET", "WhoAmI") => users::who_am_i(sh),
        ("GET", "EntityDefinitions" | "GlobalOptionSetDefinitions" | "RelationshipDefinitions") => {
            metadata::get(sh, path, &q)
        }
        ("POST", "$batch") => batch::handle(sh, headers, body),
        _ => data_route(sh, method, path, &q, &prefer, headers, body),
    }
}

/// `GET /api/data/v9.2/`: the entity sets and function imports.
fn service_document(sh: &ServerState) -> Reply {
    json_reply(
        200,
        crate::csdl::service_document(&sh.read().catalog, &sh.api_url),
        "",
    )
}

/// `GET /api/data/v9.2/$metadata`: the CSDL document.
fn metadata_document(sh: &ServerState) -> Reply {
    Reply {
        status: 200,
        content_type: "application/xml",
        body: crate::csdl::metadata_document(&sh.read().catalog),
        chunks: Vec::new(),
        headers: Vec::new(),
        rows: 0,
    }
}

/// `<set>`, `<set>(<id>)`, `<set>/$count`, `<set>(<id>)/<nav>[/$ref]`.
fn data_route(
    sh: &ServerState,
    method: &Method,
    path: &str,
    q: &QueryOptions,
    prefer: &Prefer,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, EmulatorError> {
    let mut segments = path.splitn(2, '/');
    let head = segments.next().unwrap_or("");
    let rest = segments.next().unwrap_or("");
    let (set, key) = match head.split_once('(') {
        Some((s, k)) => (s, Some(k.trim_end_matches(')'))),
        None => (head, None),
    };
    let e = sh
        .read()
        .catalog
        .by_set(set)
        .ok_or_else(|| EmulatorError::no_resource(set))?;
    let id = key
        .map(|k| {
            k.parse::<uuid::Uuid>().map_err(|_| {
                EmulatorError::bad_request("0x80060888", format!("Invalid key '{k}'."))
            })
        })
        .transpose()?;
    match (method.as_str(), id, rest) {
        ("GET", None, "") => data::collection(sh, e, q, prefer),
        ("GET", None, "$count") => Ok(data::count(sh, e)),
        ("GET", Some(id), "") => data::single(sh, e, id, q, prefer),
        ("GET", Some(id), nav) => users::navigate(sh, e, id, nav, q, prefer),
        ("POST", None, "") => write::create(sh, e, headers, body, prefer),
        ("PATCH", Some(id), "") => write::upsert(sh, e, id, headers, body),
        ("DELETE", Some(id), "") => write::delete(sh, e, id),
        ("POST", Some(id), nav) if nav.ends_with("/$ref") => {
            write::associate(sh, e, id, nav.trim_end_matches("/$ref"), body)
        }
        ("DELETE", Some(id), nav) if nav.ends_with("/$ref") => {
            write::disassociate(sh, e, id, nav.trim_end_matches("/$ref"), q)
        }
        _ => Err(EmulatorError::api(
            405,
            "0x80060888",
            format!("{method} is not supported on '{path}'."),
        )),
    }
}
