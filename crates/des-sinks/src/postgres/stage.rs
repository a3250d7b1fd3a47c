//! The session's staging tables: one per column layout, created once per connection, emptied
//! by PostgreSQL at every commit, and at most [`MAX`] per session.
//!
//! Why `ON COMMIT DELETE ROWS` and not a truncate or delete on use: `TRUNCATE` of a table made
//! in an earlier transaction gives it a new file and so updates its `pg_class` row (a catalog
//! write per batch again), and `DELETE` leaves dead rows that nothing vacuums in a temporary
//! table. The commit-time empty truncates in place and writes no catalog row. A batch that
//! rolls back leaves only rows of an aborted transaction, which no later one sees; the next
//! commit empties them too. The table is created outside any transaction, so a rollback never
//! undoes a table the session counts on.
//!
//! Why a bound: at every commit that touched a temporary table PostgreSQL empties *every*
//! `ON COMMIT DELETE ROWS` table of the session, used or not, with its TOAST table and TOAST
//! index (a stage always has text columns, so always has them). Measured on a test cluster,
//! about 0.2 ms per table: a session that had staged for 50 layouts paid about 10 ms on each
//! commit, five times a small batch's whole cost. So a session keeps the [`MAX`] most recently
//! used stages and drops the oldest to make room (a catalog write, but only when a connection
//! serves more layouts than that; the pool sends a layout to the connection that has it).

use des_core::ports::SinkError;

use super::client::{Pooled, db_error};
use super::rows::Layout;
use super::sql;

/// Staging tables one session keeps at most.
pub(super) const MAX: usize = 4;

/// A session's staging table names, least recently used first.
#[derive(Debug, Default)]
pub(super) struct Stages(Vec<String>);

impl Stages {
    pub(super) fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }

    /// Marks `name` as just used; false when the session does not have it.
    fn touch(&mut self, name: &str) -> bool {
        let Some(at) = self.0.iter().position(|n| n == name) else {
            return false;
        };
        let name = self.0.remove(at);
        self.0.push(name);
        true
    }

    /// The table to drop before another is created: the least recently used, when full.
    fn victim(&self) -> Option<&str> {
        (self.0.len() >= MAX).then(|| self.0[0].as_str())
    }

    /// Records `name` created, and the victim (if any) dropped, by one committed statement.
    fn record(&mut self, name: String) {
        if self.victim().is_some() {
            self.0.remove(0);
        }
        self.0.push(name);
    }
}

/// Makes sure the session has the staging table of `layout`, outside any transaction. The
/// drop of the victim and the create run as one implicit transaction: both or neither.
pub(super) async fn ensure(client: &mut Pooled<'_>, layout: &Layout<'_>) -> Result<(), SinkError> {
    let name = layout.stage_name();
    if client.stages_mut().touch(&name) {
        return Ok(());
    }
    let create = sql::create_stage(&name, &layout.stage_columns());
    let statement = match client.stages().victim() {
        Some(victim) => format!("{}; {create}", sql::drop_stage(victim)),
        None => create,
    };
    client.batch_execute(&statement).await.map_err(db_error)?;
    client.stages_mut().record(name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(stages: &Stages) -> Vec<&str> {
        stages.0.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_full_session_gives_up_its_least_recently_used_stage() {
        let mut stages = Stages::default();
        for n in 0..MAX {
            assert_eq!(stages.victim(), None, "room for {n}");
            stages.record(format!("s{n}"));
        }
        assert!(stages.touch("s0"), "s0 is used again");
        assert!(!stages.touch("new"));
        assert_eq!(stages.victim(), Some("s1"));
        stages.record("new".into());
        let mut want: Vec<String> = (2..MAX).map(|n| format!("s{n}")).collect();
        want.extend(["s0".into(), "new".into()]);
        assert_eq!(names(&stages), want);
        assert!(!stages.contains("s1") && stages.contains("new"));
    }
}
