//! `POST $batch`: multipart/mixed requests, each part answered through [`super::dispatch`].
//! Change sets are accepted and run in order (not atomically).

use super::{API_PREFIX, Reply, dispatch};
use crate::error::EmulatorError;
use crate::server::ServerState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use std::fmt::Write;

const MAX_PARTS: usize = 1000;

fn boundary(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
}

/// Splits a multipart body into its parts (without the delimiter lines).
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    body.split(delimiter.as_str())
        .skip(1)
        .take_while(|p| !p.starts_with("--"))
        .map(|p| p.trim_start_matches(['\r', '\n']))
        .collect()
}

/// Splits `headers \r\n\r\n body` and parses the header lines.
fn head_and_body(text: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((text, ""));
    let headers = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (headers, body)
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        _ => "Error",
    }
}

/// Runs one `application/http` part.
fn run_part(sh: &ServerState, text: &str) -> Reply {
    let (_, http) = head_and_body(text);
    let mut lines = http.splitn(2, '\n');
    let request_line = lines.next().unwrap_or("").trim();
    let (headers, body) = head_and_body(lines.next().unwrap_or(""));
    let mut it = request_line.split_whitespace();
    let (Some(method), Some(url)) = (it.next(), it.next()) else {
        return Reply::from(EmulatorError::bad_request(
            "0x80060888",
            "Malformed batch part.",
        ));
    };
    let path_and_query = url.split_once(API_PREFIX).map_or(url, |(_, rest)| rest);
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            map.append(k, v);
        }
    }
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
    let path = crate::odata::decode(path.trim_start_matches('/'));
    dispatch(sh, &method, &path, query, &map, body.trim_end().as_bytes())
        .unwrap_or_else(Reply::from)
}

fn write_response(out: &mut String, boundary: &str, reply: &Reply) {
    let _ = write!(
        out,
        "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
    );
    let _ = write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        status_text(reply.status)
    );
    if !reply.content_type.is_empty() {
        let _ = write!(out, "Content-Type: {}\r\n", reply.content_type);
    }
    out.push_str("OData-Version: 4.0\r\n");
    for (k, v) in &reply.headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    let _ = write!(out, "\r\n{}", reply.body);
    for chunk in &reply.chunks {
        out.push_str(chunk);
    }
    out.push_str("\r\n");
}

pub fn handle(sh: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<Reply, EmulatorError> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let b = boundary(ct).ok_or_else(|| {
        EmulatorError::bad_request(
            "0x80060888",
            "A batch request needs a multipart/mixed boundary.",
        )
    })?;
    let text = String::from_utf8_lossy(body);
    let batch = parts(&text, &b);
    if batch.len() > MAX_PARTS {
        return Err(EmulatorError::bad_request(
            "0x80060888",
            "The batch contains more than 1000 requests.",
        ));
    }
    let response_boundary = format!("batchresponse_{}", uuid::Uuid::new_v4());
    let mut out = String::new();
    let mut rows = 0;
    let mut run = |text: &str| {
        let reply = run_part(sh, text);
        rows += reply.rows;
        reply
    };
    for part in batch {
        let (part_headers, part_body) = head_and_body(part);
        let part_ct = part_headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map_or("", |(_, v)| v.as_str());
        match boundary(part_ct).filter(|_| part_ct.starts_with("multipart/mixed")) {
            Some(cs) => {
                let cs_boundary = format!("changesetresponse_{}", uuid::Uuid::new_v4());
                let _ = write!(
                    out,
                    "--{response_boundary}\r\nContent-Type: multipart/mixed; boundary={cs_boundary}\r\n\r\n"
                );
                for inner in parts(part_body, &cs) {
                    write_response(&mut out, &cs_boundary, &run(inner));
                }
                let _ = write!(out, "--{cs_boundary}--\r\n");
            }
            None => write_response(&mut out, &response_boundary, &run(part)),
        }
    }
    let _ = write!(out, "--{response_boundary}--\r\n");
    Ok(Reply {
        status: 200,
        content_type: "",
        body: out,
        chunks: Vec::new(),
        headers: vec![(
            "Content-Type".into(),
            format!("multipart/mixed; boundary={response_boundary}"),
        )],
        rows,
    })
}
