//! Error, token and WhoAmI bodies.

use dataverse::token::parse_token_response;
use dataverse::{ServiceErrorBody, TokenErrorBody, WhoAmI};
use des_core::ports::SourceError;

use super::{guid, sample};

#[test]
fn dataverse_error_bodies() {
    let cases = [
        (
            "error-404-not-found.json",
            "",
            "account With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist",
        ),
        (
            "error-412-duplicate.json",
            "",
            "A record with matching key values already exists.",
        ),
        (
            "error-412-rowversion.json",
            "",
            "The version of the existing record doesn't match the RowVersion property provided.",
        ),
        (
            "error-plugin-annotations.json",
            "0x80040265",
            "Example Error Message.",
        ),
        (
            "synthesized-error-429-request-count.json",
            "0x80072322",
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        ),
    ];
    for (name, code, message) in cases {
        let error = ServiceErrorBody::parse(&sample(name)).expect(name);
        assert_eq!(
            (error.code.as_str(), error.message.as_str()),
            (code, message),
            "{name}"
        );
        assert!(!error.is_expired_token(), "{name}");
    }
    let template = ServiceErrorBody::parse(&sample("error-format.json")).expect("template");
    assert!(template.code.starts_with("<This code"));
}

#[test]
fn expired_change_token_is_recognised() {
    let error = ServiceErrorBody::parse(&sample("synthesized-error-expired-deltatoken.json"))
        .expect("body");
    assert_eq!(error.code, dataverse::EXPIRED_VERSION_STAMP);
    assert!(error.is_expired_token());
}

#[test]
fn plugin_error_that_is_not_json_gives_a_clear_error_and_is_salvaged() {
    let body = sample("error-plugin-annotations.raw.txt");
    match ServiceErrorBody::parse(&body) {
        Err(SourceError::Protocol(message)) => {
            assert!(message.contains("not a Dataverse error"), "{message}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    let salvaged = ServiceErrorBody::salvage(&body).expect("code and message found");
    assert_eq!(salvaged.code, "0x80040265");
    assert_eq!(salvaged.message, "Example Error Message.");
}

#[test]
fn token_bodies() {
    let token = parse_token_response(&sample("token-response.json")).expect("token");
    assert!(token.secret().expose().starts_with("eyJ0eXAi"));
    assert!(token.expires_at().is_some());
    let error = TokenErrorBody::parse(&sample("token-error.json")).expect("error body");
    assert_eq!(error.error, "invalid_scope");
    assert_eq!(error.error_codes, vec![70011]);
    assert!(error.summary().starts_with("invalid_scope: AADSTS70011:"));
    assert!(!error.summary().contains("Trace ID"), "only the first line");
}

#[test]
fn who_am_i_body() {
    let me = WhoAmI::parse(&sample("whoami.json")).expect("whoami");
    assert_eq!(me.user_id, guid("d96e9f55-f06d-e511-80d0-00155db07cb1"));
    assert_eq!(
        me.business_unit_id,
        guid("ded5a64f-f06d-e511-80d0-00155db07cb1")
    );
    assert_eq!(
        me.organization_id,
        guid("4faf1f34-f06d-e511-80d0-00155db07cb1")
    );
}
