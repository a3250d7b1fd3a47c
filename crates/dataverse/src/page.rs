//! One page of a change-tracked read, parsed row by row from raw JSON slices.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;
use std::fmt;

use des_core::ports::{NextLink, Page, SourceError};
use des_core::{Change, Row, Value};
use serde::Deserialize;
use serde::de::{Deserializer, Visitor};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::plan::{ColumnPlan, VERSION_NUMBER};

#[derive(Deserialize)]
struct PageBody<'a> {
    #[serde(borrow, default)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

/// A property name, borrowed from the body unless it held escapes.
#[derive(PartialEq, Eq, Hash)]
struct Key<'a>(Cow<'a, str>);

impl Borrow<str> for Key<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

type Fields<'a> = HashMap<Key<'a>, &'a RawValue>;

/// Parses a page of `plan`'s entity set. `followed` is the link that was requested, reused as
/// the delta link when a "no changes" answer comes back empty.
pub fn parse_page(
    body: &[u8],
    plan: &ColumnPlan,
    followed: Option<&str>,
) -> Result<Page, SourceError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        let link = followed.ok_or_else(|| protocol("empty body for a first page"))?;
        return Ok(Page {
            changes: Vec::new(),
            next: NextLink::Done(link.to_owned()),
        });
    }
    let page: PageBody<'_> = serde_json::from_slice(body)
        .map_err(|e| protocol(&format!("page is not OData JSON: {e}")))?;
    let reader = RowReader::new(plan);
    let changes = page
        .value
        .iter()
        .map(|row| reader.change(row))
        .collect::<Result<_, _>>()?;
    let next = match (page.next_link, page.delta_link, followed) {
        (Some(next), _, _) => NextLink::More(next),
        (None, Some(delta), _) => NextLink::Done(delta),
        (None, None, Some(link)) => NextLink::Done(link.to_owned()),
        (None, None, None) => return Err(protocol("page has neither nextLink nor deltaLink")),
    };
    Ok(Page { changes, next })
}

/// Reads rows of one plan; the lookup annotation names are built once per page.
struct RowReader<'p> {
    plan: &'p ColumnPlan,
    annotations: Vec<Option<String>>,
}

impl<'p> RowReader<'p> {
    fn new(plan: &'p ColumnPlan) -> Self {
        let annotations = plan
            .columns
            .iter()
            .map(|c| c.kind.is_lookup().then(|| c.target_annotation()))
            .collect();
        Self { plan, annotations }
    }

    fn change(&self, row: &RawValue) -> Result<Change, SourceError> {
        let fields: Fields<'_> = serde_json::from_str(row.get())
            .map_err(|e| protocol(&format!("row is not an object: {e}")))?;
        if is_deleted_entity(&fields) {
            return Ok(Change::Delete(guid_field(&fields, "id")?));
        }
        let id = guid_field(&fields, &self.plan.primary_id)?;
        let version = row_version(&fields)?;
        let values = self.values(&fields).map_err(|e| protocol(&e))?;
        Ok(Change::Upsert(Row {
            id,
            version,
            values,
        }))
    }

    fn values(&self, fields: &Fields<'_>) -> Result<Vec<Value>, String> {
        let columns = self.plan.columns.iter().zip(&self.annotations);
        columns
            .map(|(column, annotation)| {
                let target = annotation.as_deref().and_then(|a| fields.get(a).copied());
                let raw = fields.get(column.wire_name.as_str()).copied();
                crate::cell::to_value(raw, column, target)
            })
            .collect()
    }
}

fn is_deleted_entity(fields: &Fields<'_>) -> bool {
    fields
        .get("@odata.context")
        .is_some_and(|c| c.get().contains("$deletedEntity"))
}

fn guid_field(fields: &Fields<'_>, name: &str) -> Result<Uuid, SourceError> {
    let raw = fields
        .get(name)
        .ok_or_else(|| protocol(&format!("row without {name}")))?;
    serde_json::from_str::<&str>(raw.get())
        .ok()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| protocol(&format!("{name} is not a GUID")))
}

/// `versionnumber`, or the number in the weak ETag (`W/"915244"`) when it was not sent.
fn row_version(fields: &Fields<'_>) -> Result<i64, SourceError> {
    if let Some(raw) = fields.get(VERSION_NUMBER).filter(|r| r.get() != "null") {
        let text = raw.get().trim_matches('"');
        return text
            .parse()
            .map_err(|_| protocol("versionnumber is not an integer"));
    }
    let etag = fields
        .get("@odata.etag")
        .and_then(|r| serde_json::from_str::<String>(r.get()).ok());
    etag.as_deref()
        .and_then(|e| e.trim_start_matches("W/").trim_matches('"').parse().ok())
        .ok_or_else(|| protocol("row without versionnumber or numeric ETag"))
}

fn protocol(message: &str) -> SourceError {
    SourceError::Protocol(message.to_owned())
}
