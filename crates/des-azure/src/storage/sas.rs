//! Read-only SAS for one blob: a service SAS signed with the account key, or a
//! user-delegation SAS signed with a user delegation key (Entra-only accounts).
//!
//! The storage crates have no account-key SAS, so that one is the documented string-to-sign
//! of a service SAS (version 2020-12-06 and later):
//! <https://learn.microsoft.com/rest/api/storageservices/create-service-sas>.
//! The user-delegation SAS is the documented string-to-sign of that version too:
//! <https://learn.microsoft.com/rest/api/storageservices/create-user-delegation-sas>.
//! `azure_storage_sas` 1.0 would sign it, but it is not in the dependency tree and takes the
//! SDK's key type; one HMAC over 24 documented lines costs less than another crate.

use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, TimePrecision};
use url::Url;

use super::delegation_key::UserDelegationKey;
use super::shared_key::{AccountKey, hmac_base64};

/// The SAS version signed: accepted by Azure and by Azurite 3.x.
pub const SAS_VERSION: &str = "2021-08-06";

const SAS_TIME: Iso8601<
    {
        Config::DEFAULT
            .set_time_precision(TimePrecision::Second {
                decimal_digits: None,
            })
            .encode()
    },
> = Iso8601;

/// `blob_url` with a query that lets anyone holding it read that blob until `expiry`.
pub(crate) fn read_blob_url(
    key: &AccountKey,
    blob_url: &Url,
    container: &str,
    blob: &str,
    expiry: OffsetDateTime,
) -> Url {
    let expiry = format_time(expiry);
    // Over https (Azure) the link refuses plain http; Azurite only speaks http.
    let protocol = if blob_url.scheme() == "https" {
        "https"
    } else {
        ""
    };
    let resource = format!("/blob/{}/{container}/{blob}", key.account());
    let fields = [
        "r",
        "",
        &expiry,
        &resource,
        "",
        "",
        protocol,
        SAS_VERSION,
        "b",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ];
    let signature = key.sign(&fields.join("\n"));
    let mut url = blob_url.clone();
    let mut query = url.query_pairs_mut();
    query
        .append_pair("sv", SAS_VERSION)
        .append_pair("sr", "b")
        .append_pair("sp", "r")
        .append_pair("se", &expiry);
    if !protocol.is_empty() {
        query.append_pair("spr", protocol);
    }
    query.append_pair("sig", &signature);
    drop(query);
    url
}

/// `blob_url` with a user-delegation SAS that lets anyone holding it read that blob over
/// https until `expiry` (which `key` must outlive). `account` is the storage account name.
pub(crate) fn delegated_read_blob_url(
    key: &UserDelegationKey,
    account: &str,
    blob_url: &Url,
    container: &str,
    name: &str,
    expiry: OffsetDateTime,
) -> Url {
    let blob = format!("{container}/{name}");
    let fields = DelegatedFields::read(key, account, &blob, expiry);
    let signature = hmac_base64(&key.value, &fields.string_to_sign());
    let mut url = blob_url.clone();
    url.query_pairs_mut()
        .append_pair("sv", SAS_VERSION)
        .append_pair("sr", "b")
        .append_pair("sp", "r")
        .append_pair("se", &fields.expiry)
        .append_pair("skoid", &key.signed_oid)
        .append_pair("sktid", &key.signed_tid)
        .append_pair("skt", &fields.key_start)
        .append_pair("ske", &fields.key_expiry)
        .append_pair("sks", &key.signed_service)
        .append_pair("skv", &key.signed_version)
        .append_pair("spr", "https")
        .append_pair("sig", &signature);
    url
}

/// The signed fields of a read-only user-delegation SAS of one blob, as they go on the wire.
pub(crate) struct DelegatedFields<'a> {
    key: &'a UserDelegationKey,
    resource: String,
    expiry: String,
    key_start: String,
    key_expiry: String,
}

impl<'a> DelegatedFields<'a> {
    /// `blob` is `<container>/<name>`.
    pub(crate) fn read(
        key: &'a UserDelegationKey,
        account: &str,
        blob: &str,
        expiry: OffsetDateTime,
    ) -> Self {
        Self {
            key,
            resource: format!("/blob/{account}/{blob}"),
            expiry: format_time(expiry),
            key_start: format_time(key.signed_start),
            key_expiry: format_time(key.signed_expiry),
        }
    }

    /// The documented lines, in order (version 2020-12-06 and later); the empty ones are
    /// the optional fields this SAS leaves out.
    pub(crate) fn string_to_sign(&self) -> String {
        let key = self.key;
        [
            "r",                 // signedPermissions
            "",                  // signedStart
            &self.expiry,        // signedExpiry
            &self.resource,      // canonicalizedResource
            &key.signed_oid,     // signedKeyObjectId
            &key.signed_tid,     // signedKeyTenantId
            &self.key_start,     // signedKeyStart
            &self.key_expiry,    // signedKeyExpiry
            &key.signed_service, // signedKeyService
            &key.signed_version, // signedKeyVersion
            "",                  // signedAuthorizedUserObjectId
            "",                  // signedUnauthorizedUserObjectId
            "",                  // signedCorrelationId
            "",                  // signedIP
            "https",             // signedProtocol
            SAS_VERSION,         // signedVersion
            "b",                 // signedResource
            "",                  // signedSnapshotTime
            "",                  // signedEncryptionScope
            "",                  // rscc
            "",                  // rscd
            "",                  // rsce
            "",                  // rscl
            "",                  // rsct
        ]
        .join("\n")
    }
}

/// `2026-11-27T12:00:00Z`: whole seconds in UTC, as SAS fields want them.
pub(crate) fn format_time(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at);
    at.format(&SAS_TIME).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_read_link_carries_its_fields_and_signs_them() {
        let key = AccountKey::new("acct", &STANDARD.encode(b"key")).expect("key");
        let blob_url = Url::parse("https://acct.blob.core.windows.net/des-failures/p/links/x.log")
            .expect("url");
        let expiry = datetime!(2026-11-28 12:00:00.5 UTC);
        let url = read_blob_url(&key, &blob_url, "des-failures", "p/links/x.log", expiry);
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("se").as_deref(), Some("2026-11-28T12:00:00Z"));
        assert_eq!(get("sp").as_deref(), Some("r"));
        assert_eq!(get("sr").as_deref(), Some("b"));
        assert_eq!(get("spr").as_deref(), Some("https"));
        let text = "r\n\n2026-11-28T12:00:00Z\n/blob/acct/des-failures/p/links/x.log\n\n\nhttps\n\
                    2021-08-06\nb\n\n\n\n\n\n\n";
        assert_eq!(get("sig"), Some(key.sign(text)));
    }

    fn delegation_key() -> UserDelegationKey {
        UserDelegationKey::new(
            "11111111-2222-3333-4444-555555555555",
            "66666666-7777-8888-9999-000000000000",
            datetime!(2026-11-27 11:55:00 UTC),
            datetime!(2026-11-29 12:00:00.25 UTC),
            b"delegation-key".to_vec(),
        )
    }

    /// The documented user-delegation string-to-sign (2020-12-06 and later), written out
    /// field by field, and its HMAC computed here with the hmac crate, not the signer's.
    #[test]
    fn a_delegated_link_signs_the_documented_fields_in_order() {
        let key = delegation_key();
        let blob_url = Url::parse("https://acct.blob.core.windows.net/des-failures/p/links/x.log")
            .expect("url");
        let expiry = datetime!(2026-11-28 12:00:00.5 UTC);
        let fields = DelegatedFields::read(&key, "acct", "des-failures/p/links/x.log", expiry);
        let expected = [
            ("signedPermissions", "r"),
            ("signedStart", ""),
            ("signedExpiry", "2026-11-28T12:00:00Z"),
            (
                "canonicalizedResource",
                "/blob/acct/des-failures/p/links/x.log",
            ),
            ("signedKeyObjectId", "11111111-2222-3333-4444-555555555555"),
            ("signedKeyTenantId", "66666666-7777-8888-9999-000000000000"),
            ("signedKeyStart", "2026-11-27T11:55:00Z"),
            ("signedKeyExpiry", "2026-11-29T12:00:00Z"),
            ("signedKeyService", "b"),
            ("signedKeyVersion", "2021-08-06"),
            ("signedAuthorizedUserObjectId", ""),
            ("signedUnauthorizedUserObjectId", ""),
            ("signedCorrelationId", ""),
            ("signedIP", ""),
            ("signedProtocol", "https"),
            ("signedVersion", "2021-08-06"),
            ("signedResource", "b"),
            ("signedSnapshotTime", ""),
            ("signedEncryptionScope", ""),
            ("rscc", ""),
            ("rscd", ""),
            ("rsce", ""),
            ("rscl", ""),
            ("rsct", ""),
        ];
        let text = fields.string_to_sign();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines.len(), expected.len(), "24 lines, no trailing newline");
        for (line, (field, value)) in lines.iter().zip(expected) {
            assert_eq!(*line, value, "{field}");
        }

        let mut mac = Hmac::<Sha256>::new_from_slice(b"delegation-key").expect("key");
        let joined: Vec<&str> = expected.iter().map(|(_, v)| *v).collect();
        mac.update(joined.join("\n").as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());

        let url = delegated_read_blob_url(
            &key,
            "acct",
            &blob_url,
            "des-failures",
            "p/links/x.log",
            expiry,
        );
        assert_eq!(url.path(), blob_url.path());
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "sv", "sr", "sp", "se", "skoid", "sktid", "skt", "ske", "sks", "skv", "spr", "sig"
            ]
        );
        let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("sv"), Some("2021-08-06"));
        assert_eq!(get("sr"), Some("b"));
        assert_eq!(get("sp"), Some("r"));
        assert_eq!(get("se"), Some("2026-11-28T12:00:00Z"));
        assert_eq!(get("skt"), Some("2026-11-27T11:55:00Z"));
        assert_eq!(get("ske"), Some("2026-11-29T12:00:00Z"));
        assert_eq!(get("skoid"), Some("11111111-2222-3333-4444-555555555555"));
        assert_eq!(get("sktid"), Some("66666666-7777-8888-9999-000000000000"));
        assert_eq!(get("sks"), Some("b"));
        assert_eq!(get("skv"), Some("2021-08-06"));
        assert_eq!(get("spr"), Some("https"));
        assert_eq!(get("sig"), Some(signature.as_str()));
        let escaped: String = url::form_urlencoded::byte_serialize(signature.as_bytes()).collect();
        assert!(
            url.query()
                .is_some_and(|q| q.ends_with(&format!("&sig={escaped}"))),
            "the base64 signature is form-escaped, last"
        );
    }
}
