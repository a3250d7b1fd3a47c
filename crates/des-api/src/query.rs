//! Query parameters, matched case-insensitively: DES's clients sent both `organizationUrl`
//! and `organizationurl`.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::error::ApiError;

/// The request's query parameters, keyed by lower-cased name (the first value wins).
#[derive(Debug, Clone, Default)]
pub struct Query(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(Self::parse(parts.uri.query().unwrap_or("")))
    }
}

/// Which organization a call is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgRef {
    pub id: Option<Uuid>,
    pub url: Option<String>,
}

impl Query {
    pub fn parse(query: &str) -> Self {
        let mut map = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            map.entry(key.to_ascii_lowercase())
                .or_insert_with(|| value.into_owned());
        }
        Self(map)
    }

    /// The value of `name` (any case), if given and not blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(&name.to_ascii_lowercase())
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `true`/`false` (any case); absent is `false`.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::bad_request(format!(
                "{name}: must be true or false"
            ))),
        }
    }

    /// `organizationId` and `organizationUrl`.
    pub fn org(&self) -> Result<OrgRef, ApiError> {
        let id = match self.get("organizationId") {
            None => None,
            Some(text) => Some(text.parse::<Uuid>().map_err(|_| {
                ApiError::bad_request(format!("organizationId: '{text}' is not a GUID"))
            })?),
        };
        let url = self.get("organizationUrl").map(str::to_owned);
        Ok(OrgRef { id, url })
    }
}

/// Compares organization URLs the way users write them: scheme and host case-insensitively,
/// with or without a trailing slash.
pub fn same_url(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_in_any_case_and_values_are_decoded() {
        let q = Query::parse("organizationurl=https%3A%2F%2Forg.crm.dynamics.com&STATUS=True");
        assert_eq!(
            q.get("organizationUrl"),
            Some("https://org.crm.dynamics.com")
        );
        assert!(q.flag("status").unwrap());
        assert!(q.org().unwrap().id.is_none());
    }

    #[test]
    fn a_bad_guid_names_the_parameter() {
        let q = Query::parse("organizationId=nope");
        assert!(q.org().unwrap_err().message.starts_with("organizationId:"));
    }

    #[test]
    fn urls_compare_without_case_or_trailing_slash() {
        assert!(same_url(
            "https://Org.crm.dynamics.com/",
            "https://org.crm.dynamics.com"
        ));
        assert!(!same_url(
            "https://a.crm.dynamics.com",
            "https://b.crm.dynamics.com"
        ));
    }
}
