//! One target's tables belong to one profile.

use des_core::profile::{Profile, ProfileState};
use uuid::Uuid;

use crate::error::EngineError;
use crate::ports::EnginePorts;

/// Two replicating profiles must not write the same tables of one target: each keeps its
/// own state in the target (watermarks and tombstones are keyed by profile), but their rows
/// and `DeleteLog` would be shared, so one profile's resync would delete rows the other
/// wrote. Refused, naming both. (Profiles of two control stores cannot see each other; their
/// state keyed by profile still makes each one sync and delete on its own.)
pub(crate) async fn refuse_shared_tables(
    ports: &EnginePorts,
    profile_id: Uuid,
) -> Result<(), EngineError> {
    let profiles = ports.control.profiles().await?;
    let Some(this) = profiles.iter().find(|p| p.value.id == profile_id) else {
        return Ok(()); // Activation itself says it is not found.
    };
    let this = &this.value;
    for other in profiles.iter().map(|p| &p.value) {
        if other.id == this.id || other.state == ProfileState::Inactive {
            continue;
        }
        if let Some(entity) = shared_table(this, other) {
            return Err(EngineError::Invalid(des_core::profile::ProfileError {
                field: "DestinationPrefix",
                problem: format!(
                    "profile '{}' ({}) would write the {entity} table that profile '{}' ({}) writes in the same target, schema and prefix; give it another prefix or schema, or deactivate '{}' first",
                    this.name, this.id, other.name, other.id, other.name
                ),
            }));
        }
    }
    Ok(())
}

/// An entity whose table both profiles write: same target, schema and prefix.
fn shared_table<'a>(a: &'a Profile, b: &Profile) -> Option<&'a str> {
    let same_target = a.destination_type == b.destination_type
        && a.destination_key_vault_uri == b.destination_key_vault_uri
        && a.destination_schema_name
            .eq_ignore_ascii_case(&b.destination_schema_name)
        && a.destination_prefix
            .eq_ignore_ascii_case(&b.destination_prefix);
    if !same_target {
        return None;
    }
    a.entity_names()
        .find(|entity| b.entity_names().any(|other| other == *entity))
}
