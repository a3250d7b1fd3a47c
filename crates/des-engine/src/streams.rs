//! The ordered streams of a profile: one per exported entity and one per exported M:N
//! relationship (named by its intersect entity, which the source reads like any entity).

use des_core::ManyToManyRelationship;
use des_core::StreamId;
use des_core::ports::Source;
use des_core::profile::Profile;

use crate::error::EngineError;

/// One stream and, for an M:N stream, its relationship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    pub stream: StreamId,
    pub relationship: Option<ManyToManyRelationship>,
}

/// The profile's streams, entities first, in profile order. Relationships are looked up in
/// the source only when the profile exports some.
pub async fn profile_streams(
    profile: &Profile,
    source: &dyn Source,
) -> Result<Vec<StreamSpec>, EngineError> {
    if profile.relationships.is_empty() {
        return Ok(streams_with(profile, &[]));
    }
    Ok(streams_with(profile, &source.relationships().await?))
}

/// The profile's streams given the source's M:N relationships.
pub fn streams_with(profile: &Profile, all: &[ManyToManyRelationship]) -> Vec<StreamSpec> {
    let stream = |entity: &str| StreamId {
        profile_id: profile.id,
        entity: entity.to_owned(),
    };
    let mut specs: Vec<StreamSpec> = profile
        .entity_names()
        .map(|e| StreamSpec {
            stream: stream(e),
            relationship: None,
        })
        .collect();
    for wanted in &profile.relationships {
        let Some(rel) = all.iter().find(|r| r.schema_name == wanted.schema_name) else {
            tracing::warn!(relationship = %wanted.schema_name, "Relationship not found in source.");
            continue;
        };
        let entity = rel.intersect_entity_name.to_ascii_lowercase();
        specs.push(StreamSpec {
            stream: stream(&entity),
            relationship: Some(rel.clone()),
        });
    }
    specs
}
