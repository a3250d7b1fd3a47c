//! Tokens that passed every check, remembered by their exact text until their `exp`, so a
//! client that sends the same token again costs a map lookup instead of a signature
//! verification and a claims parse (most of an authenticated read's own work).
//!
//! The answer of [`Authenticator::authenticate`](super::Authenticator::authenticate) depends
//! only on the token's bytes, the clock, the issuer's keys and settings that never change, so
//! a remembered acceptance is exactly what a fresh check would say, with two guards:
//!
//! - it is used only until the token's `exp` (a fresh check would allow the leeway beyond);
//! - it belongs to the key set it was verified under: a JWKS fetch (a rollover, a withdrawn
//!   key, a new discovered issuer) forgets every acceptance made before it.
//!
//! Refusals are never remembered, so nothing an attacker sends without a valid token enters
//! the map, and it holds at most [`CAPACITY`] tokens.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::Caller;

/// The most tokens remembered (each is a few KiB at most).
pub const CAPACITY: usize = 4096;

struct Accepted {
    caller: Caller,
    /// The token's `exp`, in seconds since the Unix epoch.
    expires: u64,
    /// The key set's generation it was verified under.
    keys: u64,
}

#[derive(Default)]
pub struct AcceptedTokens {
    tokens: RwLock<HashMap<Box<str>, Accepted>>,
}

impl AcceptedTokens {
    /// The caller of `token` if it was accepted under key set `keys` and has not expired.
    pub fn get(&self, token: &str, keys: u64, now: u64) -> Option<Caller> {
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        let accepted = tokens.get(token)?;
        (accepted.keys == keys && now < accepted.expires).then(|| accepted.caller.clone())
    }

    /// Remembers an accepted `token` until `expires`.
    pub fn put(&self, token: &str, caller: Caller, expires: u64, keys: u64, now: u64) {
        let mut tokens = self.tokens.write().unwrap_or_else(PoisonError::into_inner);
        if tokens.len() >= CAPACITY {
            tokens.retain(|_, a| a.keys == keys && now < a.expires);
        }
        // Still full of live tokens: start over rather than grow.
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        let accepted = Accepted {
            caller,
            expires,
            keys,
        };
        tokens.insert(token.into(), accepted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn caller() -> Caller {
        Caller {
            object_id: Uuid::new_v4(),
            app_only: false,
        }
    }

    #[test]
    fn a_token_is_remembered_until_its_expiry_under_its_key_set() {
        let accepted = AcceptedTokens::default();
        let who = caller();
        accepted.put("t", who.clone(), 100, 1, 10);
        assert_eq!(accepted.get("t", 1, 99), Some(who));
        assert_eq!(accepted.get("t", 1, 100), None, "expired");
        assert_eq!(accepted.get("t", 2, 50), None, "keys fetched since");
        assert_eq!(accepted.get("t2", 1, 50), None, "another token");
        assert_eq!(accepted.get("", 1, 50), None);
    }

    #[test]
    fn it_never_holds_more_than_its_capacity() {
        let accepted = AcceptedTokens::default();
        for n in 0..CAPACITY * 2 + 3 {
            accepted.put(&n.to_string(), caller(), 100, 1, 10);
        }
        let held = accepted.tokens.read().expect("lock").len();
        assert!(held <= CAPACITY, "{held}");
        assert!(
            accepted
                .get(&(CAPACITY * 2 + 2).to_string(), 1, 10)
                .is_some()
        );
    }
}
