//! `check_permissions` against real grants.

use des_contract::sink::account_plan;
use des_core::ports::{PermissionCheck, Sink};
use des_sinks::postgres::PostgresSink;
use uuid::Uuid;

use super::target::{fresh, server};

const EXPECTED: [&str; 12] = [
    "CREATE ON DATABASE",
    "USAGE ON SCHEMA",
    "CREATE ON SCHEMA",
    "CREATE ON DATABASE (des_state)",
    "USAGE ON SCHEMA (des_state)",
    "CREATE ON SCHEMA (des_state)",
    "ALTER",
    "INSERT",
    "UPDATE",
    "DELETE",
    "SELECT",
    "REFERENCES",
];

fn granted(checks: &[PermissionCheck]) -> Vec<(&str, bool)> {
    checks
        .iter()
        .map(|c| (c.permission.as_str(), c.granted))
        .collect()
}

#[tokio::test]
async fn owner_has_every_permission_one_by_one() {
    let Some(url) = server() else { return };
    let (sink, _db) = fresh(&url).await;
    let plan = account_plan(160, 2, false);
    let before = sink.check_permissions(&plan).await.expect("checks run");
    assert_eq!(granted(&before), EXPECTED.map(|p| (p, true)));
    sink.apply_schema(&plan).await.expect("schema applies");
    let after = sink.check_permissions(&plan).await.expect("checks run");
    assert_eq!(granted(&after), EXPECTED.map(|p| (p, true)));
}

#[tokio::test]
async fn a_read_only_role_is_told_what_it_lacks() {
    let Some(url) = server() else { return };
    let (sink, db) = fresh(&url).await;
    let plan = account_plan(160, 2, false);
    sink.apply_schema(&plan).await.expect("schema applies");
    let role = format!("des_reader_{}", Uuid::new_v4().simple());
    let grants = format!(
        "CREATE ROLE {role} LOGIN; GRANT USAGE ON SCHEMA dbo TO {role}; \
         GRANT SELECT ON ALL TABLES IN SCHEMA dbo TO {role}"
    );
    db.client
        .batch_execute(&grants)
        .await
        .expect("role created");
    let reader = PostgresSink::connect(&db.config.clone().with_user(&role))
        .await
        .expect("connects");
    let checks = reader.check_permissions(&plan).await.expect("checks run");
    let expected = EXPECTED.map(|p| {
        (
            p,
            // The state schema exists (the owner applied the plan) but is not the reader's.
            matches!(
                p,
                "CREATE ON DATABASE"
                    | "USAGE ON SCHEMA"
                    | "CREATE ON DATABASE (des_state)"
                    | "SELECT"
            ),
        )
    });
    assert_eq!(granted(&checks), expected);
    let insert = checks
        .iter()
        .find(|c| c.permission == "INSERT")
        .expect("INSERT checked");
    let detail = insert.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("\"dbo\".\"des_account\""), "{detail}");
}
