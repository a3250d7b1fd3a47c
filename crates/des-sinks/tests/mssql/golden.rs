//! The exact text of every statement kind the SQL Server sink generates, compared with the
//! reviewed files in `tests/mssql/golden/`. `UPDATE_GOLDEN=1` rewrites them; review the diff.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::statements::all;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mssql/golden")
}

/// Each group as one file: a `-- kind` line, the statement, and `GO` between statements.
fn rendered() -> BTreeMap<&'static str, String> {
    let mut files: BTreeMap<&'static str, String> = BTreeMap::new();
    for statement in all() {
        let file = files.entry(statement.group).or_default();
        file.push_str(&format!("-- {}\n{}\nGO\n", statement.kind, statement.text));
    }
    files
}

/// Compares `text` with `golden/<name>.sql`, or rewrites the file under `UPDATE_GOLDEN`;
/// `Err` names a stale file.
pub fn check(name: &str, text: &str) -> Result<(), String> {
    let path = golden_dir().join(format!("{name}.sql"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).expect("writes golden file");
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected == text {
        Ok(())
    } else {
        Err(format!(
            "{} differs (run with UPDATE_GOLDEN=1 and review):\n{text}",
            path.display()
        ))
    }
}

#[test]
fn every_statement_matches_its_golden_file() {
    let stale: Vec<String> = rendered()
        .into_iter()
        .filter_map(|(group, text)| check(group, &text).err())
        .collect();
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn account_ddl_is_des_own() {
    let ddl = rendered().remove("ddl").expect("ddl group");
    for expected in [
        "CREATE TABLE [dbo].[crm_account] (\n    [Id] uniqueidentifier NOT NULL,\n    [SinkCreatedOn] datetime NULL,\n    [SinkModifiedOn] datetime NULL,",
        "[exchangerate] decimal(38,10) NULL",
        "[address1_latitude] decimal(38,5) NULL",
        "[revenue] decimal(38,2) NULL",
        "[revenue_base] decimal(38,4) NULL",
        "[description] nvarchar(max) NULL",
        "[ownerid_entitytype] nvarchar(128) NULL",
        "[owneridtype] nvarchar(4000) NULL",
        "[owneridname] nvarchar(100) NULL",
        "[owneridyominame] nvarchar(100) NULL",
        "[donotemail] bit NULL",
        "CONSTRAINT [EPK[dbo]].[crm_account]]] PRIMARY KEY CLUSTERED ([Id])",
        "[Id] bigint IDENTITY(1,1) NOT NULL",
    ] {
        assert!(ddl.contains(expected), "missing {expected:?} in\n{ddl}");
    }
}

/// The labeled view of the report tests' account (state, choice and multi-select labels), as
/// SQL Server gets it: no server here, so its text is held to a reviewed file.
#[test]
fn labeled_view_matches_its_golden_file() {
    let ddl = des_sinks::render_ddl(
        &crate::reports::report_plan(false),
        des_sinks::Dialect::TSql,
    );
    let views: Vec<String> = ddl
        .into_iter()
        .filter(|s| s.starts_with("CREATE OR ALTER VIEW"))
        .collect();
    assert_eq!(views.len(), 1, "one entity, one view");
    check("labeled_view", &format!("{}\nGO\n", views[0])).unwrap_or_else(|e| panic!("{e}"));
}
