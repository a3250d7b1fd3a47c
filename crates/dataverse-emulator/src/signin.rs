//! Interactive sign-in as Entra does it for a single-page app: registered public clients with
//! their redirect URIs, the accounts a person can pick, and single-use authorization codes
//! bound to the PKCE challenge, the client and the redirect URI they were issued for.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{TOKEN_LIFETIME_SECS, now};

/// Entra's authorization codes live about ten minutes.
const CODE_LIFETIME_SECS: i64 = 600;
/// Redeemed codes remembered, so a second redemption is named as such.
const REMEMBERED_REDEEMED: usize = 1024;

/// A person who can sign in on the emulator's sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub object_id: Uuid,
    pub name: String,
    pub username: String,
}

/// What an authorization code was issued for.
#[derive(Debug, Clone)]
pub struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub challenge_method: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub account: Account,
    expires: i64,
}

/// Why a code was not redeemed; each maps to Entra's `invalid_grant` with its AADSTS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    Unknown,
    Redeemed,
    Expired,
    WrongClient,
    WrongRedirect,
    WrongVerifier,
}

impl CodeRefusal {
    /// The AADSTS code and description Entra answers with.
    pub fn describe(self) -> (u32, &'static str) {
        match self {
            CodeRefusal::Unknown => (
                9002313,
                "Invalid request. Request is malformed or invalid: the code is not valid.",
            ),
            CodeRefusal::Redeemed => (54005, "OAuth2 Authorization code was already redeemed."),
            CodeRefusal::Expired => (70008, "The provided authorization code has expired."),
            CodeRefusal::WrongClient => (
                70002,
                "The client_id does not match the one the authorization code was issued to.",
            ),
            CodeRefusal::WrongRedirect => (
                70000,
                "The provided value for the input parameter 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
            ),
            CodeRefusal::WrongVerifier => (
                50148,
                "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
            ),
        }
    }
}

#[derive(Default)]
struct Inner {
    accounts: Vec<Account>,
    apps: HashMap<String, Vec<String>>,
    /// Confidential apps (client credentials) besides the configured one: id → secret.
    confidential: HashMap<String, String>,
    codes: HashMap<String, Grant>,
    redeemed: HashSet<String>,
    token_lifetime: Option<i64>,
}

/// The sign-in state of one emulator.
#[derive(Default)]
pub struct SignIn {
    inner: Mutex<Inner>,
}

impl SignIn {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lists `account` on the sign-in page (once per object id).
    pub fn remember(&self, account: Account) {
        let mut inner = self.lock();
        inner.accounts.retain(|a| a.object_id != account.object_id);
        inner.accounts.push(account);
    }

    pub fn accounts(&self) -> Vec<Account> {
        self.lock().accounts.clone()
    }

    pub fn account(&self, object_id: Uuid) -> Option<Account> {
        let inner = self.lock();
        inner
            .accounts
            .iter()
            .find(|a| a.object_id == object_id)
            .cloned()
    }

    /// Registers a single-page app and the redirect URIs it may use.
    pub fn register_app(&self, client_id: &str, redirect_uris: &[String]) {
        let mut inner = self.lock();
        let uris = inner.apps.entry(client_id.to_owned()).or_default();
        for uri in redirect_uris {
            if !uris.contains(uri) {
                uris.push(uri.clone());
            }
        }
    }

    /// Registers one more app that signs in with client credentials (its own app user).
    pub fn register_confidential_app(&self, client_id: &str, secret: &str) {
        let mut inner = self.lock();
        inner
            .confidential
            .insert(client_id.to_owned(), secret.to_owned());
    }

    /// The secret of a confidential app registered with [`Self::register_confidential_app`].
    pub fn confidential_secret(&self, client_id: &str) -> Option<String> {
        self.lock().confidential.get(client_id).cloned()
    }

    pub fn is_app(&self, client_id: &str) -> bool {
        self.lock().apps.contains_key(client_id)
    }

    pub fn allows_redirect(&self, client_id: &str, redirect_uri: &str) -> bool {
        self.lock()
            .apps
            .get(client_id)
            .is_some_and(|uris| uris.iter().any(|u| u == redirect_uri))
    }

    /// Lifetime of tokens issued through sign-in (tests shorten it to see sessions expire).
    pub fn set_token_lifetime(&self, seconds: Option<i64>) {
        self.lock().token_lifetime = seconds;
    }

    pub fn token_lifetime(&self) -> i64 {
        self.lock().token_lifetime.unwrap_or(TOKEN_LIFETIME_SECS)
    }

    /// A new single-use code for `grant` (its expiry is set here).
    pub fn issue(&self, mut grant: Grant) -> String {
        grant.expires = now() + CODE_LIFETIME_SECS;
        let code = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let mut inner = self.lock();
        let at = now();
        inner.codes.retain(|_, g| g.expires > at);
        inner.codes.insert(code.clone(), grant);
        code
    }

    /// Redeems `code` once; any attempt uses it up, as Entra does.
    pub fn redeem(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Grant, CodeRefusal> {
        let mut inner = self.lock();
        let Some(grant) = inner.codes.remove(code) else {
            return Err(match inner.redeemed.contains(code) {
                true => CodeRefusal::Redeemed,
                false => CodeRefusal::Unknown,
            });
        };
        if inner.redeemed.len() >= REMEMBERED_REDEEMED {
            inner.redeemed.clear();
        }
        inner.redeemed.insert(code.to_owned());
        drop(inner);
        check(&grant, client_id, redirect_uri, verifier)?;
        Ok(grant)
    }
}

fn check(
    grant: &Grant,
    client_id: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<(), CodeRefusal> {
    if grant.expires <= now() {
        return Err(CodeRefusal::Expired);
    }
    if grant.client_id != client_id {
        return Err(CodeRefusal::WrongClient);
    }
    if grant.redirect_uri != redirect_uri {
        return Err(CodeRefusal::WrongRedirect);
    }
    if !verifies(&grant.challenge, &grant.challenge_method, verifier) {
        return Err(CodeRefusal::WrongVerifier);
    }
    Ok(())
}

/// RFC 7636: `S256` is BASE64URL(SHA256(verifier)); `plain` compares as is.
pub fn verifies(challenge: &str, method: &str, verifier: &str) -> bool {
    let valid_verifier = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !valid_verifier {
        return false;
    }
    match method {
        "S256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge,
        "plain" => verifier == challenge,
        _ => false,
    }
}

impl Grant {
    pub fn new(client_id: &str, redirect_uri: &str, account: Account) -> Self {
        Self {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: String::new(),
            challenge_method: "S256".to_owned(),
            scope: String::new(),
            nonce: None,
            account,
            expires: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // RFC 7636 appendix B.
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn grant() -> Grant {
        let account = Account {
            object_id: Uuid::nil(),
            name: "A".into(),
            username: "a@x".into(),
        };
        let mut grant = Grant::new("app", "http://127.0.0.1:1/", account);
        grant.challenge = CHALLENGE.into();
        grant
    }

    #[test]
    fn s256_matches_the_rfc_example_and_nothing_else() {
        assert!(verifies(CHALLENGE, "S256", VERIFIER));
        assert!(!verifies(CHALLENGE, "S256", &VERIFIER.replace('d', "e")));
        assert!(!verifies(CHALLENGE, "S256", "short"));
        assert!(!verifies(CHALLENGE, "none", VERIFIER));
    }

    #[test]
    fn a_code_is_redeemed_once_and_only_as_issued() {
        let sign_in = SignIn::default();
        let code = sign_in.issue(grant());
        let redeemed = sign_in.redeem(&code, "app", "http://127.0.0.1:1/", VERIFIER);
        assert!(redeemed.is_ok());
        let again = sign_in.redeem(&code, "app", "http://127.0.0.1:1/", VERIFIER);
        assert_eq!(again.unwrap_err(), CodeRefusal::Redeemed);
        let code = sign_in.issue(grant());
        let wrong = sign_in.redeem(&code, "app", "http://127.0.0.1:2/", VERIFIER);
        assert_eq!(wrong.unwrap_err(), CodeRefusal::WrongRedirect);
        let code = sign_in.issue(grant());
        let wrong = sign_in.redeem(&code, "other", "http://127.0.0.1:1/", VERIFIER);
        assert_eq!(wrong.unwrap_err(), CodeRefusal::WrongClient);
        let wrong = sign_in.redeem("nope", "app", "http://127.0.0.1:1/", VERIFIER);
        assert_eq!(wrong.unwrap_err(), CodeRefusal::Unknown);
    }
}
