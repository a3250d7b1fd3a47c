//! Shared Key authorization: the account key signs each request. The 1.x storage crates are
//! Entra-only by design (azure-sdk-for-rust #2789), but Azurite takes no tokens over http,
//! so local runs sign with the account key through this pipeline policy.
//!
//! The string to sign is the Blob/Queue form of version 2009-09-19 and later:
//! <https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key>.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request, Url};
use azure_core::time::{OffsetDateTime, to_rfc7231};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ConfigError;

/// The standard headers signed, in order, before the `x-ms-` ones.
const SIGNED_HEADERS: [&str; 11] = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
];

/// A storage account name and its key.
#[derive(Clone)]
pub struct AccountKey {
    account: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountKey")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl AccountKey {
    /// `key` is the base64 text the portal and connection strings show.
    pub fn new(account: &str, key: &str) -> Result<Self, ConfigError> {
        let key = STANDARD
            .decode(key.trim())
            .map_err(|_| ConfigError::new("AccountKey is not base64"))?;
        if account.is_empty() || key.is_empty() {
            return Err(ConfigError::new(
                "AccountName and AccountKey must not be empty",
            ));
        }
        Ok(Self {
            account: account.to_owned(),
            key,
        })
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// The `Authorization` value Shared Key gives a request made of these parts; `headers`
    /// must hold its `x-ms-date` and `x-ms-version`. For callers outside the SDK pipeline.
    pub fn authorization(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        content_length: u64,
    ) -> String {
        let text = string_to_sign(&self.account, method, url, headers, content_length);
        format!("SharedKey {}:{}", self.account, self.sign(&text))
    }

    /// Base64 of HMAC-SHA256(key, `text`): the signature of Shared Key and of SAS tokens.
    pub(crate) fn sign(&self, text: &str) -> String {
        hmac_base64(&self.key, text)
    }
}

/// Base64 of HMAC-SHA256(`key`, `text`).
pub(crate) fn hmac_base64(key: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(text.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs every try of a request (the date changes per try) with the account key.
#[derive(Debug)]
pub(crate) struct SharedKeyPolicy {
    key: AccountKey,
}

impl SharedKeyPolicy {
    pub(crate) fn new(key: AccountKey) -> Arc<Self> {
        Arc::new(Self { key })
    }
}

#[async_trait]
impl Policy for SharedKeyPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        request.insert_header("x-ms-date", to_rfc7231(&OffsetDateTime::now_utc()));
        let length = request.body().len().unwrap_or(0);
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.as_str().to_owned()))
            .collect();
        let method = request.method();
        let authorization =
            self.key
                .authorization(method.as_ref(), request.url(), &headers, length);
        request.insert_header("authorization", authorization);
        next[0].send(ctx, request, &next[1..]).await
    }
}

/// The canonical text Shared Key signs for one request.
pub(crate) fn string_to_sign(
    account: &str,
    method: &str,
    url: &Url,
    headers: &[(String, String)],
    content_length: u64,
) -> String {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    };
    let mut text = format!("{}\n", method.to_ascii_uppercase());
    for name in SIGNED_HEADERS {
        let value = match name {
            // Since 2015-02-21 a zero length is signed as empty.
            "content-length" if content_length > 0 => content_length.to_string(),
            "content-length" => String::new(),
            _ => header(name).to_owned(),
        };
        text.push_str(&value);
        text.push('\n');
    }
    text.push_str(&canonical_headers(headers));
    text.push_str(&canonical_resource(account, url));
    text
}

fn canonical_headers(headers: &[(String, String)]) -> String {
    let ms: BTreeMap<String, String> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .filter(|(n, _)| n.starts_with("x-ms-"))
        .map(|(n, v)| (n, v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    ms.iter().map(|(n, v)| format!("{n}:{v}\n")).collect()
}

/// `/<account><path>` (the path as sent, still encoded) then each query parameter, lower-cased and sorted, with its decoded
/// values joined by commas.
fn canonical_resource(account: &str, url: &Url) -> String {
    let mut text = format!("/{account}{}", url.path());
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in url.query_pairs() {
        params
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.into_owned());
    }
    for (name, mut values) in params {
        values.sort();
        text.push_str(&format!("\n{name}:{}", values.join(",")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_sign_follows_the_documented_layout() {
        let url = Url::parse(
            "http://127.0.0.1:10000/devstoreaccount1/c/a%20b?restype=container&comp=list&Prefix=x",
        )
        .expect("url");
        let headers = vec![
            ("x-ms-version".to_owned(), "2025-11-05".to_owned()),
            (
                "X-MS-Date".to_owned(),
                "Fri, 27 Nov 2026 12:00:00 GMT".to_owned(),
            ),
            ("if-match".to_owned(), "\"0x1\"".to_owned()),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-ms-meta-a".to_owned(), "  two   words ".to_owned()),
        ];
        let text = string_to_sign("devstoreaccount1", "put", &url, &headers, 12);
        let expected = "PUT\n\n\n12\n\napplication/json\n\n\n\"0x1\"\n\n\n\n\
            x-ms-date:Fri, 27 Nov 2026 12:00:00 GMT\nx-ms-meta-a:two words\n\
            x-ms-version:2025-11-05\n\
            /devstoreaccount1/devstoreaccount1/c/a%20b\ncomp:list\nprefix:x\nrestype:container";
        assert_eq!(text, expected);
        assert_eq!(
            string_to_sign("a", "GET", &url, &[], 0).lines().nth(3),
            Some(""),
            "a zero length is signed as empty"
        );
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_the_text_in_base64() {
        // Reference value: `printf 'text' | openssl dgst -sha256 -hmac key -binary | base64`.
        let key = AccountKey::new("acct", &STANDARD.encode(b"key")).expect("key");
        assert_eq!(
            key.sign("text"),
            "avqQRqlXnK0UOjhMG1ZLmiUNJ9b2pj+fIL86dZTJ4sY="
        );
        assert!(!format!("{key:?}").contains("key:"), "Debug hides the key");
        assert!(AccountKey::new("acct", "not base64!").is_err());
    }
}
