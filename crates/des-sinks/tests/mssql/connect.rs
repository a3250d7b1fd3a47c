//! Connecting over real TCP without a SQL Server: refused and silent servers fail as
//! `Unavailable` within the connect timeout, and Entra sign-in asks the token source for the
//! Azure SQL audience before dialling.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use des_core::Secret;
use des_core::ports::SinkError;
use des_sinks::mssql::{AZURE_SQL_SCOPE, AccessTokenSource, MssqlConfig, MssqlSink, TokenError};
use tokio::net::TcpListener;

/// A port nothing listens on: bound, then released.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    listener.local_addr().expect("address").port()
}

fn config(port: u16, extra: &str) -> MssqlConfig {
    let text = format!("Server=tcp:127.0.0.1,{port};Database=des;Connect Timeout=1;{extra}");
    MssqlConfig::parse(&text).expect("parses")
}

async fn connect_error(config: &MssqlConfig) -> SinkError {
    let attempt = Box::pin(MssqlSink::connect(config));
    match tokio::time::timeout(Duration::from_secs(10), attempt).await {
        Ok(Err(e)) => e,
        Ok(Ok(_)) => panic!("no server should have accepted"),
        Err(_) => panic!("connect did not honour its timeout"),
    }
}

#[tokio::test]
async fn refused_connection_is_unavailable() {
    let port = closed_port().await;
    let error = connect_error(&config(port, "User ID=sa;Password=x")).await;
    assert!(matches!(error, SinkError::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn silent_server_fails_within_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let port = listener.local_addr().expect("address").port();
    // Accepts and holds the connection without ever answering the pre-login.
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accepts");
        std::future::pending::<()>().await;
        drop(socket);
    });
    let started = Instant::now();
    let error = connect_error(&config(port, "User ID=sa;Password=x;Encrypt=False")).await;
    assert!(matches!(error, SinkError::Unavailable(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    server.abort();
}

#[derive(Default)]
struct Recording(Mutex<Vec<String>>);

#[async_trait]
impl AccessTokenSource for Recording {
    async fn token(&self, scope: &str) -> Result<Secret, TokenError> {
        self.0.lock().expect("lock").push(scope.to_owned());
        Ok(Secret::new("eyJ.token"))
    }
}

#[tokio::test]
async fn entra_sign_in_asks_for_the_azure_sql_audience() {
    let port = closed_port().await;
    let managed = "Authentication=Active Directory Managed Identity";
    let error = connect_error(&config(port, managed)).await;
    assert!(
        matches!(&error, SinkError::Configuration(m) if m.contains("token source")),
        "{error:?}"
    );
    let source = Arc::new(Recording::default());
    let with_source =
        config(port, managed).with_token_source(Arc::clone(&source) as Arc<dyn AccessTokenSource>);
    connect_error(&with_source).await;
    assert_eq!(*source.0.lock().expect("lock"), [AZURE_SQL_SCOPE]);
}
