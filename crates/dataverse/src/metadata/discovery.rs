//! The metadata requests. Metadata is not paged: each answer is complete.

use std::sync::Arc;

use des_core::ports::SourceError;
use des_core::{EntityMetadata, EntitySummary, ManyToManyRelationship, OptionSetMetadata};
use tokio::task::JoinSet;

use super::casts::CASTS;
use crate::transport::Transport;

const ENTITY_SUMMARY: &str = "EntityDefinitions?$select=LogicalName,EntitySetName,DisplayName,ChangeTrackingEnabled,IsIntersect";
const ENTITY_SELECT: &str = "$select=LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,\
PrimaryNameAttribute,DisplayName,ObjectTypeCode,MetadataId,ChangeTrackingEnabled,IsIntersect";
const ATTRIBUTE_EXPAND: &str = "$expand=Attributes($select=LogicalName,SchemaName,MetadataId,\
AttributeType,AttributeTypeName,AttributeOf,IsValidForRead,IsValidODataAttribute,IsPrimaryId,\
ColumnNumber)";
const MANY_TO_MANY: &str = "RelationshipDefinitions/Microsoft.Dynamics.CRM.\
ManyToManyRelationshipMetadata?$select=SchemaName,Entity1LogicalName,Entity2LogicalName,\
IntersectEntityName,Entity1IntersectAttribute,Entity2IntersectAttribute,MetadataId";

async fn get(transport: &Transport, relative: &str) -> Result<bytes::Bytes, SourceError> {
    transport.get(&transport.url(relative)?, None).await
}

pub(crate) async fn entities(transport: &Transport) -> Result<Vec<EntitySummary>, SourceError> {
    super::parse_entities(&get(transport, ENTITY_SUMMARY).await?)
}

/// The entity with its attributes, then the type-specific details, fetched concurrently.
pub(crate) async fn entity(
    transport: &Arc<Transport>,
    logical_name: &str,
) -> Result<EntityMetadata, SourceError> {
    let quoted = logical_name.replace('\'', "''");
    let path =
        format!("EntityDefinitions(LogicalName='{quoted}')?{ENTITY_SELECT}&{ATTRIBUTE_EXPAND}");
    let mut entity = super::parse_entity(&get(transport, &path).await?)?;
    if entity.entity_set_name.is_empty() || entity.primary_id_attribute.is_empty() {
        let message = format!("{logical_name} came without EntitySetName or PrimaryIdAttribute");
        return Err(SourceError::Protocol(message));
    }
    let mut casts = JoinSet::new();
    for cast in CASTS.iter().filter(|c| c.needed(&entity)) {
        let (transport, path) = (Arc::clone(transport), cast.path(logical_name));
        casts.spawn(async move { get(&transport, &path).await });
    }
    while let Some(joined) = casts.join_next().await {
        let body =
            joined.map_err(|e| SourceError::Protocol(format!("cast task failed: {e}")))??;
        super::apply_cast(&mut entity, &body)?;
    }
    Ok(entity)
}

pub(crate) async fn relationships(
    transport: &Transport,
) -> Result<Vec<ManyToManyRelationship>, SourceError> {
    super::parse_relationships(&get(transport, MANY_TO_MANY).await?)
}

pub(crate) async fn global_option_sets(
    transport: &Transport,
) -> Result<Vec<OptionSetMetadata>, SourceError> {
    super::parse_global_option_sets(&get(transport, "GlobalOptionSetDefinitions").await?)
}
