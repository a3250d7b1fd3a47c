//! Azure SQL's login redirect, against a loopback stand-in for its gateway that speaks just
//! enough TDS (pre-login, then a login answer carrying an ENVCHANGE routing token): the sink
//! reconnects to the host and port it names, and gives up on a redirect loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use des_core::ports::SinkError;
use des_sinks::mssql::{MssqlConfig, MssqlSink};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PRELOGIN_RESPONSE: u8 = 0x04;
const END_OF_MESSAGE: u8 = 0x01;

/// Reads one client message (packets until end-of-message).
async fn read_message(socket: &mut TcpStream) -> std::io::Result<()> {
    loop {
        let mut header = [0u8; 8];
        socket.read_exact(&mut header).await?;
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let mut body = vec![0u8; length.saturating_sub(8)];
        socket.read_exact(&mut body).await?;
        if header[1] & END_OF_MESSAGE != 0 {
            return Ok(());
        }
    }
}

fn packet(payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 8).expect("small packet");
    let mut out = vec![PRELOGIN_RESPONSE, END_OF_MESSAGE];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&[0, 0, 1, 0]);
    out.extend_from_slice(payload);
    out
}

/// VERSION and ENCRYPTION = not supported (the client asked for no TLS).
fn prelogin() -> Vec<u8> {
    let mut payload = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF];
    payload.extend_from_slice(&[16, 0, 0x10, 0x00, 0, 0]);
    payload.push(0x02);
    packet(&payload)
}

/// ENVCHANGE (routing to `host:port`) then DONE, as Azure SQL's gateway answers a login.
fn routing(host: &str, port: u16) -> Vec<u8> {
    let mut change = vec![20u8, 0, 0, 0];
    change.extend_from_slice(&port.to_le_bytes());
    let units: Vec<u16> = host.encode_utf16().collect();
    change.extend_from_slice(&u16::try_from(units.len()).expect("short").to_le_bytes());
    units
        .iter()
        .for_each(|u| change.extend_from_slice(&u.to_le_bytes()));
    let mut tokens = vec![0xE3];
    tokens.extend_from_slice(&u16::try_from(change.len()).expect("short").to_le_bytes());
    tokens.extend_from_slice(&change);
    tokens.push(0xFD);
    tokens.extend_from_slice(&[0u8; 12]);
    packet(&tokens)
}

/// A gateway that redirects every login to `127.0.0.1:target` (its own port when `None`),
/// counting the connections it takes.
async fn gateway(target: Option<u16>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let port = listener.local_addr().expect("address").port();
    let target = target.unwrap_or(port);
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                read_message(&mut socket).await?;
                socket.write_all(&prelogin()).await?;
                read_message(&mut socket).await?;
                socket.write_all(&routing("127.0.0.1", target)).await?;
                // Waits for the client to hang up.
                socket.read(&mut [0u8; 1]).await.map(drop)
            });
        }
    });
    (port, accepted)
}

#[tokio::test]
async fn login_redirects_are_followed_and_loops_end() {
    let (node, node_logins) = gateway(None).await;
    let (entry, entry_logins) = gateway(Some(node)).await;
    let text = format!(
        "Server=tcp:127.0.0.1,{entry};User ID=des;Password=x;Encrypt=DANGER_PLAINTEXT;Connect Timeout=5"
    );
    let config = MssqlConfig::parse(&text).expect("parses");
    let error = match Box::pin(MssqlSink::connect(&config)).await {
        Err(e) => e,
        Ok(_) => panic!("a gateway that only redirects never lets a login finish"),
    };
    assert!(
        matches!(&error, SinkError::Unavailable(m) if m.contains("redirects")),
        "{error:?}"
    );
    assert_eq!(entry_logins.load(Ordering::SeqCst), 1);
    assert_eq!(
        node_logins.load(Ordering::SeqCst),
        2,
        "the redirect target, then its own redirect to itself"
    );
}
