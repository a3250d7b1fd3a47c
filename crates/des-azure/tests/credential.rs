//! The credential chain's managed-identity step against a loopback stand-in for the App
//! Service identity endpoint (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`), and the token bridge
//! to the Dataverse client and the SQL Server sink.
//!
//! The identity crate reads those variables from the process environment, which a test may
//! not change (`unsafe` is forbidden), so the token requests run in a child process of this
//! test binary with the variables set.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use des_azure::EntraTokens;
use des_core::ports::{AZURE_SQL_SCOPE, AccessTokenSource, TokenProvider};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHILD: &str = "DES_TEST_MSI_CHILD";
const HEADER: &str = "test-identity-header";

/// What the stand-in saw: one request line and identity header per token request.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

#[tokio::test]
async fn managed_identity_tokens_come_from_the_app_service_endpoint() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/msi/token", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    tokio::spawn(serve(listener, Arc::clone(&seen)));

    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe);
    child
        .args(["credential::managed_identity_child", "--exact", "--ignored"])
        .env(CHILD, "1")
        .env("IDENTITY_ENDPOINT", &endpoint)
        .env("IDENTITY_HEADER", HEADER);
    for name in [
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "IDENTITY_SERVER_THUMBPRINT",
    ] {
        child.env_remove(name);
    }
    let output = tokio::task::spawn_blocking(move || child.output())
        .await
        .expect("join")
        .expect("run child");
    assert!(
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let seen = seen.lock().expect("lock").clone();
    let lines: Vec<&str> = seen.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(lines.len(), 2, "one request per resource: {lines:?}");
    for ((line, header), resource) in seen.iter().zip([
        "https%3A%2F%2Fcontoso.crm.dynamics.com",
        "https%3A%2F%2Fdatabase.windows.net",
    ]) {
        assert!(line.starts_with("GET /msi/token?"), "{line}");
        assert!(line.contains("api-version=2019-08-01"), "{line}");
        assert!(line.contains(&format!("resource={resource}")), "{line}");
        assert_eq!(header.as_deref(), Some(HEADER));
    }
}

/// Run only by the test above, in a child process with the identity variables set.
#[tokio::test]
#[ignore = "a child of managed_identity_tokens_come_from_the_app_service_endpoint"]
async fn managed_identity_child() {
    if std::env::var(CHILD).is_err() {
        return;
    }
    let credential = des_azure::credential::credential().expect("credential");
    let tokens = EntraTokens::for_dataverse(credential, "https://contoso.crm.dynamics.com/");
    assert_eq!(tokens.scope(), "https://contoso.crm.dynamics.com/.default");
    let token = TokenProvider::token(&tokens)
        .await
        .expect("Dataverse token");
    assert_eq!(
        token.secret().expose(),
        "token-for-https://contoso.crm.dynamics.com"
    );
    let left = token.expires_at().expect("expiry") - std::time::Instant::now();
    assert!(
        left > Duration::from_secs(3000) && left <= Duration::from_secs(3600),
        "{left:?}"
    );

    let sql = AccessTokenSource::token(&tokens, AZURE_SQL_SCOPE)
        .await
        .expect("SQL token");
    assert_eq!(sql.expose(), "token-for-https://database.windows.net");
}

async fn serve(listener: TcpListener, seen: Seen) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(answer(stream, Arc::clone(&seen)));
    }
}

/// Reads one request head and answers with a token named after the requested resource.
async fn answer(mut stream: TcpStream, seen: Seen) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let line = head.lines().next().unwrap_or_default().to_owned();
    let header = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-identity-header")
            .then(|| value.trim().to_owned())
    });
    let resource = line
        .split(['?', '&', ' '])
        .find_map(|p| p.strip_prefix("resource="))
        .unwrap_or_default()
        .replace("%3A", ":")
        .replace("%2F", "/");
    seen.lock().expect("lock").push((line, header));
    let expires = OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let body = format!(
        r#"{{"access_token":"token-for-{resource}","expires_on":"{expires}","resource":"{resource}","token_type":"Bearer"}}"#
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}
