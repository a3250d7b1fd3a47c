//! What goes over the wire, checked against a recording HTTP server on loopback.

use std::sync::{Arc, Mutex};

use dataverse::{
    CachedToken, ClientConfig, ClientCredentials, ColumnPlan, DataverseClient, PlannedColumn,
    StaticToken,
};
use des_core::AttributeKind;
use des_core::Secret;
use des_core::ports::{NextLink, PageRequest, SourceError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::support::fast_retry;

/// Answers each connection with the next canned response and records the request heads.
struct Recorder {
    base: String,
    heads: Arc<Mutex<Vec<String>>>,
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

async fn recorder(responses: Vec<String>) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    tokio::spawn(async move {
        for canned in responses {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            seen.lock()
                .expect("lock")
                .push(String::from_utf8_lossy(&head).into_owned());
            let _ = socket.write_all(canned.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    Recorder { base, heads }
}

impl Recorder {
    fn client(&self, page_size: u32) -> DataverseClient {
        let mut config = ClientConfig::new(Url::parse(&self.base).expect("url"));
        config.page_size = page_size;
        config.retry = fast_retry();
        DataverseClient::new(config, Arc::new(StaticToken(Secret::new("tok-123")))).expect("client")
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("lock").clone()
    }
}

fn plan() -> ColumnPlan {
    let name = PlannedColumn {
        logical_name: "name".to_owned(),
        wire_name: "name".to_owned(),
        kind: AttributeKind::String,
        date_only: false,
        sole_target: None,
        source: dataverse::WireSource::Property,
    };
    ColumnPlan::from_columns("accounts", "accountid", vec![name])
}

const ONE_ROW: &str = r#"{"value":[{"name":"A","accountid":"60c4e274-0d87-e711-80e5-00155db19e6d","versionnumber":7}],"@odata.deltaLink":"http://x/api/data/v9.2/accounts?$deltatoken=1"}"#;

#[tokio::test]
async fn every_request_sends_the_documented_headers() {
    let server = recorder(vec![response("200 OK", ONE_ROW)]).await;
    let start = PageRequest::Start {
        entity_set: "accounts".to_owned(),
        select: Vec::new(),
    };
    let page = server
        .client(25)
        .read_planned(&plan(), &start)
        .await
        .expect("page");
    assert_eq!(page.changes.len(), 1);
    let head = server.heads().remove(0).to_ascii_lowercase();
    let first_line = head.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first_line,
        "get /api/data/v9.2/accounts?$select=name,accountid,versionnumber http/1.1"
    );
    for header in [
        "authorization: bearer tok-123",
        "accept: application/json",
        "odata-maxversion: 4.0",
        "odata-version: 4.0",
        "if-none-match: null",
        "prefer: odata.track-changes,odata.maxpagesize=25,odata.include-annotations=\"microsoft.dynamics.crm.lookuplogicalname\"",
    ] {
        assert!(
            head.lines().any(|l| l == header),
            "missing {header:?} in\n{head}"
        );
    }
}

#[tokio::test]
async fn a_followed_link_is_sent_exactly_as_returned() {
    let server = recorder(vec![response("200 OK", ONE_ROW)]).await;
    let path = "/api/data/v9.2/accounts?$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%22%20istracking=%22True%22%20/%3E";
    let link = format!("{}{path}", server.base);
    let follow = PageRequest::Follow { link };
    server
        .client(25)
        .read_planned(&plan(), &follow)
        .await
        .expect("page");
    let head = server.heads().remove(0);
    assert_eq!(
        head.lines().next(),
        Some(format!("GET {path} HTTP/1.1").as_str())
    );
    assert!(
        head.contains("odata.maxpagesize=25"),
        "the same page size on every page"
    );
}

#[tokio::test]
async fn an_empty_delta_body_means_no_changes_and_keeps_the_link() {
    let server = recorder(vec![response("200 OK", "")]).await;
    let link = format!("{}/api/data/v9.2/accounts?$deltatoken=5%2101", server.base);
    let follow = PageRequest::Follow { link: link.clone() };
    let page = server
        .client(25)
        .read_planned(&plan(), &follow)
        .await
        .expect("page");
    assert!(page.changes.is_empty());
    assert_eq!(page.next, NextLink::Done(link));
}

#[tokio::test]
async fn an_expired_token_is_reported_whatever_the_status_and_not_retried() {
    let expired = r#"{"error":{"code":"0x80044352","message":"Version stamp associated with the client has expired. Please perform a full sync."}}"#;
    let server = recorder(vec![
        response("500 Internal Server Error", expired),
        response("200 OK", ONE_ROW),
    ])
    .await;
    let follow = PageRequest::Follow {
        link: format!("{}/api/data/v9.2/accounts?$deltatoken=1", server.base),
    };
    match server.client(25).read_planned(&plan(), &follow).await {
        Err(SourceError::ExpiredToken { message }) => assert!(message.starts_with("Version stamp")),
        other => panic!("expected an expired token, got {other:?}"),
    }
    assert_eq!(server.heads().len(), 1, "no retry");
}

#[tokio::test]
async fn a_plugin_error_that_is_not_json_still_names_code_and_message() {
    let raw = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/dataverse-samples/error-plugin-annotations.raw.txt"),
    )
    .expect("sample");
    let server = recorder(vec![response("400 Bad Request", &raw)]).await;
    match server.client(25).who_am_i().await {
        Err(SourceError::Service {
            status,
            code,
            message,
        }) => {
            assert_eq!(
                (status, code.as_str(), message.as_str()),
                (400, "0x80040265", "Example Error Message.")
            );
        }
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_endpoint_outage_is_retried_like_any_transient_fault() {
    let token = r#"{"token_type":"Bearer","expires_in":3599,"access_token":"fresh-token"}"#;
    let who = r#"{"BusinessUnitId":"ded5a64f-f06d-e511-80d0-00155db07cb1","UserId":"d96e9f55-f06d-e511-80d0-00155db07cb1","OrganizationId":"4faf1f34-f06d-e511-80d0-00155db07cb1"}"#;
    let server = recorder(vec![
        response("503 Service Unavailable", "{}"),
        response("200 OK", token),
        response("200 OK", who),
    ])
    .await;
    let token_url = Url::parse(&format!("{}/tenant/oauth2/v2.0/token", server.base)).expect("url");
    let org = Url::parse(&server.base).expect("url");
    let scope = ClientCredentials::scope_for(&org);
    let creds = ClientCredentials::new(token_url, "app", Secret::new("s3cret"), &scope);
    let mut config = ClientConfig::new(org);
    config.retry = fast_retry();
    let client = DataverseClient::new(config, Arc::new(CachedToken::new(creds))).expect("client");
    client
        .who_am_i()
        .await
        .expect("WhoAmI after the token endpoint recovers");
    let heads = server.heads();
    assert!(
        heads[0].starts_with("POST /tenant/oauth2/v2.0/token")
            && heads[1].starts_with("POST /tenant/")
    );
    assert!(
        heads[2].starts_with("GET /api/data/v9.2/WhoAmI")
            && heads[2].contains("Bearer fresh-token")
    );
}
