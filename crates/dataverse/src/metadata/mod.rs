//! Metadata discovery: `EntityDefinitions`, attribute casts, option sets, M:N relationships.
//!
//! The `parse_*` functions read single response bodies; the client fetches and combines them.

mod casts;
mod discovery;
mod wire;

use des_core::ports::SourceError;
use des_core::{
    AttributeMetadata, EntityMetadata, EntitySummary, ManyToManyRelationship, OptionSetMetadata,
};
use serde::de::DeserializeOwned;

pub(crate) use discovery::{entities, entity, global_option_sets, relationships};
use wire::Collection;

fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, SourceError> {
    serde_json::from_slice(body).map_err(|e| SourceError::Protocol(format!("{what}: {e}")))
}

/// An `EntityDefinitions` collection.
pub fn parse_entities(body: &[u8]) -> Result<Vec<EntitySummary>, SourceError> {
    let list: Collection<wire::Entity> = parse(body, "EntityDefinitions")?;
    Ok(list.value.into_iter().map(wire::Entity::summary).collect())
}

/// One `EntityDefinitions(...)` entity, with `Attributes` when they were expanded.
pub fn parse_entity(body: &[u8]) -> Result<EntityMetadata, SourceError> {
    parse::<wire::Entity>(body, "EntityDefinitions entity").map(wire::Entity::metadata)
}

/// One attribute (a single `Attributes(...)` GET, cast or not).
pub fn parse_attribute(body: &[u8]) -> Result<AttributeMetadata, SourceError> {
    parse::<wire::Attribute>(body, "attribute").map(wire::Attribute::metadata)
}

/// An `Attributes` collection (common properties, or just `@odata.type`).
pub fn parse_attributes(body: &[u8]) -> Result<Vec<AttributeMetadata>, SourceError> {
    let list: Collection<wire::Attribute> = parse(body, "Attributes")?;
    Ok(list
        .value
        .into_iter()
        .map(wire::Attribute::metadata)
        .collect())
}

/// Merges a cast collection (`Attributes/Microsoft.Dynamics.CRM.<Type>AttributeMetadata`)
/// into `entity`'s attributes. Attributes the entity does not list are ignored.
pub fn apply_cast(entity: &mut EntityMetadata, body: &[u8]) -> Result<(), SourceError> {
    let list: Collection<casts::Detail> = parse(body, "attribute cast")?;
    for detail in list.value {
        let found = entity
            .attributes
            .iter_mut()
            .find(|a| a.logical_name == detail.logical_name);
        if let Some(attribute) = found {
            detail.apply(&entity.logical_name, attribute);
        }
    }
    Ok(())
}

/// The option set of one choice attribute of `entity` (a single cast GET with
/// `$expand=OptionSet,GlobalOptionSet`).
pub fn parse_option_set(
    body: &[u8],
    entity: &str,
) -> Result<Option<OptionSetMetadata>, SourceError> {
    let detail: casts::Detail = parse(body, "option set attribute")?;
    let local_name = format!("{entity}_{}", detail.logical_name);
    Ok(detail.option_set_metadata(&local_name))
}

/// A `GlobalOptionSetDefinitions` collection.
pub fn parse_global_option_sets(body: &[u8]) -> Result<Vec<OptionSetMetadata>, SourceError> {
    let list: Collection<wire::OptionSet> = parse(body, "GlobalOptionSetDefinitions")?;
    Ok(list
        .value
        .into_iter()
        .map(|set| set.metadata("", true))
        .collect())
}

/// A `ManyToManyRelationshipMetadata` collection.
pub fn parse_relationships(body: &[u8]) -> Result<Vec<ManyToManyRelationship>, SourceError> {
    let list: Collection<wire::Relationship> = parse(body, "relationships")?;
    Ok(list.value.into_iter().map(Into::into).collect())
}

/// One `ManyToManyRelationshipMetadata` object.
pub fn parse_relationship(body: &[u8]) -> Result<ManyToManyRelationship, SourceError> {
    parse::<wire::Relationship>(body, "relationship").map(Into::into)
}
