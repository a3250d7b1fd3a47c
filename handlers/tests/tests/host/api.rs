//! Calls to the API handler as the host passes them on. With `enableProxyingHttpRequest`
//! (the setting `host.json` uses; the host forwards through YARP) the handler gets the
//! original method, path, query, headers and body *stream*, chunked when the client sent it
//! chunked, plus the host's `X-Azure-Functions-*` headers and YARP's `X-Forwarded-*`. A
//! Content-Length request looks the same under the older `enableForwardingHttpRequest`.

use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl ApiClient {
    pub fn new(base: String, token: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base,
            token,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request.send().await.expect("the API handler answers");
        let status = answer.status().as_u16();
        let text = answer.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs `body` with chunked transfer encoding, in small chunks, as the proxying host
    /// passes on a client's chunked request (written by hand, so the framing is exactly that).
    pub async fn post_chunked(&self, path: &str, body: &Value) -> (u16, Value) {
        let address = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
             X-Forwarded-Proto: https\r\nX-Forwarded-Host: des.example.net\r\n\
             X-Azure-Functions-HostVersion: 4.1040.0\r\n\
             X-Azure-Functions-InvocationId: {}\r\nConnection: close\r\n\r\n",
            self.token,
            uuid::Uuid::new_v4()
        );
        let mut request = head.into_bytes();
        for chunk in body.to_string().as_bytes().chunks(7) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        stream.write_all(&request).await.expect("send");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.expect("answer");
        parse_answer(&answer)
    }

    /// Creates and activates a profile; its id.
    pub async fn create_active_profile(&self, body: &Value) -> String {
        let (status, created) = self
            .send(Method::POST, "/crm/exporter/profiles", Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["Id"].as_str().expect("Id").to_owned();
        let path = format!("/crm/exporter/profiles/{id}/activate");
        let (status, active) = self.send(Method::POST, &path, None).await;
        assert_eq!(
            (status, &active["State"]),
            (200, &Value::from("Active")),
            "{active}"
        );
        id
    }
}

/// Status and body of a raw HTTP/1.1 answer (Content-Length or chunked).
fn parse_answer(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        body.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    body
}
