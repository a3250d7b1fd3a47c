//! The metadata requests. Metadata is not paged: each answer is complete.

use des_core::ports::SourceError;
use des_core::{EntityMetadata, EntitySummary, ManyToManyRelationship, OptionSetMetadata};
use url::Url;

use super::casts::CASTS;
use crate::batch::{Batch, parse_response};
use crate::fault::service_error;
use crate::transport::{Transport, is_transient_status};

const ENTITY_SUMMARY: &str = "EntityDefinitions?$select=LogicalName,EntitySetName,DisplayName,ChangeTrackingEnabled,IsIntersect";
const ENTITY_SELECT: &str = "$select=LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,\
PrimaryNameAttribute,DisplayName,ObjectTypeCode,MetadataId,ChangeTrackingEnabled,IsIntersect";
const ATTRIBUTE_EXPAND: &str = "$expand=Attributes($select=LogicalName,SchemaName,MetadataId,\
AttributeType,AttributeTypeName,AttributeOf,IsValidForRead,IsValidODataAttribute,IsPrimaryId,\
ColumnNumber)";
const MANY_TO_MANY: &str = "RelationshipDefinitions/Microsoft.Dynamics.CRM.\
ManyToManyRelationshipMetadata?$select=SchemaName,Entity1LogicalName,Entity2LogicalName,\
IntersectEntityName,Entity1IntersectAttribute,Entity2IntersectAttribute,MetadataId";

async fn get(transport: &Transport, relative: &str) -> Result<Vec<u8>, SourceError> {
    transport.get(&transport.url(relative)?).await
}

pub(crate) async fn entities(transport: &Transport) -> Result<Vec<EntitySummary>, SourceError> {
    super::parse_entities(&get(transport, ENTITY_SUMMARY).await?)
}

/// The entity with its attributes and, at the same time, every type-specific cast in one
/// `$batch`: two requests in the time of one (a stream's first page waits for its metadata,
/// and each request costs the service-protection budget a page's base time). A cast of a
/// type the entity lacks answers an empty list.
pub(crate) async fn entity(
    transport: &Transport,
    logical_name: &str,
) -> Result<EntityMetadata, SourceError> {
    let quoted = logical_name.replace('\'', "''");
    let path =
        format!("EntityDefinitions(LogicalName='{quoted}')?{ENTITY_SELECT}&{ATTRIBUTE_EXPAND}");
    let urls = CASTS
        .iter()
        .map(|c| transport.url(&c.path(logical_name)))
        .collect::<Result<Vec<_>, _>>()?;
    let (entity, casts) = tokio::join!(get(transport, &path), batched(transport, &urls));
    // The entity's own answer says best what is wrong (a missing entity, say).
    let mut entity = super::parse_entity(&entity?)?;
    if entity.entity_set_name.is_empty() || entity.primary_id_attribute.is_empty() {
        let message = format!("{logical_name} came without EntitySetName or PrimaryIdAttribute");
        return Err(SourceError::Protocol(message));
    }
    for body in casts? {
        super::apply_cast(&mut entity, &body)?;
    }
    Ok(entity)
}

/// GETs `urls` through one `$batch`. A part that failed transiently is fetched again on its
/// own, with the usual retries; any other failed part fails the whole read.
async fn batched(transport: &Transport, urls: &[Url]) -> Result<Vec<Vec<u8>>, SourceError> {
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    let parts = parse_response(&transport.post_batch(&Batch::of_gets(urls)).await?)?;
    if parts.len() != urls.len() {
        let message = format!("batch of {} answered {} parts", urls.len(), parts.len());
        return Err(SourceError::Protocol(message));
    }
    let mut bodies = Vec::with_capacity(urls.len());
    for (url, part) in urls.iter().zip(parts) {
        match part.status {
            200..=299 => bodies.push(part.body.into_bytes()),
            status if is_transient_status(status) => bodies.push(transport.get(url).await?),
            status => return Err(service_error(status, part.body.as_bytes())),
        }
    }
    Ok(bodies)
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
