//! [`HeadGuard`]: gives hyper's own refusals DES's error body.
//!
//! When hyper cannot parse a request head (too large, URL too long, not HTTP) it writes a
//! bare `431`, `414` or `400` with `content-length: 0` and closes the connection; it offers
//! no hook to shape that answer. This wrapper around the connection recognises exactly that
//! answer on its way out and writes DES's JSON body (with a fresh correlation id, logged here:
//! no request span exists for it) in its place. It only ever matches a whole write that is
//! nothing but such a head: hyper flushes each response before it reads the next request, so
//! its refusal starts a write of its own, and every error the router answers has a JSON body,
//! never `content-length: 0`.
//! `is_write_vectored` is false so hyper flattens each response into one buffer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct HeadGuard<T> {
    inner: T,
    /// A replacement answer still being written, and how much of it was.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> HeadGuard<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> HeadGuard<T> {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
            if *written == bytes.len() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for HeadGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for HeadGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(replacement) = hyper_refusal(buf).map(with_des_body) {
            self.pending = Some((replacement, 0));
            // Written (or queued for the next flush) in full: hyper's bytes are consumed.
            if let Poll::Ready(Err(error)) = self.drain(cx) {
                return Poll::Ready(Err(error));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The status of `buf` if it is exactly hyper's bare refusal: a 400, 414 or 431 status line
/// and only `content-length: 0`, `date` and `connection` headers.
fn hyper_refusal(buf: &[u8]) -> Option<StatusCode> {
    let head = std::str::from_utf8(buf).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let rest = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?;
    let status = StatusCode::from_bytes(rest.get(..3)?.as_bytes()).ok()?;
    let refusals = [
        StatusCode::BAD_REQUEST,
        StatusCode::URI_TOO_LONG,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    ];
    if !refusals.contains(&status) {
        return None;
    }
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match (name.to_ascii_lowercase().as_str(), value.trim()) {
            ("content-length", "0") => empty = true,
            ("date" | "connection", _) => {}
            _ => return None,
        }
    }
    empty.then_some(status)
}

fn with_des_body(status: StatusCode) -> Vec<u8> {
    let error = crate::refusal::head_refusal(status);
    // No request (and no request span) exists for these: this is their one log line.
    tracing::warn!(
        correlation_id = %error.correlation_id,
        status = status.as_u16(),
        error = %error.message,
        "Refused a request head hyper could not take."
    );
    let body = error.body_json();
    let reason = status.canonical_reason().unwrap_or("");
    let head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\n{}: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        body.len(),
        crate::span::CORRELATION_HEADER,
        error.correlation_id,
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_s_bare_refusals_match() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 15:00:00 GMT\r\n\r\n";
        assert_eq!(
            hyper_refusal(bare),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let long = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_refusal(long), Some(StatusCode::URI_TOO_LONG));
        for other in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 17\r\n\r\n",
            b"{\"Message\":\"HTTP/1.1 400 Bad Request\"}",
        ] {
            assert_eq!(hyper_refusal(other), None);
        }
    }

    #[test]
    fn the_replacement_carries_des_s_body() {
        let bytes = with_des_body(StatusCode::URI_TOO_LONG);
        let text = String::from_utf8(bytes).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head");
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        let length = format!("content-length: {}", body.len());
        assert!(head.contains(&length), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert!(json["CorrelationId"].is_string());
        assert!(json["Message"].as_str().is_some_and(|m| m.contains("URL")));
        let id = format!("x-ms-correlation-request-id: {}\r\n", json["CorrelationId"]);
        assert!(head.contains(&id.replace('"', "")), "{head}");
    }
}
