//! [`ControlStore::progress`](des_core::ports::ControlStore::progress) for SQLite: every
//! cursor and every counter row of some profiles (or all) in one call on the connection, two
//! statements, merged by (profile, entity). The profiles come as one JSON array parameter so
//! a page of fifty costs the same two statements as one profile.

use des_core::ports::{StoreError, StreamProgress};
use des_core::sync::EntityCursor;
use uuid::Uuid;

use super::stats::{self, StoredStats};
use super::{cursor_key, from_doc};
use crate::database::Database;

const CURSORS: &str = r#"SELECT "profile_id", "entity", "doc" FROM "cursors"
    WHERE ?1 IS NULL OR "profile_id" IN (SELECT "value" FROM json_each(?1))"#;

type Rows = (
    Vec<(String, String, String)>,
    Vec<(String, String, StoredStats)>,
);

/// The streams of `profile_ids`, or of every profile (`None`).
pub(super) async fn read(
    db: &Database,
    profile_ids: Option<&[Uuid]>,
) -> Result<Vec<StreamProgress>, StoreError> {
    let wanted = profile_ids.map(|ids| {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        serde_json::Value::from(ids).to_string()
    });
    let (cursors, counters): Rows = db
        .call(move |conn| {
            let mut stmt = conn.prepare_cached(CURSORS)?;
            let cursors = stmt
                .query_map([&wanted], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect::<Result<_, _>>()?;
            let mut stmt = conn.prepare_cached(stats::SELECT_MANY)?;
            let counters = stmt
                .query_map([&wanted], |row| {
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

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt {
        key: format!("profile id {text}"),
        reason: "not a GUID".to_owned(),
    })
}
