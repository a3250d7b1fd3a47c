//! A lookup's name and type columns end to end: read by the client from the emulator's
//! annotations, queued, applied, and in the SQLite target as the source names them.

use super::synced_accounts;

const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
const LOGICAL: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";

type Names = Vec<(String, Option<String>, Option<String>, Option<String>)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_and_creator_names_reach_the_target_as_the_source_names_them() {
    let harness = synced_accounts().await;
    let source = harness.emulator.control().annotated_rows("account");
    let text = |row: &serde_json::Map<String, serde_json::Value>, key: String| {
        row.get(&key).and_then(|v| v.as_str()).map(str::to_owned)
    };
    let mut expected: Names = source
        .iter()
        .map(|r| {
            let id = r["accountid"].as_str().expect("id").to_lowercase();
            let owner = text(r, format!("_ownerid_value@{FORMATTED}"));
            let owner_type = text(r, format!("_ownerid_value@{LOGICAL}"));
            let creator = text(r, format!("_createdby_value@{FORMATTED}"));
            (id, owner, owner_type, creator)
        })
        .collect();
    expected.sort();
    assert!(
        expected.iter().all(|(_, owner, ..)| owner.is_some()),
        "every account has an owner name"
    );
    let conn = rusqlite::Connection::open(harness.target_db()).expect("target");
    let sql = "SELECT lower(\"Id\"), \"owneridname\", \"owneridtype\", \"createdbyname\" \
               FROM \"crm_account\" ORDER BY 1";
    let mut statement = conn.prepare(sql).expect("query");
    let target: Names = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows read");
    assert_eq!(target, expected);
    let yomi = "SELECT count(*) FROM \"crm_account\" WHERE \"owneridyominame\" IS NOT NULL";
    assert_eq!(
        super::count(&harness, yomi),
        0,
        "no annotation carries a yomi name"
    );
}
