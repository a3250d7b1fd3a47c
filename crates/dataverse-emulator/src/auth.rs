//! Entra ID emulation: RS256 tokens signed with the committed emulator-only key, the JWKS,
//! and bearer-token checks on Web API requests.

use crate::error::EmulatorError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// Emulator-only signing key (see `src/keys/README.md`); never a secret.
const SIGNING_PEM: &str = include_str!("keys/emulator-signing.pem");
/// A key the emulator does not trust, for wrong-signature tests.
pub const FOREIGN_PEM: &str = include_str!("keys/foreign.pem");
const SIGNING_N: &str = include_str!("keys/signing.n");
pub const KID: &str = "emulator-signing-key";
pub const TOKEN_LIFETIME_SECS: i64 = 3599;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub oid: String,
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    pub ver: String,
}

/// Why a bearer token was refused; maps to the Dataverse auth-ticket error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Expired,
    Invalid,
}

pub struct Authority {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The second key, published on demand.
    pub rollover: crate::rollover::Rollover,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub tenant: String,
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Authority {
    pub fn new(base_url: &str, tenant: &str) -> Result<Authority, EmulatorError> {
        let encoding = EncodingKey::from_rsa_pem(SIGNING_PEM.as_bytes())
            .map_err(|e| EmulatorError::Key(e.to_string()))?;
        let decoding = DecodingKey::from_rsa_components(SIGNING_N.trim(), "AQAB")
            .map_err(|e| EmulatorError::Key(e.to_string()))?;
        let localhost = base_url.replace("127.0.0.1", "localhost");
        let audiences = vec![
            base_url.to_owned(),
            format!("{base_url}/"),
            localhost.clone(),
            format!("{localhost}/"),
        ];
        Ok(Authority {
            encoding,
            decoding,
            rollover: Default::default(),
            issuer: format!("{base_url}/{tenant}/v2.0"),
            audiences,
            tenant: tenant.to_owned(),
        })
    }

    /// Claims for a token issued now to `oid`.
    pub fn claims(&self, audience: &str, oid: Uuid) -> Claims {
        let iat = now();
        Claims {
            aud: audience.trim_end_matches('/').to_owned(),
            iss: self.issuer.clone(),
            iat,
            nbf: iat,
            exp: iat + TOKEN_LIFETIME_SECS,
            tid: self.tenant.clone(),
            oid: oid.to_string(),
            sub: oid.to_string(),
            appid: None,
            upn: None,
            scp: None,
            roles: None,
            ver: "2.0".to_owned(),
        }
    }

    pub fn sign<T: Serialize>(&self, claims: &T) -> String {
        match self.rollover.next() {
            Some(next) => sign_with_kid(&next.encoding, crate::rollover::NEXT_KID, claims),
            None => sign_with(&self.encoding, claims),
        }
    }

    /// Checks signature, expiry, audience and issuer.
    pub fn verify(&self, authorization: Option<&str>) -> Result<Claims, Refusal> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Missing)?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&self.audiences);
        v.set_issuer(&[&self.issuer]);
        v.leeway = 0;
        let rolled = jsonwebtoken::decode_header(token)
            .ok()
            .filter(|h| h.kid.as_deref() == Some(crate::rollover::NEXT_KID))
            .and_then(|_| self.rollover.next());
        let key = rolled.map_or(&self.decoding, |next| &next.decoding);
        jsonwebtoken::decode::<Claims>(token, key, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Refusal::Expired,
                _ => Refusal::Invalid,
            })
    }

    pub fn jwks(&self) -> Value {
        let first = json!({
            "kty": "RSA", "use": "sig", "kid": KID, "alg": "RS256",
            "n": SIGNING_N.trim(), "e": "AQAB", "issuer": self.issuer,
        });
        let keys: Vec<Value> = std::iter::once(first)
            .chain(self.rollover.jwk(&self.issuer))
            .collect();
        json!({ "keys": keys })
    }
}

pub fn sign_with<T: Serialize>(key: &EncodingKey, claims: &T) -> String {
    sign_with_kid(key, KID, claims)
}

fn sign_with_kid<T: Serialize>(key: &EncodingKey, kid: &str, claims: &T) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap_or_default()
}

/// Signs `claims` with the untrusted foreign key (tests use it for wrong-key tokens).
pub fn sign_foreign(claims: &Claims) -> String {
    match EncodingKey::from_rsa_pem(FOREIGN_PEM.as_bytes()) {
        Ok(key) => sign_with(&key, claims),
        Err(_) => String::new(),
    }
}
