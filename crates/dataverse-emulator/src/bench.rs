//! `bench`: page through a large `account` table over loopback with a raw HTTP/1.1 client
//! that parses nothing beyond the status line, `Content-Length` and the `nextLink`.

use anyhow::{Context, bail};
use dataverse_emulator::{Emulator, EmulatorConfig};
use std::collections::HashMap;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Conn {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    async fn open(base_url: &str) -> anyhow::Result<Conn> {
        let host = base_url.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&host).await.context("connecting")?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::with_capacity(1 << 20, stream),
            host,
        })
    }

    /// Sends one request and returns the status and body.
    async fn request(&mut self, head: &str, body: &str) -> anyhow::Result<(u16, Vec<u8>)> {
        let msg = format!(
            "{head}Host: {}\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.get_mut().write_all(msg.as_bytes()).await?;
        let mut header = Vec::with_capacity(1024);
        while !header.ends_with(b"\r\n\r\n") {
            header.push(self.stream.read_u8().await.context("reading headers")?);
        }
        let text = String::from_utf8_lossy(&header);
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let length = text
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>())
            })
            .context("no content-length")??;
        // Take what the buffer already holds, then read the rest straight from the socket.
        let mut out = vec![0; length];
        let buffered = self.stream.buffer().len().min(length);
        out[..buffered].copy_from_slice(&self.stream.buffer()[..buffered]);
        self.stream.consume(buffered);
        self.stream
            .get_mut()
            .read_exact(&mut out[buffered..])
            .await?;
        Ok((status, out))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn next_link(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"@odata.nextLink\":\"";
    // The link sits at the end of the page; search only the tail.
    let tail = &body[body.len().saturating_sub(2048)..];
    let start = find(tail, KEY)? + KEY.len();
    let end = start + tail[start..].iter().position(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(&tail[start..end]).into_owned())
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")
                    .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0))
            })
        })
        .unwrap_or(0)
}

async fn token(conn: &mut Conn, emu: &Emulator) -> anyhow::Result<String> {
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}/.default",
        emu.client_id(),
        emu.client_secret(),
        emu.base_url()
    );
    let path = emu.token_url().replace(&emu.base_url(), "");
    let head =
        format!("POST {path} HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    let (status, body) = conn.request(&head, &form).await?;
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    match v["access_token"].as_str() {
        Some(t) if status == 200 => Ok(t.to_owned()),
        _ => bail!("token request failed with {status}"),
    }
}

#[allow(clippy::print_stdout)]
pub async fn run(records: usize, page_size: usize) -> anyhow::Result<()> {
    let config = EmulatorConfig {
        records_per_entity: HashMap::from([("account".to_owned(), records)]),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config).await?;
    let mut conn = Conn::open(&emu.base_url()).await?;
    let bearer = token(&mut conn, &emu).await?;
    let mut url = format!("{}/accounts", emu.api_url());
    let (mut rows, mut bytes, mut pages) = (0usize, 0usize, 0usize);
    let start = Instant::now();
    loop {
        let path = url.replace(&emu.base_url(), "");
        let head = format!(
            "GET {path} HTTP/1.1\r\nAuthorization: Bearer {bearer}\r\nAccept: application/json\r\nPrefer: odata.track-changes,odata.maxpagesize={page_size}\r\n"
        );
        let (status, body) = conn.request(&head, "").await?;
        if status != 200 {
            bail!(
                "page {pages} failed with {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
        // Data rows are flat objects, so every '{' after the envelope's opens one row.
        rows += body
            .iter()
            .filter(|&&b| b == b'{')
            .count()
            .saturating_sub(1);
        bytes += body.len();
        pages += 1;
        match next_link(&body) {
            Some(next) => url = next,
            None => break,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!("pages:       {pages}");
    println!("records:     {rows}");
    println!("seconds:     {secs:.2}");
    println!("records/s:   {:.0}", rows as f64 / secs);
    println!("MB/s:        {:.1}", bytes as f64 / secs / 1e6);
    println!("bytes/row:   {}", bytes / rows.max(1));
    println!("peak RSS:    {} MiB (VmHWM)", peak_rss_kib() / 1024);
    emu.shutdown().await;
    Ok(())
}
