//! DES's `test` operation for PostgreSQL: the DES permission set, mapped to PostgreSQL's
//! privileges and checked one by one with the `has_*_privilege` functions.
//!
//! DES asked for CREATE TABLE/TYPE/VIEW/PROCEDURE and ALTER ANY USER on the database, and
//! ALTER, INSERT, DELETE, SELECT, UPDATE, EXECUTE, REFERENCES on the schema. This sink creates
//! no types, views or procedures and manages no users, so those have no counterpart. What it
//! needs: CREATE on the database (only while the schema is missing), USAGE and CREATE on the
//! schema, ownership of existing tables (ALTER), and INSERT/UPDATE/DELETE/SELECT/REFERENCES on
//! them. Tables it has yet to create will be its own, so they grant everything. The same
//! schema checks again for the engine's own state schema (`des_state`).

use des_core::ports::{PermissionCheck, SinkError};
use des_core::schema::{SchemaPlan, TableDef};
use tokio_postgres::Client;

use super::client::db_error;
use super::sql::table_name;
use super::state::STATE_SCHEMA;

const TABLE_PRIVILEGES: [&str; 5] = ["INSERT", "UPDATE", "DELETE", "SELECT", "REFERENCES"];

fn check(permission: &str, granted: bool, detail: Option<String>) -> PermissionCheck {
    PermissionCheck {
        permission: permission.to_owned(),
        granted,
        detail,
    }
}

async fn ask(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<bool, SinkError> {
    let row = client.query_one(sql, params).await.map_err(db_error)?;
    Ok(row.get(0))
}

async fn schema_checks(client: &Client, schema: &str) -> Result<Vec<PermissionCheck>, SinkError> {
    let exists = ask(
        client,
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
        &[&schema],
    )
    .await?;
    let create_db = ask(
        client,
        "SELECT has_database_privilege(current_database(), 'CREATE')",
        &[],
    )
    .await?;
    let db_detail = match (exists, create_db) {
        (true, _) => Some(format!("schema {schema} exists; needed only to create it")),
        (false, true) => None,
        (false, false) => Some(format!("schema {schema} is missing and cannot be created")),
    };
    let mut checks = vec![check("CREATE ON DATABASE", exists || create_db, db_detail)];
    for privilege in ["USAGE", "CREATE"] {
        let granted = if exists {
            ask(
                client,
                "SELECT has_schema_privilege($1, $2)",
                &[&schema, &privilege],
            )
            .await?
        } else {
            create_db // the creator owns the new schema
        };
        checks.push(check(&format!("{privilege} ON SCHEMA"), granted, None));
    }
    Ok(checks)
}

/// The planned tables that exist and lack a privilege (`ALTER`: that the user does not own).
async fn lacking(
    client: &Client,
    tables: &[String],
    privilege: &str,
) -> Result<Vec<String>, SinkError> {
    let sql = if privilege == "ALTER" {
        "SELECT t FROM unnest($1::text[]) AS t JOIN pg_class c ON c.oid = to_regclass(t) \
         WHERE NOT pg_has_role(c.relowner, 'USAGE') AND $2 <> ''"
    } else {
        "SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL \
         AND NOT has_table_privilege(t, $2)"
    };
    let rows = client
        .query(sql, &[&tables, &privilege])
        .await
        .map_err(db_error)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(super) async fn check_all(
    client: &Client,
    plan: &SchemaPlan,
) -> Result<Vec<PermissionCheck>, SinkError> {
    let mut checks = schema_checks(client, &plan.schema).await?;
    // The engine's own state lives in its own schema, created on the first write.
    for mut state in schema_checks(client, STATE_SCHEMA).await? {
        state.permission = format!("{} ({STATE_SCHEMA})", state.permission);
        checks.push(state);
    }
    let metadata = plan.metadata.iter().map(|m| &m.table);
    let all: Vec<&TableDef> = plan
        .tables
        .iter()
        .chain(metadata)
        .chain(plan.delete_log.as_ref())
        .collect();
    let tables: Vec<String> = all.iter().map(|t| table_name(t)).collect();
    for privilege in std::iter::once("ALTER").chain(TABLE_PRIVILEGES) {
        let missing = lacking(client, &tables, privilege).await?;
        let detail = (!missing.is_empty()).then(|| format!("missing on {}", missing.join(", ")));
        checks.push(check(privilege, missing.is_empty(), detail));
    }
    Ok(checks)
}
