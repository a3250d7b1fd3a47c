//! The token's permission: the delegated scope for users, an operator-named app role for
//! app-only tokens (refused unless configured), and the caller still a System Administrator.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{Answer, Env, call};

fn connector(env: &Env) -> String {
    format!("/crm/exporter/metadata/connector?{}", env.org_query())
}

fn app_token(env: &Env, oid: uuid::Uuid, roles: &[&str]) -> String {
    let mut claims = env.claims(oid);
    claims.as_object_mut().expect("object").remove("scp");
    claims["idtyp"] = json!("app");
    claims["roles"] = json!(roles);
    env.sign(&claims)
}

fn assert_insufficient_scope(answer: &Answer, why: &str) {
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "{why}: {}",
        answer.text()
    );
    let challenge = answer.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .expect("ascii");
    assert!(
        challenge.contains("insufficient_scope"),
        "{why}: {challenge}"
    );
    assert!(answer.message().contains("user_impersonation"), "{why}");
}

#[tokio::test]
async fn a_user_token_needs_the_delegated_scope() {
    let env = Env::start().await;
    let mut claims = env.claims(env.users.admin);
    for scp in [
        json!("Other.Read"),
        json!("user_impersonation.x"),
        json!(""),
    ] {
        claims["scp"] = scp.clone();
        let answer = env
            .call(
                Method::GET,
                &connector(&env),
                Some(&env.sign(&claims)),
                None,
            )
            .await;
        assert_insufficient_scope(&answer, &format!("scp {scp}"));
    }
    claims["scp"] = json!("Other.Read user_impersonation");
    let answer = env
        .call(
            Method::GET,
            &connector(&env),
            Some(&env.sign(&claims)),
            None,
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "one of several scopes: {}",
        answer.text()
    );
}

#[tokio::test]
async fn app_only_tokens_are_refused_by_default_even_for_an_admin_oid() {
    let env = Env::start().await;
    for (why, token) in [
        (
            "idtyp app with a role",
            app_token(&env, env.users.admin, &["DES.Admin"]),
        ),
        ("roles and no scp", {
            let mut claims = env.claims(env.users.admin);
            claims.as_object_mut().expect("object").remove("scp");
            claims["roles"] = json!(["DES.Admin"]);
            env.sign(&claims)
        }),
    ] {
        let answer = env
            .call(Method::GET, &connector(&env), Some(&token), None)
            .await;
        assert_insufficient_scope(&answer, why);
    }
}

#[tokio::test]
async fn an_operator_can_admit_app_only_tokens_carrying_a_named_role() {
    let env = Env::start().await;
    let router = env.router_tuned(None, |auth, _| auth.app_roles = vec!["DES.Admin".into()]);
    let ask = async |token: String| {
        call(&router, Method::GET, &connector(&env), Some(&token), None).await
    };
    let admitted = ask(app_token(&env, env.users.admin, &["DES.Admin"])).await;
    assert_eq!(admitted.status, StatusCode::OK, "{}", admitted.text());
    let other_role = ask(app_token(&env, env.users.admin, &["Something.Else"])).await;
    assert_eq!(
        other_role.status,
        StatusCode::FORBIDDEN,
        "{}",
        other_role.text()
    );
    // The role admits the token; the app must still be a System Administrator.
    let not_admin = ask(app_token(&env, env.users.plain, &["DES.Admin"])).await;
    assert_eq!(
        not_admin.status,
        StatusCode::FORBIDDEN,
        "{}",
        not_admin.text()
    );
    assert!(not_admin.message().contains("not a System Administrator"));
}

#[tokio::test]
async fn the_required_scope_is_configurable() {
    let env = Env::start().await;
    let router = env.router_tuned(None, |auth, _| auth.scope = "Export.Manage".into());
    let mut claims: Value = env.claims(env.users.admin);
    let refused = call(
        &router,
        Method::GET,
        &connector(&env),
        Some(&env.sign(&claims)),
        None,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "user_impersonation no longer enough"
    );
    assert!(refused.message().contains("Export.Manage"));
    claims["scp"] = json!("Export.Manage");
    let admitted = call(
        &router,
        Method::GET,
        &connector(&env),
        Some(&env.sign(&claims)),
        None,
    )
    .await;
    assert_eq!(admitted.status, StatusCode::OK, "{}", admitted.text());
}
