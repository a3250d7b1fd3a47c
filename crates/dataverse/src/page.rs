//! One page of a change-tracked read, parsed in one pass: each row's properties are captured
//! as raw JSON slices into fixed slots and converted through the plan.

use std::fmt;

use des_core::Change;
use des_core::ports::{NextLink, Page, SourceError};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::plan::ColumnPlan;
use row::RowReader;

mod keys;
mod row;

/// Parses a page of `plan`'s entity set. `followed` is the link that was requested, reused as
/// the delta link when a "no changes" answer comes back empty.
///
/// One pass over the body: rows are converted while the `value` array is read, so no row is
/// scanned twice and no per-row map is built.
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
    let mut rejected = None;
    let envelope = PageSeed {
        reader: RowReader::new(plan),
        rejected: &mut rejected,
    };
    // One UTF-8 check of the whole body up front spares the reader a check per string.
    let text =
        std::str::from_utf8(body).map_err(|e| protocol(&format!("page is not OData JSON: {e}")))?;
    let parsed = envelope.deserialize(&mut serde_json::Deserializer::from_str(text));
    let page = match (parsed, rejected) {
        (_, Some(error)) => return Err(error),
        (Err(e), None) => return Err(protocol(&format!("page is not OData JSON: {e}"))),
        (Ok(page), None) => page,
    };
    let next = match (page.next_link, page.delta_link, followed) {
        (Some(next), _, _) => NextLink::More(next),
        (None, Some(delta), _) => NextLink::Done(delta),
        (None, None, Some(link)) => NextLink::Done(link.to_owned()),
        (None, None, None) => return Err(protocol("page has neither nextLink nor deltaLink")),
    };
    Ok(Page {
        changes: page.changes,
        next,
    })
}

/// The envelope's parts a reader needs.
struct PageBody {
    changes: Vec<Change>,
    next_link: Option<String>,
    delta_link: Option<String>,
}

/// Reads the envelope object. A row that does not convert stops the parse; its error is left
/// in `rejected` so it reaches the caller as it is, not wrapped in a JSON error.
struct PageSeed<'r, 'p, 'de> {
    reader: RowReader<'p, 'de>,
    rejected: &'r mut Option<SourceError>,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_, '_, 'de> {
    type Value = PageBody;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<PageBody, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_, '_, 'de> {
    type Value = PageBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OData collection object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<PageBody, A::Error> {
        let mut changes = None;
        let (mut next_link, mut delta_link) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" if changes.is_some() => return Err(de::Error::duplicate_field("value")),
                "value" => changes = Some(map.next_value_seed(self.rows())?),
                "@odata.nextLink" => next_link = once(&mut map, next_link, "@odata.nextLink")?,
                "@odata.deltaLink" => delta_link = once(&mut map, delta_link, "@odata.deltaLink")?,
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok(PageBody {
            changes: changes.unwrap_or_default(),
            next_link: next_link.flatten(),
            delta_link: delta_link.flatten(),
        })
    }
}

impl<'p, 'de> PageSeed<'_, 'p, 'de> {
    fn rows(&mut self) -> Rows<'_, 'p, 'de> {
        Rows {
            reader: &mut self.reader,
            rejected: self.rejected,
        }
    }
}

/// An optional string property, refused when it appears twice.
fn once<'de, A: MapAccess<'de>>(
    map: &mut A,
    seen: Option<Option<String>>,
    name: &'static str,
) -> Result<Option<Option<String>>, A::Error> {
    match seen {
        Some(_) => Err(de::Error::duplicate_field(name)),
        None => map.next_value().map(Some),
    }
}

/// Reads the `value` array, converting each row as soon as it is captured.
struct Rows<'r, 'p, 'de> {
    reader: &'r mut RowReader<'p, 'de>,
    rejected: &'r mut Option<SourceError>,
}

impl<'de> DeserializeSeed<'de> for Rows<'_, '_, 'de> {
    type Value = Vec<Change>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_, 'de> {
    type Value = Vec<Change>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Change>, A::Error> {
        let mut changes = Vec::new();
        while seq.next_element_seed(self.reader.capture())?.is_some() {
            match self.reader.change() {
                Ok(change) => changes.push(change),
                Err(error) => {
                    *self.rejected = Some(error);
                    return Err(de::Error::custom("a row was rejected"));
                }
            }
        }
        Ok(changes)
    }
}

fn protocol(message: &str) -> SourceError {
    SourceError::Protocol(message.to_owned())
}
