//! The failure log line, exactly in the seed's format.

use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

/// DES's `ChangeType` words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    TriggerInitialExport,
    New,
    Update,
    Delete,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TriggerInitialExport => "Trigger Initial Export",
            Self::New => "New",
            Self::Update => "Update",
            Self::Delete => "Delete",
        }
    }
}

/// One append-only failure entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureLine {
    pub entity: String,
    /// `None` prints as `N/A` (entity-level failures such as a failed table creation).
    pub record_id: Option<Uuid>,
    /// `None` prints as empty, as DES did for `Trigger Initial Export`.
    pub notification_time: Option<OffsetDateTime>,
    pub change_type: ChangeType,
    pub reason: String,
}

impl FailureLine {
    /// `Entity: <name>, RecordId: <"N/A"|guid>, NotificationTime: <datetime>, ChangeType: <type>,
    /// FailureReason: <text>`, with the time as `M/d/yyyy h:mm:ss AM` (UTC) and the reason on
    /// one line.
    pub fn format(&self) -> String {
        let id = self
            .record_id
            .map_or_else(|| "N/A".to_owned(), |id| id.to_string());
        let time = self.notification_time.map(format_time).unwrap_or_default();
        let reason = self.reason.replace(['\r', '\n'], " ");
        format!(
            "Entity: {}, RecordId: {id}, NotificationTime: {time}, ChangeType: {}, FailureReason: {reason}",
            self.entity,
            self.change_type.as_str()
        )
    }
}

fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (hour, meridiem) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    let rest = t
        .format(format_description!("[minute]:[second]"))
        .unwrap_or_default();
    format!(
        "{}/{}/{} {hour}:{rest} {meridiem}",
        u8::from(t.month()),
        t.day(),
        t.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_like_the_seed_example() {
        let line = FailureLine {
            entity: "account".into(),
            record_id: Some("b2a19cdd-88df-e311-b8e5-6c3be5a8b200".parse().unwrap()),
            notification_time: Some(datetime!(2016-08-31 18:50:38 UTC)),
            change_type: ChangeType::New,
            reason: "Invalid object name 'dbo.hatest201_account'.".into(),
        };
        assert_eq!(
            line.format(),
            "Entity: account, RecordId: b2a19cdd-88df-e311-b8e5-6c3be5a8b200, NotificationTime: \
             8/31/2016 6:50:38 PM, ChangeType: New, FailureReason: Invalid object name \
             'dbo.hatest201_account'."
        );
    }

    #[test]
    fn entity_level_failure_has_na_and_empty_time() {
        let line = FailureLine {
            entity: "lead".into(),
            record_id: None,
            notification_time: None,
            change_type: ChangeType::TriggerInitialExport,
            reason: "There is already an object named 'hatest201_lead' in the database.".into(),
        };
        assert_eq!(
            line.format(),
            "Entity: lead, RecordId: N/A, NotificationTime: , ChangeType: Trigger Initial \
             Export, FailureReason: There is already an object named 'hatest201_lead' in the \
             database."
        );
    }

    #[test]
    fn midnight_and_noon_use_twelve() {
        let at = |t| FailureLine {
            entity: "a".into(),
            record_id: None,
            notification_time: Some(t),
            change_type: ChangeType::Delete,
            reason: "multi\nline".into(),
        };
        assert!(
            at(datetime!(2024-01-02 00:05:09 UTC))
                .format()
                .contains("1/2/2024 12:05:09 AM")
        );
        assert!(
            at(datetime!(2024-01-02 12:00:00 UTC))
                .format()
                .contains("12:00:00 PM")
        );
        assert!(
            at(datetime!(2024-01-02 12:00:00 UTC))
                .format()
                .ends_with("multi line")
        );
    }
}
