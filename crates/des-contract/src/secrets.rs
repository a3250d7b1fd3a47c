//! The [`Secrets`] contract: a known reference resolves, an unknown one is `NotFound` naming
//! only the reference, and a malformed one is `BadReference`.

use std::future::Future;

use des_core::ports::{SecretError, Secrets};

use crate::case::run_cases;

/// A store set up by the adapter's test with one known secret, plus references to try.
/// References differ by store (`local:<name>`, a Key Vault secret URL), so the caller names
/// them.
#[derive(Debug)]
pub struct SecretsFixture<T> {
    pub secrets: T,
    /// A reference the store resolves to `known_value`.
    pub known_reference: String,
    pub known_value: String,
    /// A well-formed reference to a secret that does not exist.
    pub missing_reference: String,
    /// A reference this store cannot parse.
    pub malformed_reference: String,
}

/// Runs every secrets case; `make` returns a freshly set-up fixture for each.
pub async fn run_all<F, Fut, T>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = SecretsFixture<T>>,
    T: Secrets + 'static,
{
    run_cases!(
        "Secrets",
        make,
        [
            resolves_a_known_reference,
            unknown_reference_is_not_found,
            malformed_reference_is_bad_reference,
        ]
    );
}

/// The known reference resolves to its value, which its `Debug` form does not show.
pub async fn resolves_a_known_reference<T: Secrets>(fixture: SecretsFixture<T>) {
    let secret = fixture
        .secrets
        .get(&fixture.known_reference)
        .await
        .expect("known secret");
    assert!(
        secret.expose() == fixture.known_value,
        "resolved to another value"
    );
    assert!(
        !format!("{secret:?}").contains(&fixture.known_value),
        "Debug shows the value"
    );
}

/// A missing secret is `NotFound` naming the reference, and no error text holds a value.
pub async fn unknown_reference_is_not_found<T: Secrets>(fixture: SecretsFixture<T>) {
    let result = fixture.secrets.get(&fixture.missing_reference).await;
    match &result {
        Err(SecretError::NotFound(reference)) => assert_eq!(reference, &fixture.missing_reference),
        Err(other) => panic!("expected NotFound, got {other}"),
        Ok(_) => panic!("a missing secret resolved"),
    }
    let text = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains(&fixture.missing_reference),
        "the error names the reference"
    );
    assert!(
        !text.contains(&fixture.known_value),
        "the error shows a secret value"
    );
}

/// A reference in no form the store knows is `BadReference` naming it.
pub async fn malformed_reference_is_bad_reference<T: Secrets>(fixture: SecretsFixture<T>) {
    match fixture.secrets.get(&fixture.malformed_reference).await {
        Err(SecretError::BadReference(reference)) => {
            assert_eq!(reference, fixture.malformed_reference);
        }
        Err(other) => panic!("expected BadReference, got {other}"),
        Ok(_) => panic!("a malformed reference resolved"),
    }
}
