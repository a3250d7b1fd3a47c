//! What a harness sets up, and the profile it creates from that.

use std::time::Duration;

use dataverse_emulator::ServiceLimits;
use des_core::profile::{
    DestinationType, Profile, ProfileEntity, ProfileRelationship, ProfileState, RetryPolicy,
};
use des_engine::RuntimeOptions;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::chaos_queue::Chaos;
use crate::target::TargetKind;

/// What to set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub records: usize,
    pub entities: Vec<String>,
    /// Exported M:N relationships, by schema name.
    pub relationships: Vec<String>,
    pub page_size: u32,
    pub retry: RetryPolicy,
    /// Duplicate and reorder deliveries, seeded.
    pub chaos: Option<(Chaos, u64)>,
    pub runtime: RuntimeOptions,
    /// The database the real sink writes.
    pub target: TargetKind,
    /// The emulator's service-protection limits per app user (the service's by default).
    pub limits: ServiceLimits,
    /// Application users the client reads through, each its own budget.
    pub app_users: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            records: 40,
            entities: vec!["account".into(), "contact".into()],
            relationships: vec![],
            page_size: 10,
            retry: RetryPolicy {
                max_retry_count: 2,
                interval_in_seconds: 1,
                backoff: "Simple".into(),
            },
            chaos: None,
            runtime: fast_runtime(),
            target: TargetKind::Sqlite,
            limits: ServiceLimits::default(),
            app_users: 1,
        }
    }
}

/// Runtime settings for tests: short intervals, short visibility so crashes heal quickly.
pub fn fast_runtime() -> RuntimeOptions {
    let mut options = RuntimeOptions {
        poll_interval: Duration::from_millis(100),
        appliers: 3,
        metadata_refresh: Duration::from_secs(60),
        max_unapplied_batches: 4,
        visibility: Duration::from_secs(2),
        ..RuntimeOptions::default()
    };
    options.applier.error_backoff = Duration::from_millis(50);
    options.applier.max_backoff = Duration::from_millis(500);
    options
}

pub(crate) fn profile(options: &Options) -> Profile {
    let entity = |name: &String| ProfileEntity {
        entity_type: name.clone(),
        settings: Default::default(),
        status: None,
    };
    Profile {
        id: Uuid::new_v4(),
        name: "Test".into(),
        version: "1.0".into(),
        state: ProfileState::Inactive,
        organization_id: Uuid::new_v4(),
        organization_url: "http://emulator".into(),
        entities: options.entities.iter().map(entity).collect(),
        relationships: options
            .relationships
            .iter()
            .map(|name| ProfileRelationship {
                schema_name: name.clone(),
            })
            .collect(),
        destination_type: match options.target {
            TargetKind::Sqlite => DestinationType::Sqlite,
            TargetKind::Postgres(_) => DestinationType::PostgreSql,
            TargetKind::Mssql(_) => DestinationType::SqlAzure,
        },
        destination_key_vault_uri: "local:target".into(),
        destination_prefix: "crm".into(),
        destination_schema_name: "dbo".into(),
        retry_policy: options.retry.clone(),
        write_delete_log: true,
        created_on: OffsetDateTime::UNIX_EPOCH,
        modified_on: OffsetDateTime::UNIX_EPOCH,
    }
}
