//! What went wrong while a bench ran (failures, waits for the operator, repairs of the
//! target), for the report and for stderr as it happens.

use serde::Serialize;

/// What the engine reported as going wrong during the run: a clean run has nothing here.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Faults {
    /// `FailureNotifications` of every stream at the end of the run.
    pub failures: u64,
    /// Each wait for the operator seen while the bench ran, as `<entity>: <hint>`.
    pub waits: Vec<String>,
    /// What the engine repaired in the target while the bench ran (a table gone).
    pub repairs: Vec<String>,
}

impl Faults {
    /// Notes a stream's hint once; `true` when it is new.
    pub fn note_wait(&mut self, entity: &str, hint: &str) -> bool {
        let wait = format!("{entity}: {hint}");
        if self.waits.contains(&wait) {
            return false;
        }
        self.waits.push(wait);
        true
    }

    pub(super) fn lines(&self) -> String {
        let mut out = format!(
            "failures (FailureNotifications): {}
",
            self.failures
        );
        for wait in &self.waits {
            out += &format!("waited for the operator: {wait}\n");
        }
        for repair in &self.repairs {
            out += &format!("target check: {repair}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn failures_and_each_wait_for_the_operator_are_shown_once() {
        let mut r = super::super::report::Report::default();
        assert!(
            r.to_table()
                .contains("failures (FailureNotifications): 0\n")
        );
        assert!(!r.to_table().contains("waited"));
        assert!(r.faults.note_wait("account", "no such table"));
        assert!(!r.faults.note_wait("account", "no such table"));
        r.faults.failures = 2;
        r.faults.repairs.push("account: recreated".into());
        let table = r.to_table();
        assert!(
            table.contains("failures (FailureNotifications): 2\n"),
            "{table}"
        );
        assert_eq!(
            table
                .matches("waited for the operator: account: no such table")
                .count(),
            1,
            "{table}"
        );
        assert!(
            table.contains("target check: account: recreated\n"),
            "{table}"
        );
    }
}
