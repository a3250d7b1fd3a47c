//! `$batch` of GETs: one `multipart/mixed` request, one answer per part, in order.
//!
//! Metadata discovery reads a dozen attribute casts per entity; a batch makes that one round
//! trip and one request against the service-protection count.

use std::fmt::Write;

use des_core::ports::SourceError;
use url::Url;
use uuid::Uuid;

/// A batch request body and its boundary.
pub(crate) struct Batch {
    boundary: String,
    body: String,
}

/// One answered part.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PartResponse {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Batch {
    /// GETs of `urls`, each as an `application/http` part.
    pub(crate) fn of_gets(urls: &[Url]) -> Self {
        let boundary = format!("batch_{}", Uuid::new_v4());
        let mut body = String::new();
        for url in urls {
            let _ = write!(
                body,
                "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
                 GET {url} HTTP/1.1\r\nAccept: application/json\r\n\r\n"
            );
        }
        let _ = write!(body, "--{boundary}--\r\n");
        Self { boundary, body }
    }

    pub(crate) fn content_type(&self) -> String {
        format!("multipart/mixed;boundary={}", self.boundary)
    }

    pub(crate) fn body(&self) -> &str {
        &self.body
    }
}

/// Splits a batch response into its parts. The boundary is read from the first delimiter
/// line, so the response's `Content-Type` header is not needed.
pub(crate) fn parse_response(body: &[u8]) -> Result<Vec<PartResponse>, SourceError> {
    let text = std::str::from_utf8(body).map_err(|_| protocol("batch response is not UTF-8"))?;
    let boundary = text
        .trim_start()
        .lines()
        .next()
        .and_then(|line| line.trim_end().strip_prefix("--"))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| protocol("batch response has no boundary"))?;
    let delimiter = format!("--{boundary}");
    text.split(delimiter.as_str())
        .skip(1)
        .take_while(|part| !part.starts_with("--"))
        .map(parse_part)
        .collect()
}

/// `part headers`, blank line, `HTTP/1.1 <status> <reason>`, headers, blank line, body.
fn parse_part(part: &str) -> Result<PartResponse, SourceError> {
    let (_, http) = split_head(part.trim_start_matches(['\r', '\n']));
    let (head, body) = split_head(http);
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| protocol("batch part has no HTTP status line"))?;
    Ok(PartResponse {
        status,
        body: body.trim_end_matches(['\r', '\n']).to_owned(),
    })
}

fn split_head(text: &str) -> (&str, &str) {
    text.split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((text, ""))
}

fn protocol(message: &str) -> SourceError {
    SourceError::Protocol(message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_one_get_part_per_url() {
        let urls = [
            "http://h/api/data/v9.2/A?$select=x",
            "http://h/api/data/v9.2/B",
        ]
        .map(|u| Url::parse(u).expect("url"));
        let batch = Batch::of_gets(&urls);
        assert!(
            batch
                .content_type()
                .starts_with("multipart/mixed;boundary=batch_")
        );
        assert_eq!(
            batch
                .body()
                .matches("Content-Type: application/http")
                .count(),
            2
        );
        assert!(
            batch
                .body()
                .contains("GET http://h/api/data/v9.2/A?$select=x HTTP/1.1\r\n")
        );
        assert!(
            batch
                .body()
                .ends_with(&format!("--{}--\r\n", batch.boundary))
        );
    }

    #[test]
    fn response_parts_keep_order_status_and_body() {
        let body = "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
                    HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"value\":[]}\r\n\
                    --batchresponse_1\r\nContent-Type: application/http\r\n\r\n\
                    HTTP/1.1 404 Not Found\r\n\r\n{\"error\":{\"code\":\"0x1\",\"message\":\"m\"}}\r\n\
                    --batchresponse_1--\r\n";
        let parts = parse_response(body.as_bytes()).expect("parts");
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            PartResponse {
                status: 200,
                body: "{\"value\":[]}".to_owned()
            }
        );
        assert_eq!(parts[1].status, 404);
        assert!(parts[1].body.ends_with("}}"));
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        assert!(parse_response(b"not multipart").is_err());
        assert!(parse_response(b"--b\r\n\r\nnot http\r\n--b--").is_err());
    }
}
