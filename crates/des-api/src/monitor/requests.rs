//! Request counts of the API by method, route template and status.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::ApiState;

type Key = (String, String, u16);

#[derive(Default)]
pub struct Counts(Mutex<BTreeMap<Key, u64>>);

impl Counts {
    fn add(&self, key: Key) {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry(key).or_default() += 1;
    }

    pub fn snapshot(&self) -> Vec<(Key, u64)> {
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// Middleware: counts each request under its route template (never the concrete path, which
/// carries ids), or `unmatched`.
pub async fn count_requests(
    State(state): State<ApiState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state
        .monitor()
        .requests
        .add((method, route, response.status().as_u16()));
    response
}
