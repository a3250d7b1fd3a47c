//! A loopback stand-in for SQL Server that speaks just enough TDS to take a plaintext login
//! and answer the sink's requests, recording each one. It knows nothing of T-SQL: it answers
//! the few result-returning statements by their opening words, with result sets of the types
//! SQL Server would describe, so the driver encodes the sink's bulk rows against real column
//! metadata. Everything else gets a bare DONE.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the sink sent, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A plain SQL batch (`simple_query`, and the driver's own bulk statements).
    Batch(String),
    /// `sp_executesql` with parameters (`execute`/`query`).
    Rpc(String),
    /// A transaction-manager request (begin, commit, rollback).
    Transaction,
    /// Bulk-load rows.
    BulkRows,
}

const SQL_BATCH: u8 = 0x01;
const RPC: u8 = 0x03;
const TABULAR: u8 = 0x04;
const BULK_LOAD: u8 = 0x07;
const TRANSACTION: u8 = 0x0E;
const EOM: u8 = 0x01;

pub struct StandIn {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl StandIn {
    /// Serves logins on a loopback port; `watermark` is what the watermark reads return.
    pub async fn start(watermark: i64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let port = listener.local_addr().expect("address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, Arc::clone(&log), watermark));
            }
        });
        Self { port, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn read_message(socket: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut body = Vec::new();
    loop {
        let mut header = [0u8; 8];
        socket.read_exact(&mut header).await?;
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let mut part = vec![0u8; length.saturating_sub(8)];
        socket.read_exact(&mut part).await?;
        body.extend_from_slice(&part);
        if header[1] & EOM != 0 {
            return Ok((header[0], body));
        }
    }
}

async fn reply(socket: &mut TcpStream, payload: &[u8]) -> std::io::Result<()> {
    let length = u16::try_from(payload.len() + 8).expect("replies fit one packet");
    let mut out = vec![TABULAR, EOM];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&[0, 0, 1, 0]);
    out.extend_from_slice(payload);
    socket.write_all(&out).await
}

async fn serve(
    mut socket: TcpStream,
    log: Arc<Mutex<Vec<Request>>>,
    watermark: i64,
) -> std::io::Result<()> {
    read_message(&mut socket).await?;
    let mut prelogin = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF];
    prelogin.extend_from_slice(&[16, 0, 0x10, 0x00, 0, 0, 0x02]);
    reply(&mut socket, &prelogin).await?;
    read_message(&mut socket).await?;
    reply(&mut socket, &done()).await?;
    let mut stage = Vec::new();
    loop {
        let (kind, body) = read_message(&mut socket).await?;
        let request = match kind {
            SQL_BATCH => Request::Batch(batch_text(&body)),
            RPC => Request::Rpc(rpc_text(&body)),
            TRANSACTION => Request::Transaction,
            BULK_LOAD => Request::BulkRows,
            other => panic!("unexpected TDS message type {other}"),
        };
        let answer = answer(&request, &mut stage, watermark);
        log.lock().expect("lock").push(request);
        reply(&mut socket, &answer).await?;
    }
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// The headers' own length leads them.
fn skip_headers(body: &[u8]) -> &[u8] {
    let length = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
    &body[length..]
}

fn batch_text(body: &[u8]) -> String {
    utf16(skip_headers(body))
}

/// The first parameter of `sp_executesql`: the statement, as an `nvarchar(4000)` or PLP value.
fn rpc_text(body: &[u8]) -> String {
    let rest = &skip_headers(body)[4 + 2..];
    let name_len = usize::from(rest[0]) * 2;
    let rest = &rest[1 + name_len + 1..];
    let max_len = u16::from_le_bytes([rest[1], rest[2]]);
    let value = &rest[1 + 2 + 5..];
    if max_len != 0xFFFF {
        let len = usize::from(u16::from_le_bytes([value[0], value[1]]));
        return utf16(&value[2..2 + len]);
    }
    let mut chunks = &value[8..];
    let mut text = Vec::new();
    loop {
        let len = u32::from_le_bytes([chunks[0], chunks[1], chunks[2], chunks[3]]) as usize;
        if len == 0 {
            return utf16(&text);
        }
        text.extend_from_slice(&chunks[4..4 + len]);
        chunks = &chunks[4 + len..];
    }
}

fn done() -> Vec<u8> {
    let mut token = vec![0xFD];
    token.extend_from_slice(&[0u8; 12]);
    token
}

/// A result set's answer: COLMETADATA for `columns` (named `c0`, `c1`, ... unless `names`
/// says otherwise), the `rows`, then DONE.
fn result(columns: &[Vec<u8>], rows: &[Vec<u8>]) -> Vec<u8> {
    let names: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
    named(columns, &names, rows)
}

fn named(columns: &[Vec<u8>], names: &[String], rows: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x81];
    out.extend_from_slice(&u16::try_from(columns.len()).expect("few").to_le_bytes());
    for (type_info, name) in columns.iter().zip(names) {
        out.extend_from_slice(&0u32.to_le_bytes());
        // Nullable, updateable.
        out.extend_from_slice(&0x0005u16.to_le_bytes());
        out.extend_from_slice(type_info);
        let units: Vec<u16> = name.encode_utf16().collect();
        out.push(u8::try_from(units.len()).expect("short"));
        units
            .iter()
            .for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
    }
    for row in rows {
        out.push(0xD1);
        out.extend_from_slice(row);
    }
    out.extend(done());
    out
}

/// TYPE_INFO of a column as `CREATE TABLE` spells its type.
fn type_info(sql_type: &str) -> Vec<u8> {
    let collation = [0x09, 0x04, 0xD0, 0x00, 0x34];
    let nvarchar = |max: u16| {
        let mut ti = vec![0xE7];
        ti.extend_from_slice(&max.to_le_bytes());
        ti.extend_from_slice(&collation);
        ti
    };
    match sql_type {
        "uniqueidentifier" => vec![0x24, 16],
        "int" => vec![0x26, 4],
        "bigint" => vec![0x26, 8],
        "bit" => vec![0x68, 1],
        "datetime" => vec![0x6F, 8],
        "nvarchar(max)" => nvarchar(0xFFFF),
        t if t.starts_with("nvarchar(") => {
            let n: u16 = t[9..t.len() - 1].parse().expect("a length");
            nvarchar(n * 2)
        }
        t if t.starts_with("decimal(38,") => {
            let scale: u8 = t[11..t.len() - 1].parse().expect("a scale");
            vec![0x6A, 17, 38, scale]
        }
        other => panic!("the stand-in does not know type {other}"),
    }
}

/// The column types of a `CREATE TABLE #... ([c0] type NULL, ...)`.
fn stage_types(ddl: &str) -> Vec<Vec<u8>> {
    let body = &ddl[ddl.find('(').expect("columns") + 1..ddl.len() - 1];
    body.split(", [")
        .filter(|c| !c.starts_with("PRIMARY KEY"))
        .map(|c| type_info(c.split(' ').nth(1).expect("a type")))
        .collect()
}

fn answer(request: &Request, stage: &mut Vec<Vec<u8>>, watermark: i64) -> Vec<u8> {
    let text = match request {
        Request::Batch(t) | Request::Rpc(t) => t.as_str(),
        Request::Transaction | Request::BulkRows => return done(),
    };
    if text.starts_with("CREATE TABLE #DesStage") {
        *stage = stage_types(text);
    }
    let guid = || type_info("uniqueidentifier");
    if text.starts_with("SELECT TOP 0 * FROM #DesKeys") {
        // `[Kind] tinyint NOT NULL`: SQL Server describes NOT NULL integers as fixed types.
        let names = ["Id".to_owned(), "Kind".to_owned()];
        return named(&[guid(), vec![0x30]], &names, &[]);
    }
    if text.starts_with("SELECT TOP 0 * FROM #DesStage") {
        return result(stage, &[]);
    }
    if text.starts_with("SELECT [Seq] FROM") && text.contains("[Watermark]") {
        let mut row = vec![8];
        row.extend_from_slice(&watermark.to_le_bytes());
        return result(&[type_info("bigint")], &[row]);
    }
    if text.starts_with("SELECT [Seq] FROM") || text.starts_with("SELECT [versionnumber]") {
        return result(&[type_info("bigint")], &[]);
    }
    if text.starts_with("SELECT k.[Id]") {
        return result(&[guid()], &[]);
    }
    if text.starts_with("SELECT p.[Permission]") {
        return permissions(text);
    }
    done()
}

/// Every permission the query lists, granted, in a schema that exists.
fn permissions(text: &str) -> Vec<u8> {
    let names = text
        .split("(N'")
        .skip(1)
        .filter_map(|rest| rest.split_once('\''));
    let rows: Vec<Vec<u8>> = names
        .map(|(name, _)| {
            let units: Vec<u16> = name.encode_utf16().collect();
            let mut row = (u16::try_from(units.len() * 2).expect("short"))
                .to_le_bytes()
                .to_vec();
            units
                .iter()
                .for_each(|u| row.extend_from_slice(&u.to_le_bytes()));
            row.extend_from_slice(&[4, 1, 0, 0, 0, 4, 1, 0, 0, 0]);
            row
        })
        .collect();
    let columns = [
        type_info("nvarchar(64)"),
        type_info("int"),
        type_info("int"),
    ];
    result(&columns, &rows)
}
