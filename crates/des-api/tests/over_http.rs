//! The API served by `des_api::serve` over real HTTP/1.1 on loopback, and a raw client that
//! can send what reqwest would not (a megabyte of header, a 100 KB URL).

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A served API; stops when dropped.
pub struct Served {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn serve_router(router: axum::Router) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(des_api::serve(listener, router, async {
        let _ = stopped.await;
    }));
    Served {
        base,
        stop: Some(stop),
    }
}

/// A raw answer: status and the body as JSON (`Null` when it is not JSON).
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: Value,
}

/// Sends `request` (the bytes of a whole request) and reads the answer, whatever the server
/// does with the rest of a request it refused early.
pub async fn raw(served: &Served, request: Vec<u8>) -> RawAnswer {
    let addr = served.base.trim_start_matches("http://").to_owned();
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
            if complete(&bytes) {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 20 s");
    sending.abort();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    RawAnswer {
        status,
        head: head.to_owned(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// A whole answer with a `content-length` has arrived.
fn complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    length.is_some_and(|n| body.len() >= n)
}

/// A GET of `target` with one extra header `name: value`.
pub fn get(target: &str, extra: Option<(&str, &str)>) -> Vec<u8> {
    let mut request = format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    if let Some((name, value)) = extra {
        request += &format!("{name}: {value}\r\n");
    }
    request += "\r\n";
    request.into_bytes()
}
