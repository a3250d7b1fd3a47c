//! The app settings the handlers read (names: `docs/azure-names.md`, constants in
//! `des_azure::names`). The storage settings (`AzureWebJobsStorage` or its identity-based
//! `__blobServiceUri`/`__queueServiceUri`/`__credential` form) are read by
//! [`des_azure::StorageAccount::from_env`] when the adapters are wired.

use std::time::Duration;

use dataverse::token::{check_authority, parse_authority};
use des_azure::names::{
    API_APP_ROLES_SETTING, API_AUDIENCE_SETTING, API_AUTHORITY_SETTING, API_SCOPE_SETTING,
    DEFAULT_MAX_DEQUEUE_COUNT, DEFAULT_POLL_BUDGET_SECONDS, KEYVAULT_URL_SETTING,
    MAX_DEQUEUE_COUNT_SETTING, POLL_BUDGET_SETTING, PUBLIC_BASE_URL_SETTING,
};
use url::Url;

use crate::server::WiringError;

/// An issuer URL that would fetch signing keys in clear is refused (https, or http on
/// loopback only).
fn authority_url(url: Option<Url>, name: &str) -> Result<Option<Url>, WiringError> {
    if let Some(u) = &url {
        check_authority(u).map_err(|e| WiringError::new(name, e))?;
    }
    Ok(url)
}

/// Not in DES's names table: the Entra authority the service signs in to Dataverse at with
/// an organization's client secret: a cloud name (`public`, the default; `usgov`; `china`) or
/// a URL (https; http only on loopback).
pub const ENTRA_AUTHORITY_SETTING: &str = "DES_ENTRA_AUTHORITY";
pub const DEFAULT_ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Not in DES's names table (the portal is new): the admin portal's Entra app registration
/// (a single-page app) and the delegated scope it asks for (default
/// `<first DES_API_AUDIENCE>/user_impersonation`).
pub const PORTAL_CLIENT_ID_SETTING: &str = "DES_PORTAL_CLIENT_ID";
pub const PORTAL_SCOPE_SETTING: &str = "DES_PORTAL_SCOPE";

/// Plain settings; every one has a default except those only the API needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long one timer invocation of the poller may read.
    pub poll_budget: Duration,
    /// The host's `maxDequeueCount`: the try that, failing, poisons the message.
    pub max_dequeue_count: u32,
    /// The vault that bare secret names (no `https://`, `local:` or `env:`) live in.
    pub keyvault_url: Option<Url>,
    /// Issuer of the API's bearer tokens (`https://login.microsoftonline.com/<tenant>/v2.0`).
    pub api_authority: Option<Url>,
    /// The API's app id URI or client id (the tokens' `aud`).
    pub api_audience: Option<String>,
    /// The delegated permission user tokens must carry (`DES_API_SCOPE`).
    pub api_scope: Option<String>,
    /// App roles admitting app-only tokens (`DES_API_APP_ROLES`, comma-separated).
    pub api_app_roles: Vec<String>,
    /// Where clients reach the API (`ConnectorUrl`).
    pub public_base_url: Option<Url>,
    pub entra_authority: Url,
    /// The admin portal's client id; without it the portal says what to configure.
    pub portal_client_id: Option<String>,
    pub portal_scope: Option<String>,
}

impl Settings {
    /// From the process environment, where the host puts app settings.
    pub fn from_env() -> Result<Self, WiringError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, WiringError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let url = |name: &str| {
            get(name)
                .map(|v| Url::parse(v.trim()).map_err(|e| WiringError::new(name, e)))
                .transpose()
        };
        let number = |name: &str, default: u64| match get(name) {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| WiringError(format!("{name} must be a whole number, not {v:?}"))),
            None => Ok(default),
        };
        let max_dequeue = number(
            MAX_DEQUEUE_COUNT_SETTING,
            u64::from(DEFAULT_MAX_DEQUEUE_COUNT),
        )?;
        Ok(Self {
            poll_budget: Duration::from_secs(
                number(POLL_BUDGET_SETTING, DEFAULT_POLL_BUDGET_SECONDS)?.max(1),
            ),
            max_dequeue_count: u32::try_from(max_dequeue.max(1)).unwrap_or(u32::MAX),
            keyvault_url: url(KEYVAULT_URL_SETTING)?,
            api_authority: authority_url(url(API_AUTHORITY_SETTING)?, API_AUTHORITY_SETTING)?,
            api_audience: get(API_AUDIENCE_SETTING),
            api_scope: get(API_SCOPE_SETTING).map(|s| s.trim().to_owned()),
            api_app_roles: get(API_APP_ROLES_SETTING)
                .map(|v| v.split(',').map(|r| r.trim().to_owned()).collect())
                .unwrap_or_default(),
            public_base_url: url(PUBLIC_BASE_URL_SETTING)?,
            entra_authority: parse_authority(
                get(ENTRA_AUTHORITY_SETTING)
                    .as_deref()
                    .unwrap_or(DEFAULT_ENTRA_AUTHORITY),
            )
            .map_err(|e| WiringError::new(ENTRA_AUTHORITY_SETTING, e))?,
            portal_client_id: get(PORTAL_CLIENT_ID_SETTING).map(|v| v.trim().to_owned()),
            portal_scope: get(PORTAL_SCOPE_SETTING).map(|v| v.trim().to_owned()),
        })
    }

    /// A setting the API cannot run without.
    pub fn required<'a, T>(value: &'a Option<T>, name: &str) -> Result<&'a T, WiringError> {
        value
            .as_ref()
            .ok_or_else(|| WiringError(format!("the setting {name} is required")))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, WiringError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_names_table() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.poll_budget, Duration::from_secs(50));
        assert_eq!(s.max_dequeue_count, 5);
        assert!(s.keyvault_url.is_none() && s.api_authority.is_none());
        assert_eq!(
            s.entra_authority.as_str(),
            "https://login.microsoftonline.com/"
        );
    }

    #[test]
    fn values_are_read_and_bad_ones_named() {
        let s = settings(&[
            ("DES_POLL_BUDGET_SECONDS", "7"),
            ("DES_MAX_DEQUEUE_COUNT", " 3 "),
            ("DES_KEYVAULT_URL", "https://kv.vault.azure.net"),
            ("DES_API_AUDIENCE", "api://des"),
            (
                "DES_PORTAL_CLIENT_ID",
                " 0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0 ",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.portal_client_id.as_deref(),
            Some("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")
        );
        assert!(s.portal_scope.is_none());
        assert_eq!(s.poll_budget, Duration::from_secs(7));
        assert_eq!(s.max_dequeue_count, 3);
        assert_eq!(s.api_audience.as_deref(), Some("api://des"));
        let error = settings(&[("DES_MAX_DEQUEUE_COUNT", "many")]).unwrap_err();
        assert!(error.0.contains("DES_MAX_DEQUEUE_COUNT"), "{error}");
        let error = settings(&[("DES_PUBLIC_BASE_URL", "not a url")]).unwrap_err();
        assert!(error.0.contains("DES_PUBLIC_BASE_URL"), "{error}");
    }

    #[test]
    fn authorities_are_clouds_by_name_or_safe_urls() {
        let s = settings(&[("DES_ENTRA_AUTHORITY", "usgov")]).unwrap();
        assert_eq!(
            s.entra_authority.as_str(),
            "https://login.microsoftonline.us/"
        );
        let s = settings(&[("DES_ENTRA_AUTHORITY", "http://127.0.0.1:8089")]).unwrap();
        assert_eq!(s.entra_authority.as_str(), "http://127.0.0.1:8089/");
        for (name, value) in [
            ("DES_ENTRA_AUTHORITY", "http://login.example.com"),
            ("DES_API_AUTHORITY", "http://login.example.com/t/v2.0"),
        ] {
            let error = settings(&[(name, value)]).unwrap_err();
            assert!(
                error.0.contains(name) && error.0.contains("https"),
                "{error}"
            );
        }
    }
}
