//! The export profile `des run` and `des bench` create for themselves.

use anyhow::Context;
use des_core::profile::{Profile, ProfileEntity, ProfileRelationship, ProfileState, RetryPolicy};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::config::ExportTables;
use crate::target::Target;

/// The name `des run` gives its profile; a later run finds it by this name and resumes.
pub const RUN_PROFILE_NAME: &str = "des run";

/// A profile exporting every entity and relationship of `catalog` to `target`, checked by
/// `Profile::validate`: `des run`, `des schema` and `des bench` all build their profile here,
/// so each refuses the same prefixes, schema names and entities with the same message.
pub fn build(
    name: &str,
    organization_id: Uuid,
    org_url: &str,
    tables: &ExportTables,
    catalog: &Catalog,
    target: &Target,
) -> anyhow::Result<Profile> {
    let profile = unchecked(name, organization_id, org_url, tables, catalog, target);
    profile.validate().context("the profile is not valid")?;
    Ok(profile)
}

fn unchecked(
    name: &str,
    organization_id: Uuid,
    org_url: &str,
    tables: &ExportTables,
    catalog: &Catalog,
    target: &Target,
) -> Profile {
    let now = OffsetDateTime::now_utc();
    Profile {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        version: "1.0".to_owned(),
        state: ProfileState::Inactive,
        organization_id,
        organization_url: org_url.to_owned(),
        entities: catalog
            .entity_names()
            .into_iter()
            .map(|entity_type| ProfileEntity {
                entity_type,
                settings: Default::default(),
                status: None,
            })
            .collect(),
        relationships: catalog
            .relationships
            .iter()
            .map(|(r, _)| ProfileRelationship {
                schema_name: r.schema_name.clone(),
            })
            .collect(),
        destination_type: target.destination_type(),
        destination_key_vault_uri: crate::organization::TARGET_SECRET_REF.to_owned(),
        destination_prefix: tables.prefix.clone(),
        destination_schema_name: tables.schema.clone(),
        retry_policy: RetryPolicy::default(),
        write_delete_log: tables.delete_log,
        created_on: now,
        modified_on: now,
    }
}
