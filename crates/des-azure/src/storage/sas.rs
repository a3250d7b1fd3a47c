//! Read-only service SAS for one blob, signed with the account key.
//!
//! `azure_storage_sas` 1.0 signs user-delegation SAS only (it needs an Entra login and a
//! delegation key from the service), and the storage crates have no account-key SAS, so
//! this is the documented string-to-sign of a service SAS (version 2020-12-06 and later):
//! <https://learn.microsoft.com/rest/api/storageservices/create-service-sas>.

use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, TimePrecision};
use url::Url;

use super::shared_key::AccountKey;

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

/// `2026-11-27T12:00:00Z`: whole seconds in UTC, as SAS fields want them.
fn format_time(at: OffsetDateTime) -> String {
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
}
