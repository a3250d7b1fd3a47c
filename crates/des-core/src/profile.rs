//! The export profile, with DES's JSON field names and the DES wizard's validation rules.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A profile's lifecycle state. `activate` → `Active` (schema and data), `activatemetadata` →
/// `MetadataOnly`, `activatedata` → `DataOnly`, `deactivate` → `Inactive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ProfileState {
    #[default]
    Inactive,
    Active,
    MetadataOnly,
    DataOnly,
}

impl ProfileState {
    pub fn replicates_metadata(self) -> bool {
        matches!(self, Self::Active | Self::MetadataOnly)
    }

    pub fn replicates_data(self) -> bool {
        matches!(self, Self::Active | Self::DataOnly)
    }
}

/// Which SQL target a profile writes to. DES knew only `sqlazure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationType {
    SqlAzure,
    PostgreSql,
    Sqlite,
}

impl DestinationType {
    /// Every kind, DES's own first: documents list them from here.
    pub const ALL: [Self; 3] = [Self::SqlAzure, Self::PostgreSql, Self::Sqlite];

    /// The kind of a profile body that names none: DES's.
    pub const DES_DEFAULT: Self = Self::SqlAzure;
}

/// Per-record retry rules (seed: retry after the interval, up to the count, then log and move on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    pub max_retry_count: u32,
    pub interval_in_seconds: u32,
    #[serde(default = "default_backoff")]
    pub backoff: String,
}

fn default_backoff() -> String {
    "Simple".to_owned()
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retry_count: 12,
            interval_in_seconds: 5,
            backoff: default_backoff(),
        }
    }
}

/// One exported entity in a profile; `Status` is filled only when asked for (`?status=true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileEntity {
    #[serde(rename = "Type")]
    pub entity_type: String,
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EntityStatus>,
}

/// One exported M:N relationship, by schema name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileRelationship {
    pub schema_name: String,
}

/// DES's per-entity status object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EntityStatus {
    #[serde(rename = "Type")]
    pub entity_type: String,
    pub profile_id: Uuid,
    pub total_notifications: u64,
    pub success_notifications: u64,
    pub failure_notifications: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_export_date: Option<OffsetDateTime>,
    /// `Success`, `Failure` or `NotStarted`.
    pub last_export_status: String,
    /// `NotCreated`, `Created` or `Failed`.
    pub entity_metadata_state: String,
    /// `NotStarted`, `InProgress`, `Completed` or `CompletedWithFailures`.
    pub initial_sync_state: String,
    /// Not in DES: what the operator should do while the stream waits for them (a target
    /// or configuration fault: a missing table, a wrong connection string), else `null`.
    #[serde(default)]
    pub hint: Option<String>,
}

/// An export profile as DES stored and served it, plus `Relationships` for M:N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Profile {
    pub id: Uuid,
    pub name: String,
    pub version: String,
    pub state: ProfileState,
    pub organization_id: Uuid,
    pub organization_url: String,
    pub entities: Vec<ProfileEntity>,
    #[serde(default)]
    pub relationships: Vec<ProfileRelationship>,
    pub destination_type: DestinationType,
    /// A Key Vault secret URL, or `local:<name>` for the local secret store.
    pub destination_key_vault_uri: String,
    pub destination_prefix: String,
    pub destination_schema_name: String,
    pub retry_policy: RetryPolicy,
    pub write_delete_log: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_on: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub modified_on: OffsetDateTime,
}

/// A rule a profile body broke, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ProfileError {
    pub field: &'static str,
    pub problem: String,
}

fn problem(field: &'static str, problem: impl Into<String>) -> ProfileError {
    ProfileError {
        field,
        problem: problem.into(),
    }
}

impl Profile {
    /// Checks the rules the DES wizard enforced. Entity existence and change tracking are
    /// checked against the source by the caller, which has the metadata.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.name.trim().is_empty() {
            return Err(problem("Name", "is required"));
        }
        if self.name.len() > 100 {
            return Err(problem("Name", "must be at most 100 characters"));
        }
        validate_identifier("DestinationPrefix", &self.destination_prefix, 0, 14)?;
        validate_identifier(
            "DestinationSchemaName",
            &self.destination_schema_name,
            1,
            64,
        )?;
        if self.destination_key_vault_uri.trim().is_empty() {
            return Err(problem("DestinationKeyVaultUri", "is required"));
        }
        self.validate_retry_policy()?;
        self.validate_entities()
    }

    fn validate_retry_policy(&self) -> Result<(), ProfileError> {
        let policy = &self.retry_policy;
        if policy.max_retry_count > 20 {
            let got = policy.max_retry_count;
            return Err(problem(
                "RetryPolicy.MaxRetryCount",
                format!("must be 0 to 20, got {got}"),
            ));
        }
        if policy.interval_in_seconds > 3600 {
            let got = policy.interval_in_seconds;
            let msg = format!("must be 0 to 3600 seconds, got {got}");
            return Err(problem("RetryPolicy.IntervalInSeconds", msg));
        }
        Ok(())
    }

    fn validate_entities(&self) -> Result<(), ProfileError> {
        if self.entities.is_empty() && self.relationships.is_empty() {
            return Err(problem("Entities", "at least one entity is required"));
        }
        let mut seen = std::collections::HashSet::new();
        for entity in &self.entities {
            let name = entity.entity_type.as_str();
            if !is_logical_name(name) {
                return Err(problem(
                    "Entities.Type",
                    format!("'{name}' is not a logical name"),
                ));
            }
            if !seen.insert(name) {
                return Err(problem(
                    "Entities.Type",
                    format!("'{name}' is listed twice"),
                ));
            }
        }
        Ok(())
    }

    /// Logical names of the exported entities, in profile order.
    pub fn entity_names(&self) -> impl Iterator<Item = &str> {
        self.entities.iter().map(|e| e.entity_type.as_str())
    }
}

fn validate_identifier(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ProfileError> {
    if value.len() < min {
        return Err(problem(field, "is required"));
    }
    if value.len() > max {
        return Err(problem(
            field,
            format!("must be under {} characters", max + 1),
        ));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(problem(
            field,
            format!("must be alphanumeric, got '{value}'"),
        ));
    }
    Ok(())
}

/// Dataverse logical names: lower-case ASCII letters, digits and underscores.
pub fn is_logical_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        let now = OffsetDateTime::UNIX_EPOCH;
        Profile {
            id: Uuid::nil(),
            name: "Sales".into(),
            version: "1.0".into(),
            state: ProfileState::Inactive,
            organization_id: Uuid::nil(),
            organization_url: "https://org.crm.dynamics.com".into(),
            entities: vec![ProfileEntity {
                entity_type: "account".into(),
                settings: Default::default(),
                status: None,
            }],
            relationships: vec![],
            destination_type: DestinationType::Sqlite,
            destination_key_vault_uri: "local:target".into(),
            destination_prefix: "crm".into(),
            destination_schema_name: "dbo".into(),
            retry_policy: RetryPolicy::default(),
            write_delete_log: true,
            created_on: now,
            modified_on: now,
        }
    }

    #[test]
    fn a_good_profile_passes_and_round_trips_with_des_names() {
        let p = profile();
        p.validate().unwrap();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["RetryPolicy"]["MaxRetryCount"], 12);
        assert_eq!(json["Entities"][0]["Type"], "account");
        assert_eq!(json["DestinationPrefix"], "crm");
        assert_eq!(serde_json::from_value::<Profile>(json).unwrap(), p);
    }

    /// Breaks one rule of a valid profile.
    type Breaker = fn(&mut Profile);

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(Breaker, &str)> = vec![
            (|p| p.name = " ".into(), "Name"),
            (
                |p| p.destination_prefix = "fifteen_chars__".into(),
                "DestinationPrefix",
            ),
            (|p| p.destination_prefix = "a-b".into(), "DestinationPrefix"),
            (
                |p| p.destination_schema_name = String::new(),
                "DestinationSchemaName",
            ),
            (
                |p| p.retry_policy.max_retry_count = 21,
                "RetryPolicy.MaxRetryCount",
            ),
            (
                |p| p.retry_policy.interval_in_seconds = 3601,
                "RetryPolicy.IntervalInSeconds",
            ),
            (
                |p| p.entities[0].entity_type = "Account".into(),
                "Entities.Type",
            ),
            (|p| p.entities.clear(), "Entities"),
        ];
        for (break_it, field) in cases {
            let mut p = profile();
            break_it(&mut p);
            assert_eq!(p.validate().unwrap_err().field, field);
        }
    }

    #[test]
    fn empty_prefix_is_allowed() {
        let mut p = profile();
        p.destination_prefix = String::new();
        p.validate().unwrap();
    }
}
