//! [`ControlStore::progress`](des_core::ports::ControlStore::progress) for SQLite: every
//! cursor and every counter row of some profiles (or all) in one call on the connection, two
//! statements, merged by (profile, entity). One profile is named by its id, several by one JSON
//! array parameter, so a page of fifty costs two statements as one profile does.

use des_core::ports::{StoreError, StreamProgress};
use des_core::sync::EntityCursor;
use rusqlite::params_from_iter;
use uuid::Uuid;

use super::stats::{self, StoredStats};
use super::{cursor_key, from_doc};
use crate::database::Database;

const CURSORS_ALL: &str = r#"SELECT "profile_id", "entity", "doc" FROM "cursors""#;
// Each through the key's index: an `?1 IS NULL OR ...` form of one statement scans every
// row, and the JSON list costs a temporary table that one profile (a read) does not need.
const CURSORS_ONE: &str = r#"SELECT "profile_id", "entity", "doc" FROM "cursors"
    WHERE "profile_id" = ?1"#;
const CURSORS_OF: &str = r#"SELECT "profile_id", "entity", "doc" FROM "cursors"
    WHERE "profile_id" IN (SELECT "value" FROM json_each(?1))"#;

type Rows = (
    Vec<(String, String, String)>,
    Vec<(String, String, StoredStats)>,
);

/// The streams of `profile_ids`, or of every profile (`None`).
pub(super) async fn read(
    db: &Database,
    profile_ids: Option<&[Uuid]>,
) -> Result<Vec<StreamProgress>, StoreError> {
    let (cursors_sql, stats_sql, params) = statements(profile_ids);
    let (cursors, counters): Rows = db
        .read(move |conn| {
            let mut stmt = conn.prepare_cached(cursors_sql)?;
            let cursors = stmt
                .query_map(params_from_iter(&params), |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut stmt = conn.prepare_cached(stats_sql)?;
            let counters = stmt
                .query_map(params_from_iter(&params), |row| {
                    Ok((row.get(8)?, row.get(9)?, stats::stored_stats(row)?))
                })?
                .collect::<Result<_, _>>()?;
            Ok((cursors, counters))
        })
        .await?;
    let mut read_cursors = Vec::with_capacity(cursors.len());
    for (profile, entity, doc) in cursors {
        let profile_id = parse_id(&profile)?;
        read_cursors.push(from_doc::<EntityCursor>(
            &doc,
            &cursor_key(profile_id, &entity),
        )?);
    }
    let mut read_counters = Vec::with_capacity(counters.len());
    for (profile, entity, stored) in counters {
        let profile_id = parse_id(&profile)?;
        let counted = stored.parse(profile_id, &entity)?;
        read_counters.push((profile_id, entity, counted));
    }
    Ok(StreamProgress::merge(read_cursors, read_counters))
}

/// The two statements for `profile_ids` and their parameters.
fn statements(profile_ids: Option<&[Uuid]>) -> (&'static str, &'static str, Vec<String>) {
    match profile_ids {
        None => (CURSORS_ALL, stats::SELECT_ALL, Vec::new()),
        Some([one]) => (CURSORS_ONE, stats::SELECT_ONE, vec![one.to_string()]),
        Some(ids) => {
            let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
            let list = serde_json::Value::from(ids).to_string();
            (CURSORS_OF, stats::SELECT_OF, vec![list])
        }
    }
}

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt {
        key: format!("profile id {text}"),
        reason: "not a GUID".to_owned(),
    })
}
