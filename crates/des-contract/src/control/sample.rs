//! Sample documents for the control store cases.

use des_core::ports::Organization;
use des_core::profile::{DestinationType, Profile, ProfileEntity, ProfileState, RetryPolicy};
use des_core::record::StreamId;
use des_core::sync::{EntityCursor, SyncPhase};
use time::macros::datetime;
use uuid::Uuid;

pub(super) fn organization(name: &str) -> Organization {
    Organization {
        organization_id: Uuid::new_v4(),
        organization_name: name.to_owned(),
        organization_url: format!("https://{name}.crm.dynamics.com"),
        tenant_id: Uuid::new_v4().to_string(),
        client_id: Uuid::new_v4().to_string(),
        client_secret_ref: format!("local:{name}-client"),
        privacy_terms_accepted: true,
    }
}

pub(super) fn profile(name: &str) -> Profile {
    let mut settings = serde_json::Map::new();
    settings.insert(
        "Filter".to_owned(),
        serde_json::Value::from("statecode eq 0"),
    );
    let entity = |name: &str| ProfileEntity {
        entity_type: name.to_owned(),
        settings: settings.clone(),
        status: None,
    };
    Profile {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        version: "1".to_owned(),
        state: ProfileState::Active,
        organization_id: Uuid::new_v4(),
        organization_url: "https://contoso.crm.dynamics.com".to_owned(),
        entities: vec![entity("account"), entity("contact")],
        relationships: Vec::new(),
        destination_type: DestinationType::Sqlite,
        destination_key_vault_uri: "local:target".to_owned(),
        destination_prefix: "crm".to_owned(),
        destination_schema_name: "dbo".to_owned(),
        retry_policy: RetryPolicy::default(),
        write_delete_log: true,
        created_on: datetime!(2026-01-02 03:04:05 UTC),
        modified_on: datetime!(2026-01-02 03:04:05.123 UTC),
    }
}

pub(super) fn cursor(profile_id: Uuid, entity: &str) -> EntityCursor {
    let mut cursor = EntityCursor::new(StreamId {
        profile_id,
        entity: entity.to_owned(),
    });
    cursor.phase = SyncPhase::InitialSync;
    cursor.link = Some(format!(
        "https://contoso.crm.dynamics.com/api/data/v9.2/{entity}s?p=1"
    ));
    cursor.columns = vec![
        format!("{entity}id"),
        "name".to_owned(),
        "versionnumber".to_owned(),
    ];
    cursor.updated_at = Some(datetime!(2026-01-02 03:04:05 UTC));
    cursor
}
