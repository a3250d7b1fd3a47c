//! DES's `test` operation: the permissions DES required on the target database, each checked
//! with `HAS_PERMS_BY_NAME` and reported one by one.
//!
//! Database level: CREATE TABLE, CREATE TYPE, CREATE VIEW, CREATE PROCEDURE, ALTER ANY USER
//! and VIEW DATABASE STATE; schema level: ALTER, INSERT, DELETE, UPDATE, SELECT, EXECUTE and
//! REFERENCES (`des-original.md` §2.7). This sink itself needs only CREATE TABLE and the
//! schema permissions, but the check keeps DES's full list so a database prepared for DES
//! passes, and one that would not have passed DES's test does not pass ours. The engine's
//! own state schema (`des_state`) is checked after DES's list.

use des_core::ports::{PermissionCheck, SinkError};
use des_core::schema::SchemaPlan;

use super::client::{Connection, db_error};
use super::state::STATE_SCHEMA;

/// `(permission, securable class)`; database permissions have no securable.
pub const DES_PERMISSIONS: [(&str, Option<&str>); 13] = [
    ("CREATE TABLE", None),
    ("CREATE TYPE", None),
    ("CREATE VIEW", None),
    ("CREATE PROCEDURE", None),
    ("ALTER ANY USER", None),
    ("VIEW DATABASE STATE", None),
    ("ALTER", Some("SCHEMA")),
    ("INSERT", Some("SCHEMA")),
    ("DELETE", Some("SCHEMA")),
    ("UPDATE", Some("SCHEMA")),
    ("SELECT", Some("SCHEMA")),
    ("EXECUTE", Some("SCHEMA")),
    ("REFERENCES", Some("SCHEMA")),
];

/// One row per permission: its name and `HAS_PERMS_BY_NAME` (1, 0, or NULL for a schema
/// that does not exist yet); `@P1` is the schema, `@P2` the engine's state schema. When a
/// schema is missing, its creator (who needs CREATE SCHEMA) will own it.
pub fn permission_query() -> String {
    let rows: Vec<String> = DES_PERMISSIONS
        .iter()
        .map(|(permission, class)| {
            let check = match class {
                Some(class) => format!(
                    "COALESCE(HAS_PERMS_BY_NAME(@P1, N'{class}', N'{permission}'), {})",
                    on_database("CREATE SCHEMA")
                ),
                None => on_database(permission),
            };
            let name = match class {
                Some(class) => format!("{permission} ON {class}"),
                None => (*permission).to_owned(),
            };
            format!("(N'{name}', {check})")
        })
        .collect();
    let rows: Vec<String> = rows.into_iter().chain(state_rows()).collect();
    format!(
        "SELECT p.[Permission], p.[Granted], SCHEMA_ID(@P1) AS [SchemaId] FROM (VALUES {}) AS p ([Permission], [Granted])",
        rows.join(", ")
    )
}

/// What the engine's own state schema needs beyond DES's list: the data permissions on
/// [`STATE_SCHEMA`] (`@P2`), or CREATE SCHEMA while it is missing (its creator will own it).
fn state_rows() -> impl Iterator<Item = String> {
    ["ALTER", "INSERT", "DELETE", "UPDATE", "SELECT"].map(|permission| {
        format!(
            "(N'{permission} ON SCHEMA {STATE_SCHEMA}', COALESCE(HAS_PERMS_BY_NAME(@P2, N'SCHEMA', N'{permission}'), {}))",
            on_database("CREATE SCHEMA")
        )
    }).into_iter()
}

/// A database permission: the securable is the current database (with no securable at all,
/// `HAS_PERMS_BY_NAME` would check a server permission).
fn on_database(permission: &str) -> String {
    format!("HAS_PERMS_BY_NAME(DB_NAME(), N'DATABASE', N'{permission}')")
}

pub(super) async fn check_all(
    conn: &mut Connection,
    plan: &SchemaPlan,
) -> Result<Vec<PermissionCheck>, SinkError> {
    let rows = conn
        .query(permission_query(), &[&plan.schema.as_str(), &STATE_SCHEMA])
        .await
        .map_err(db_error)?
        .into_first_result()
        .await
        .map_err(db_error)?;
    let check = |row: &tiberius::Row| {
        let permission = row.get::<&str, _>(0).unwrap_or_default().to_owned();
        let granted = row.get::<i32, _>(1) == Some(1);
        let missing_schema = row.get::<i32, _>(2).is_none() && permission.ends_with(" ON SCHEMA");
        let detail = missing_schema.then(|| {
            format!(
                "schema {} does not exist yet; granted means CREATE SCHEMA is",
                plan.schema
            )
        });
        PermissionCheck {
            permission,
            granted,
            detail,
        }
    };
    Ok(rows.iter().map(check).collect())
}
