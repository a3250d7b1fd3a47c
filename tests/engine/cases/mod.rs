mod dropped;
mod identity;
mod lifecycle;
mod lookups;
mod monitor;
mod refusal;
mod requests;
mod restore;
mod resync;
mod shared_tables;
mod steps;
mod sync;

use std::time::Duration;

use des_core::sync::EntityCursor;

use des_engine::Mode;

use des_tests::harness::{Harness, Options};

pub const CONVERGE: Duration = Duration::from_secs(30);

/// Fifteen accounts replicated in full, the runtime stopped: the start of the resync and
/// restore cases, which then change the world while nothing runs.
pub async fn synced_accounts() -> Harness {
    let options = Options {
        records: 15,
        entities: vec!["account".into()],
        ..Options::default()
    };
    let harness = Harness::start(options).await;
    harness.activate(Mode::All).await;
    let runtime = harness.run();
    harness.converged(CONVERGE).await.expect("initial sync");
    runtime.shutdown().await;
    harness
}

pub async fn cursor(harness: &Harness, entity: &str) -> EntityCursor {
    let control = &harness.ports.control;
    control
        .cursor(harness.profile.id, entity)
        .await
        .unwrap()
        .expect("cursor exists")
        .value
}

pub fn count(harness: &Harness, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(harness.target_db()).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

pub fn table_exists(harness: &Harness, name: &str) -> bool {
    let sql =
        format!("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{name}'");
    count(harness, &sql) == 1
}

pub fn name_field(entity: &str, value: &str) -> serde_json::Map<String, serde_json::Value> {
    let attr = if entity == "contact" {
        "lastname"
    } else {
        "name"
    };
    let mut fields = serde_json::Map::new();
    fields.insert(attr.into(), serde_json::Value::String(value.into()));
    fields
}

pub fn ids(harness: &Harness, entity: &str) -> Vec<uuid::Uuid> {
    let key = format!("{entity}id");
    let rows = harness.emulator.control().rows(entity);
    rows.iter()
        .filter_map(|r| r.get(&key)?.as_str()?.parse().ok())
        .collect()
}
