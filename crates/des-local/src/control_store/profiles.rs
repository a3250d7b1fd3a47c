//! Every profile, parsed once per change. A listing of hundreds of profiles under load reads
//! one summary row instead of parsing every document again.
//!
//! The summary is the highest version and the number of rows, and any write changes it: a
//! put takes a version above every earlier one (the store-wide counter never goes back), so
//! the highest version stays where it was only if every row written since was deleted again,
//! and then a deleted row from before lowers the count. An equal summary means equal rows.

use std::sync::{Arc, Mutex, PoisonError};

use des_core::ports::{StoreError, Versioned};
use des_core::profile::Profile;

use super::versioned;
use crate::database::Database;

const SUMMARY: &str = r#"SELECT coalesce(max("version"), 0), count(*) FROM "profiles""#;
const ROWS: &str = r#"SELECT "id", "doc", "version" FROM "profiles" ORDER BY "id""#;

type Summary = (i64, i64);
type Rows = Vec<(String, String, i64)>;
type Parsed = Arc<Vec<Versioned<Profile>>>;

/// The profiles last parsed and the summary they were read under.
#[derive(Debug, Default)]
pub(super) struct ProfileCache {
    last: Mutex<Option<(Summary, Parsed)>>,
}

impl ProfileCache {
    fn get(&self, summary: Summary) -> Option<Vec<Versioned<Profile>>> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let (at, profiles) = last.as_ref()?;
        (*at == summary).then(|| profiles.as_ref().clone())
    }

    fn put(&self, summary: Summary, profiles: &[Versioned<Profile>]) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        *last = Some((summary, Arc::new(profiles.to_vec())));
    }
}

/// Every profile, ordered by id.
pub(super) async fn read(
    db: &Database,
    cache: &ProfileCache,
) -> Result<Vec<Versioned<Profile>>, StoreError> {
    let summary: Summary = db
        .read(|conn| Ok(conn.query_row(SUMMARY, [], |r| Ok((r.get(0)?, r.get(1)?)))?))
        .await?;
    if let Some(profiles) = cache.get(summary) {
        return Ok(profiles);
    }
    // The rows and their summary come from one read transaction, so they belong together
    // even while another process writes.
    let (summary, rows): (Summary, Rows) = db
        .read(|conn| {
            let tx = conn.transaction()?;
            let summary = tx.query_row(SUMMARY, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let mut stmt = tx.prepare_cached(ROWS)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let rows = rows.collect::<Result<_, _>>()?;
            drop(stmt);
            tx.commit()?;
            Ok((summary, rows))
        })
        .await?;
    let profiles = rows
        .into_iter()
        .map(|(id, doc, version)| versioned((doc, version), &format!("profile {id}")))
        .collect::<Result<Vec<_>, _>>()?;
    cache.put(summary, &profiles);
    Ok(profiles)
}
