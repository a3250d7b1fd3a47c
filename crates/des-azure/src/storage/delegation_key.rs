//! User delegation keys: what Get User Delegation Key returns and how it is asked for.
//! <https://learn.microsoft.com/rest/api/storageservices/get-user-delegation-key>
//!
//! The request is made here rather than with `BlobServiceClient::get_user_delegation_key`
//! for two reasons: the SDK's XML errors quote the whole response body, which holds the key
//! value (it must never reach a log), and the SDK's bearer policy refuses http, so its
//! request could not be checked against a loopback stand-in. What is verified only against
//! the documentation (not against Azure, Azurite does not serve this operation to tokens
//! over http): that the service accepts this exact request and answers in this shape.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::http::{HttpClient, Method, Request};
use azure_core::time::to_rfc7231;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

use super::sas::format_time;
use super::{STORAGE_SCOPE, is_loopback};

/// The service version of the key request (and so the key's `skv`).
pub const KEY_REQUEST_VERSION: &str = "2021-08-06";

/// A user delegation key could not be had; the text never holds a token or key value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("user delegation key: {0}")]
pub struct DelegationKeyError(pub(crate) String);

/// A user delegation key: the `sk*` fields of a user-delegation SAS and the HMAC key that
/// signs it. `Debug` leaves the key value out.
#[derive(Clone, PartialEq, Eq)]
pub struct UserDelegationKey {
    pub signed_oid: String,
    pub signed_tid: String,
    pub signed_start: OffsetDateTime,
    pub signed_expiry: OffsetDateTime,
    pub signed_service: String,
    pub signed_version: String,
    pub(crate) value: Vec<u8>,
}

impl std::fmt::Debug for UserDelegationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDelegationKey")
            .field("signed_oid", &self.signed_oid)
            .field("signed_start", &self.signed_start)
            .field("signed_expiry", &self.signed_expiry)
            .finish_non_exhaustive()
    }
}

impl UserDelegationKey {
    /// Reads the `<UserDelegationKey>` document the service answers with. Errors name the
    /// missing or bad element, never the body.
    pub fn from_xml(xml: &str) -> Result<Self, DelegationKeyError> {
        let text = |name: &str| {
            element(xml, name)
                .ok_or_else(|| DelegationKeyError(format!("no <{name}> in the answer")))
        };
        let time = |name: &str| {
            OffsetDateTime::parse(text(name)?, &Rfc3339)
                .map_err(|_| DelegationKeyError(format!("<{name}> is not an ISO 8601 time")))
        };
        let value = STANDARD
            .decode(text("Value")?)
            .map_err(|_| DelegationKeyError("<Value> is not base64".to_owned()))?;
        Ok(Self {
            signed_oid: text("SignedOid")?.to_owned(),
            signed_tid: text("SignedTid")?.to_owned(),
            signed_start: time("SignedStart")?,
            signed_expiry: time("SignedExpiry")?,
            signed_service: text("SignedService")?.to_owned(),
            signed_version: text("SignedVersion")?.to_owned(),
            value,
        })
    }

    /// A key with these fields, for callers that fetch keys their own way (and tests).
    pub fn new(
        signed_oid: &str,
        signed_tid: &str,
        signed_start: OffsetDateTime,
        signed_expiry: OffsetDateTime,
        value: Vec<u8>,
    ) -> Self {
        Self {
            signed_oid: signed_oid.to_owned(),
            signed_tid: signed_tid.to_owned(),
            signed_start,
            signed_expiry,
            signed_service: "b".to_owned(),
            signed_version: KEY_REQUEST_VERSION.to_owned(),
            value,
        }
    }
}

/// The text of the one `<name>` element of a flat document (the key answer has no nesting,
/// attributes or escapes in its values: GUIDs, times, base64).
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim())
}

/// The documented request body: `<KeyInfo>` with the key's start and expiry.
pub fn key_request_body(start: OffsetDateTime, expiry: OffsetDateTime) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<KeyInfo>\n<Start>{}</Start>\n\
         <Expiry>{}</Expiry>\n</KeyInfo>",
        format_time(start),
        format_time(expiry)
    )
}

/// Where delegation keys come from: the service in production, a stand-in in tests.
#[async_trait]
pub trait KeyFetcher: Send + Sync {
    async fn fetch(
        &self,
        start: OffsetDateTime,
        expiry: OffsetDateTime,
    ) -> Result<UserDelegationKey, DelegationKeyError>;
}

/// Get User Delegation Key on the Blob service, with an Entra token.
pub struct RestKeyFetcher {
    url: Url,
    credential: Arc<dyn TokenCredential>,
    http: Arc<dyn HttpClient>,
}

impl std::fmt::Debug for RestKeyFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestKeyFetcher")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl RestKeyFetcher {
    /// Asks `blob_endpoint` (`https://<account>.blob.core.windows.net`) with tokens from
    /// `credential`. Tokens go over https only; loopback http is allowed for a local
    /// stand-in (nothing leaves the machine).
    pub fn new(
        blob_endpoint: &Url,
        credential: Arc<dyn TokenCredential>,
        http: Arc<dyn HttpClient>,
    ) -> Result<Self, DelegationKeyError> {
        if blob_endpoint.scheme() != "https" && !is_loopback(blob_endpoint) {
            return Err(DelegationKeyError(format!(
                "{blob_endpoint}: Entra tokens are only sent over https"
            )));
        }
        let mut url = blob_endpoint.clone();
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url.set_query(Some("restype=service&comp=userdelegationkey"));
        Ok(Self {
            url,
            credential,
            http,
        })
    }

    async fn request(
        &self,
        start: OffsetDateTime,
        expiry: OffsetDateTime,
    ) -> Result<Request, DelegationKeyError> {
        let token = self
            .credential
            .get_token(&[STORAGE_SCOPE], None)
            .await
            .map_err(|e| DelegationKeyError(format!("no storage token: {e}")))?;
        let mut request = Request::new(self.url.clone(), Method::Post);
        let bearer = format!("Bearer {}", token.token.secret());
        request.insert_header("authorization", bearer);
        request.insert_header("x-ms-version", KEY_REQUEST_VERSION);
        request.insert_header("x-ms-date", to_rfc7231(&OffsetDateTime::now_utc()));
        request.insert_header("content-type", "application/xml");
        request.set_body(key_request_body(start, expiry).into_bytes());
        Ok(request)
    }
}

#[async_trait]
impl KeyFetcher for RestKeyFetcher {
    async fn fetch(
        &self,
        start: OffsetDateTime,
        expiry: OffsetDateTime,
    ) -> Result<UserDelegationKey, DelegationKeyError> {
        let request = self.request(start, expiry).await?;
        let unreachable = |e: azure_core::Error| DelegationKeyError(format!("unreachable: {e}"));
        let answer = self
            .http
            .execute_request(&request)
            .await
            .map_err(unreachable)?;
        let status = u16::from(answer.status());
        let code = answer
            .headers()
            .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                "x-ms-error-code",
            ))
            .map(str::to_owned);
        let body = answer.into_body().collect().await.map_err(unreachable)?;
        if status != 200 {
            // 403 AuthorizationPermissionMismatch: the identity lacks Storage Blob Delegator.
            let code = code.unwrap_or_default();
            return Err(DelegationKeyError(format!(
                "storage answered {status} {code}"
            )));
        }
        let xml = std::str::from_utf8(&body)
            .map_err(|_| DelegationKeyError("the answer is not UTF-8".to_owned()))?;
        UserDelegationKey::from_xml(xml.trim_start_matches('\u{feff}'))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// The response example of the Get User Delegation Key page, with real values.
    const ANSWER: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
        <UserDelegationKey>\n\
          <SignedOid>11111111-2222-3333-4444-555555555555</SignedOid>\n\
          <SignedTid>66666666-7777-8888-9999-000000000000</SignedTid>\n\
          <SignedStart>2026-11-27T12:00:00Z</SignedStart>\n\
          <SignedExpiry>2026-11-29T12:00:00.0000000Z</SignedExpiry>\n\
          <SignedService>b</SignedService>\n\
          <SignedVersion>2021-08-06</SignedVersion>\n\
          <Value>c2VjcmV0LWtleQ==</Value>\n\
        </UserDelegationKey>";

    #[test]
    fn the_documented_answer_parses() {
        let key = UserDelegationKey::from_xml(ANSWER.trim_start_matches('\u{feff}')).unwrap();
        assert_eq!(key.signed_oid, "11111111-2222-3333-4444-555555555555");
        assert_eq!(key.signed_tid, "66666666-7777-8888-9999-000000000000");
        assert_eq!(key.signed_start, datetime!(2026-11-27 12:00:00 UTC));
        assert_eq!(key.signed_expiry, datetime!(2026-11-29 12:00:00 UTC));
        assert_eq!(key.signed_service, "b");
        assert_eq!(key.signed_version, "2021-08-06");
        assert_eq!(key.value, b"secret-key");
        assert!(
            !format!("{key:?}").contains("secret"),
            "Debug hides the key"
        );
    }

    #[test]
    fn bad_answers_name_the_element_not_the_body() {
        let missing = ANSWER.replace(
            "<SignedTid>66666666-7777-8888-9999-000000000000</SignedTid>",
            "",
        );
        let error = UserDelegationKey::from_xml(&missing).unwrap_err();
        assert!(error.to_string().contains("<SignedTid>"), "{error}");
        let bad = ANSWER.replace("c2VjcmV0LWtleQ==", "!!c2VjcmV0LWtleQ==");
        let error = UserDelegationKey::from_xml(&bad).unwrap_err();
        assert!(error.to_string().contains("<Value>"), "{error}");
        assert!(!error.to_string().contains("c2Vj"), "{error}");
        let late = ANSWER.replace("2026-11-27T12:00:00Z", "yesterday");
        assert!(UserDelegationKey::from_xml(&late).is_err());
    }

    #[test]
    fn the_request_body_is_the_documented_key_info() {
        let body = key_request_body(
            datetime!(2026-11-27 11:55:00.7 UTC),
            datetime!(2026-11-29 13:00:00 +01:00),
        );
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<KeyInfo>\n\
             <Start>2026-11-27T11:55:00Z</Start>\n<Expiry>2026-11-29T12:00:00Z</Expiry>\n\
             </KeyInfo>"
        );
    }
}
