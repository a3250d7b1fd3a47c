//! The bench's HTTP client: plain HTTP/1.1 connections kept open and reused, each request
//! carrying the same prepared `Authorization` header. A load generator that shares the
//! machine with the server it measures must cost little per request itself; a general client
//! (a pool keyed by host, redirect and timeout machinery, a URL parsed per request) cost about
//! as much CPU per request as the server's own work. The server does all of its work per
//! request whatever the client: every request is authenticated, authorized and read.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;

/// A request not answered in this time counts as an error, as a stuck server must not stall
/// the bench.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Idle connections to one server, all signed in as the same caller.
pub struct Http {
    addr: SocketAddr,
    host: HeaderValue,
    authorization: HeaderValue,
    idle: Mutex<Vec<SendRequest<Body>>>,
}

impl Http {
    pub fn new(addr: SocketAddr, token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
            idle: Mutex::default(),
        })
    }

    /// `method` on `path_and_query`, with a JSON body if given: the status and the body.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        json: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let answer = self.exchange(method, path_and_query, json);
        tokio::time::timeout(TIMEOUT, answer)
            .await
            .context("no answer in 30 s")?
    }

    async fn exchange(
        &self,
        method: Method,
        path_and_query: &str,
        json: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let mut conn = self.connection().await?;
        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(header::HOST, self.host.clone())
            .header(header::AUTHORIZATION, self.authorization.clone());
        if json.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(json.map_or_else(Body::empty, Body::from))?;
        conn.ready().await?;
        let answer = conn.send_request(request).await?;
        let status = answer.status();
        let body = axum::body::to_bytes(Body::new(answer.into_body()), usize::MAX).await?;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        Ok((status, body))
    }

    async fn connection(&self) -> anyhow::Result<SendRequest<Body>> {
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            match idle {
                Some(conn) if !conn.is_closed() => return Ok(conn),
                Some(_) => continue,
                None => break,
            }
        }
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .context("cannot connect to the API")?;
        stream.set_nodelay(true)?;
        let (send, connection) = handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(send)
    }
}
