//! Every statement kind the SQL Server sink generates, rendered for the realistic plan,
//! grouped by the golden file that holds them.

use des_core::schema::{SchemaChange, SchemaPlan, SqlType, TableDef, diff};
use des_sinks::mssql::Layout;
use des_sinks::mssql::permissions::permission_query;
use des_sinks::mssql::schema::{alter, create_table, render_ddl, replaced_keys};
use des_sinks::mssql::sql::{self, GONE, KEYS, STAGE};
use des_sinks::mssql::state::{self, StateTables, Tombstoned};
use uuid::Uuid;

use super::fixture::{account, plan_with, realistic_plan};

/// One generated statement: its golden group, its kind and its text.
pub struct Statement {
    pub group: &'static str,
    pub kind: String,
    pub text: String,
}

fn push(out: &mut Vec<Statement>, group: &'static str, kind: &str, text: impl Into<String>) {
    out.push(Statement {
        group,
        kind: kind.to_owned(),
        text: text.into(),
    });
}

/// The attribute columns a delta batch of the account carries.
const BATCH_COLUMNS: [&str; 8] = [
    "name",
    "statecode",
    "donotemail",
    "primarycontactid",
    "revenue",
    "createdon",
    "description",
    "versionnumber",
];

fn account_table(plan: &SchemaPlan) -> &TableDef {
    plan.table_for("account").expect("account is planned")
}

fn ddl(out: &mut Vec<Statement>, plan: &SchemaPlan) {
    for (i, text) in render_ddl(plan).into_iter().enumerate() {
        let kind = match i {
            0 => "create schema if missing".to_owned(),
            _ if text.starts_with("CREATE OR ALTER VIEW") => format!("labeled view {i}"),
            _ => format!("create table if missing {i}"),
        };
        push(out, "ddl", &kind, text);
    }
}

fn schema_apply(out: &mut Vec<Statement>, plan: &SchemaPlan) {
    push(out, "schema", "schema lock", sql::schema_lock());
    push(out, "schema", "schema id", sql::select_schema_id());
    push(
        out,
        "schema",
        "create schema",
        sql::create_schema(&plan.schema),
    );
    for table in plan.tables.iter().chain(plan.delete_log.as_ref()) {
        push(
            out,
            "schema",
            &format!("create table {}", table.name),
            create_table(table),
        );
    }
    push(out, "schema", "catalog columns", sql::select_columns());
    let later = plan_with(account(300, true));
    let (old, new) = (account_table(plan), account_table(&later));
    for change in diff(old, new) {
        let kind = match change {
            SchemaChange::AddColumn(_) => "alter add",
            SchemaChange::WidenColumn { .. } => "alter column",
        };
        push(out, "schema", kind, alter(new, &change));
    }
    let options = &plan.metadata[0];
    let keys = replaced_keys(plan, options);
    let name = sql::table_name(&options.table);
    push(
        out,
        "schema",
        "metadata delete",
        sql::delete_metadata(&name, &options.replace_key, keys.len()),
    );
    let types: Vec<SqlType> = options.table.columns.iter().map(|c| c.ty).collect();
    push(
        out,
        "schema",
        "metadata stage",
        sql::create_stage(&types, false),
    );
    let names: Vec<&str> = options
        .table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    push(
        out,
        "schema",
        "metadata insert",
        sql::insert_metadata(&name, &names),
    );
}

fn batch(out: &mut Vec<Statement>, plan: &SchemaPlan) {
    let table = account_table(plan);
    let columns: Vec<String> = BATCH_COLUMNS.iter().map(|c| c.to_string()).collect();
    let layout = Layout::new(table, &columns).expect("the batch fits the table");
    let state = StateTables::for_profile(PROFILE);
    let name = sql::table_name(table);
    let log = sql::table_name(plan.delete_log.as_ref().expect("planned"));
    let steps: Vec<(&str, String)> = vec![
        ("watermark init", state.init_watermark()),
        ("watermark lock", state.lock_watermark()),
        ("keys drop", sql::drop_temp(KEYS)),
        ("keys create", sql::create_keys()),
        ("gone drop", sql::drop_temp(GONE)),
        ("gone create", sql::create_gone()),
        ("rejected existing", sql::existing_rejected(&name)),
        ("stage drop", sql::drop_temp(STAGE)),
        ("stage create", layout.create_stage()),
        ("upsert", layout.merge()),
        ("tombstones lift", state.lift_tombstones()),
        ("delete", sql::delete_rows(&name)),
        ("delete log", sql::log_gone(&log)),
        ("gone clear", sql::clear_gone()),
        (
            "tombstones put deleted",
            state.put_tombstones(Tombstoned::Deleted),
        ),
        ("resync seen", state.mark_seen()),
        ("resync sweep", state.sweep_unseen(&name)),
        (
            "tombstones put gone",
            state.put_tombstones(Tombstoned::Gone),
        ),
        ("resync forget", state.clear_seen()),
        ("watermark set", state.set_watermark()),
        ("watermark read", state.select_watermark()),
        ("retry tombstone", state.select_tombstone()),
        ("retry version", sql::select_version(&name)),
    ];
    for (kind, text) in steps {
        push(out, "batch", kind, text);
    }
}

/// The profile whose state the statements name.
const PROFILE: Uuid = Uuid::from_u128(0x00C0_FFEE);

/// The engine's state schema: its tables, the move from the old layout (state tables named
/// with the prefix in the data schema), and the identity token.
fn state(out: &mut Vec<Statement>, plan: &SchemaPlan) {
    push(
        out,
        "state",
        "state schema",
        sql::create_schema(state::STATE_SCHEMA),
    );
    for (i, ddl) in state::ddl().into_iter().enumerate() {
        push(out, "state", &format!("state table {i}"), ddl);
    }
    let migrate = state::migrate(PROFILE, &plan.schema, &plan.prefix);
    push(out, "state", "move the old layout's state", migrate);
    push(out, "state", "token read", state::select_token(PROFILE));
    push(out, "state", "token put", state::put_token(PROFILE));
}

/// Every statement, in the order the golden files list them.
pub fn all() -> Vec<Statement> {
    let plan = realistic_plan();
    let mut out = Vec::new();
    ddl(&mut out, &plan);
    schema_apply(&mut out, &plan);
    batch(&mut out, &plan);
    state(&mut out, &plan);
    push(
        &mut out,
        "permissions",
        "permission check",
        permission_query(),
    );
    out
}
