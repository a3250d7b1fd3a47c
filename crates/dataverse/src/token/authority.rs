//! The Entra authority host: which cloud's identity platform issues the tokens. The national
//! clouds are known by name; any other authority is a URL, `https` only, except on loopback
//! (a local emulator), so a secret is never sent in clear over a network.

use url::{Host, Url};

/// The clouds known by name: (names, authority host), hosts as Microsoft documents them
/// ("National clouds", Microsoft identity platform).
const CLOUDS: &[(&[&str], &str)] = &[
    (
        &["public", "azurepublic", "azurecloud"],
        "https://login.microsoftonline.com",
    ),
    (
        &["usgov", "azureusgovernment", "usgovernment"],
        "https://login.microsoftonline.us",
    ),
    (
        &["china", "azurechina", "azurechinacloud"],
        "https://login.partner.microsoftonline.cn",
    ),
];

/// The names `parse_authority` knows, for help texts and errors.
pub const CLOUD_NAMES: &str = "public, usgov, china";

/// An authority setting that cannot be used, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    #[error("authority {0:?} is neither a known cloud ({CLOUD_NAMES}) nor a URL: {1}")]
    NotAUrl(String, String),
    #[error(
        "authority {0} must use https (plain http is accepted only on loopback, for a local emulator)"
    )]
    NotHttps(String),
    #[error("authority {0} must be a plain base URL, without user, query or fragment")]
    NotPlain(String),
}

/// The authority for a cloud name (`public`, `usgov`, `china`, case-insensitive) or an
/// explicit base URL such as `https://login.microsoftonline.us` or `http://127.0.0.1:8089`.
pub fn parse_authority(value: &str) -> Result<Url, AuthorityError> {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    if let Some((_, host)) = CLOUDS
        .iter()
        .find(|(names, _)| names.contains(&lower.as_str()))
    {
        return Url::parse(host)
            .map_err(|e| AuthorityError::NotAUrl(value.to_owned(), e.to_string()));
    }
    let url =
        Url::parse(value).map_err(|e| AuthorityError::NotAUrl(value.to_owned(), e.to_string()))?;
    check_authority(&url)?;
    Ok(url)
}

/// An authority URL is `https`, or `http` on a loopback host; no credentials, query or
/// fragment.
pub fn check_authority(url: &Url) -> Result<(), AuthorityError> {
    let shown = url.as_str().trim_end_matches('/').to_owned();
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(AuthorityError::NotPlain(shown));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(AuthorityError::NotHttps(shown)),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clouds_are_known_by_name() {
        let host = |name: &str| {
            parse_authority(name)
                .unwrap()
                .host_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(host("public"), "login.microsoftonline.com");
        assert_eq!(host("USGov"), "login.microsoftonline.us");
        assert_eq!(host("AzureUSGovernment"), "login.microsoftonline.us");
        assert_eq!(host("china"), "login.partner.microsoftonline.cn");
    }

    #[test]
    fn urls_are_https_except_on_loopback() {
        assert!(parse_authority("https://login.microsoftonline.us").is_ok());
        assert!(parse_authority("http://127.0.0.1:8089").is_ok());
        assert!(parse_authority("http://[::1]:8089").is_ok());
        assert!(parse_authority("http://localhost:8089/").is_ok());
        assert_eq!(
            parse_authority("http://login.example.com"),
            Err(AuthorityError::NotHttps("http://login.example.com".into()))
        );
        assert!(matches!(
            parse_authority("ftp://127.0.0.1"),
            Err(AuthorityError::NotHttps(_))
        ));
        assert!(matches!(
            parse_authority("https://user:pw@login.example.com"),
            Err(AuthorityError::NotPlain(_))
        ));
        let err = parse_authority("mooncake").unwrap_err();
        assert!(err.to_string().contains("public, usgov, china"), "{err}");
    }
}
