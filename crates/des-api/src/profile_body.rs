//! The profile a client sends (create, update, validate): DES's field names, server-owned
//! fields ignored, unknown fields refused, defaults as in the DES wizard.

use des_core::ports::{Organization, Source};
use des_core::profile::{
    DestinationType, Profile, ProfileEntity, ProfileRelationship, ProfileState, RetryPolicy,
};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// A profile description.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProfileBody {
    pub name: String,
    #[serde(default)]
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub organization_url: Option<String>,
    pub entities: Vec<EntityBody>,
    #[serde(default)]
    pub relationships: Vec<ProfileRelationship>,
    /// DES knew only `sqlazure`, so that is the default.
    #[serde(default = "default_destination")]
    pub destination_type: DestinationType,
    pub destination_key_vault_uri: String,
    #[serde(default)]
    pub destination_prefix: String,
    #[serde(default = "default_schema")]
    pub destination_schema_name: String,
    #[serde(default)]
    pub retry_policy: RetryPolicy,
    #[serde(default)]
    pub write_delete_log: bool,
    // Server-owned fields a client may echo back from a GET; ignored.
    #[serde(default, rename = "Id")]
    _id: serde::de::IgnoredAny,
    #[serde(default, rename = "Version")]
    _version: serde::de::IgnoredAny,
    #[serde(default, rename = "State")]
    _state: serde::de::IgnoredAny,
    #[serde(default, rename = "CreatedOn")]
    _created_on: serde::de::IgnoredAny,
    #[serde(default, rename = "ModifiedOn")]
    _modified_on: serde::de::IgnoredAny,
}

/// One entity item: `Type`, `Settings`; a `Status` echoed from a GET is ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct EntityBody {
    #[serde(rename = "Type")]
    pub entity_type: String,
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    #[serde(default, rename = "Status")]
    _status: serde::de::IgnoredAny,
}

fn default_destination() -> DestinationType {
    DestinationType::DES_DEFAULT
}

fn default_schema() -> String {
    "dbo".to_owned()
}

impl ProfileBody {
    /// The organization the body names, if any.
    pub fn organization_id(&self) -> Option<Uuid> {
        self.organization_id
    }

    /// The profile for `org`, checked against the wizard's rules (not yet the source).
    pub fn into_profile(
        self,
        id: Uuid,
        org: &Organization,
        now: OffsetDateTime,
    ) -> ApiResult<Profile> {
        if let Some(url) = &self.organization_url
            && !crate::query::same_url(url, &org.organization_url)
        {
            return Err(ApiError::bad_request(format!(
                "OrganizationUrl: '{url}' is not the URL of organization {}",
                org.organization_id
            )));
        }
        let profile = Profile {
            id,
            name: self.name,
            version: "1.0".to_owned(),
            state: ProfileState::Inactive,
            organization_id: org.organization_id,
            organization_url: org.organization_url.clone(),
            entities: self
                .entities
                .into_iter()
                .map(EntityBody::into_entity)
                .collect(),
            relationships: self.relationships,
            destination_type: self.destination_type,
            destination_key_vault_uri: self.destination_key_vault_uri,
            destination_prefix: self.destination_prefix,
            destination_schema_name: self.destination_schema_name,
            retry_policy: self.retry_policy,
            write_delete_log: self.write_delete_log,
            created_on: now,
            modified_on: now,
        };
        profile
            .validate()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(profile)
    }
}

impl EntityBody {
    fn into_entity(self) -> ProfileEntity {
        ProfileEntity {
            entity_type: self.entity_type,
            settings: self.settings,
            status: None,
        }
    }
}

/// Every entity must exist and be change-tracked, every relationship must be an M:N of the
/// source; the first problem is named.
pub async fn check_against_source(profile: &Profile, source: &dyn Source) -> ApiResult<()> {
    match source_problems(profile, source).await?.into_iter().next() {
        Some(problem) => Err(ApiError::bad_request(problem)),
        None => Ok(()),
    }
}

/// Problems of the profile's entities and relationships against the source, each naming
/// its field and item.
pub async fn source_problems(profile: &Profile, source: &dyn Source) -> ApiResult<Vec<String>> {
    let entities = source.entities().await?;
    let mut problems = Vec::new();
    for name in profile.entity_names() {
        match entities.iter().find(|e| e.logical_name == name) {
            None => problems.push(format!("Entities.Type: unknown entity '{name}'")),
            Some(e) if !e.change_tracking_enabled => problems.push(format!(
                "Entities.Type: entity '{name}' does not have change tracking enabled"
            )),
            Some(_) => {}
        }
    }
    if !profile.relationships.is_empty() {
        let relationships = source.relationships().await?;
        for wanted in &profile.relationships {
            let name = &wanted.schema_name;
            if !relationships.iter().any(|r| &r.schema_name == name) {
                problems.push(format!(
                    "Relationships.SchemaName: unknown M:N relationship '{name}'"
                ));
            }
        }
    }
    Ok(problems)
}
