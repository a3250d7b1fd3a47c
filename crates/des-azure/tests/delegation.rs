//! Get User Delegation Key as `RestKeyFetcher` sends it, seen by a loopback stand-in for
//! the Blob service: `POST <endpoint>/?restype=service&comp=userdelegationkey`, a bearer
//! token for storage, `x-ms-version`, and the `<KeyInfo>` body.
//!
//! Verified only against the documentation
//! (<https://learn.microsoft.com/rest/api/storageservices/get-user-delegation-key>), not
//! against Azure: that the real service takes this request and answers in the documented
//! shape, and that it accepts links signed with the key. Azurite cannot stand in, since it
//! takes no tokens over http.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{HttpClientOptions, new_http_client};
use des_azure::storage::{KEY_REQUEST_VERSION, KeyFetcher, RestKeyFetcher, key_request_body};
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

const TOKEN: &str = "test-storage-token";

/// One request as the stand-in read it: request line, lower-cased headers, body.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Hands out a fixed token and remembers the scopes asked for.
#[derive(Debug, Default)]
struct FixedToken {
    scopes: Mutex<Vec<String>>,
}

#[async_trait]
impl TokenCredential for FixedToken {
    async fn get_token(
        &self,
        scopes: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let mut seen = self.scopes.lock().expect("lock");
        seen.extend(scopes.iter().map(|s| (*s).to_owned()));
        let expires = OffsetDateTime::now_utc() + Duration::from_secs(3600);
        Ok(AccessToken::new(TOKEN, expires))
    }
}

const KEY_ANSWER: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><UserDelegationKey>\
    <SignedOid>11111111-2222-3333-4444-555555555555</SignedOid>\
    <SignedTid>66666666-7777-8888-9999-000000000000</SignedTid>\
    <SignedStart>2026-11-27T11:55:00Z</SignedStart>\
    <SignedExpiry>2026-11-29T12:00:00Z</SignedExpiry>\
    <SignedService>b</SignedService><SignedVersion>2021-08-06</SignedVersion>\
    <Value>ZGVsZWdhdGlvbi1rZXk=</Value></UserDelegationKey>";

/// Serves each connection with `status` and `body`, recording the requests.
async fn stand_in(status: &'static str, body: &'static str) -> (Url, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/acct", listener.local_addr().expect("addr"));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, Arc::clone(&record), status, body));
        }
    });
    (Url::parse(&url).expect("url"), seen)
}

async fn answer(mut stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>, status: &str, body: &str) {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 1024];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.lines();
    let line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
    let request_body = String::from_utf8_lossy(&bytes[head_end..]).into_owned();
    seen.lock().expect("lock").push(Seen {
        line,
        headers,
        body: request_body,
    });
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/xml\r\nx-ms-error-code: {}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        if status.starts_with("200") {
            ""
        } else {
            "AuthorizationPermissionMismatch"
        },
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

fn fetcher(endpoint: &Url, credential: Arc<FixedToken>) -> RestKeyFetcher {
    let http = new_http_client(Some(HttpClientOptions {
        automatic_decompression: false,
    }));
    RestKeyFetcher::new(endpoint, credential, http).expect("fetcher")
}

#[tokio::test]
async fn the_key_request_is_shaped_as_the_rest_api_documents() {
    let (endpoint, seen) = stand_in("200 OK", KEY_ANSWER).await;
    let credential = Arc::new(FixedToken::default());
    let keys = fetcher(&endpoint, Arc::clone(&credential));
    let start = datetime!(2026-11-27 11:55:00 UTC);
    let expiry = datetime!(2026-11-29 12:00:00 UTC);
    let key = keys.fetch(start, expiry).await.expect("key");
    assert_eq!(key.signed_oid, "11111111-2222-3333-4444-555555555555");
    assert_eq!(key.signed_expiry, expiry);

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "one request");
    let request = &seen[0];
    assert_eq!(
        request.line,
        "POST /acct/?restype=service&comp=userdelegationkey HTTP/1.1"
    );
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("x-ms-version"), Some(KEY_REQUEST_VERSION));
    assert!(
        request
            .header("x-ms-date")
            .is_some_and(|d| d.ends_with("GMT"))
    );
    assert_eq!(request.header("content-type"), Some("application/xml"));
    assert_eq!(request.body, key_request_body(start, expiry));
    assert!(request.body.contains("<Start>2026-11-27T11:55:00Z</Start>"));
    assert!(
        request
            .body
            .contains("<Expiry>2026-11-29T12:00:00Z</Expiry>")
    );
    assert_eq!(
        credential.scopes.lock().expect("lock").as_slice(),
        ["https://storage.azure.com/.default"]
    );
}

/// Without Storage Blob Delegator the service answers 403; the error says so by status and
/// code, with neither token nor body in it.
#[tokio::test]
async fn a_refused_key_request_names_status_and_code_only() {
    let (endpoint, _) = stand_in("403 Forbidden", "<Error><Message>secret</Message></Error>").await;
    let keys = fetcher(&endpoint, Arc::new(FixedToken::default()));
    let now = OffsetDateTime::now_utc();
    let error = keys
        .fetch(now, now + Duration::from_secs(3600))
        .await
        .expect_err("refused");
    let text = error.to_string();
    assert!(
        text.contains("403 AuthorizationPermissionMismatch"),
        "{text}"
    );
    assert!(!text.contains("secret") && !text.contains(TOKEN), "{text}");
}

#[test]
fn tokens_are_not_sent_over_http_to_other_hosts() {
    let credential = Arc::new(FixedToken::default());
    let endpoint = Url::parse("http://acct.blob.core.windows.net").expect("url");
    let http = new_http_client(None);
    let error = RestKeyFetcher::new(&endpoint, credential, http).expect_err("http refused");
    assert!(error.to_string().contains("https"), "{error}");
}
