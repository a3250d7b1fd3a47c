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

#[cfg(test)]
mod tests {
    use des_core::{AttributeKind, Value};
    use uuid::Uuid;

    use super::*;
    use crate::plan::{PlannedColumn, WireSource};

    fn plan() -> ColumnPlan {
        let column = |name: &str, wire: &str, kind| PlannedColumn {
            logical_name: name.into(),
            wire_name: wire.into(),
            kind,
            date_only: false,
            sole_target: None,
            source: WireSource::Property,
        };
        let columns = vec![
            column("name", "name", AttributeKind::String),
            column("ownerid", "_ownerid_value", AttributeKind::Owner),
        ];
        ColumnPlan::from_columns("accounts", "accountid", columns)
    }

    const A: &str = "3e4259cc-0879-410d-8dae-81f2889b4259";
    const B: &str = "1f0a1dad-6295-49a9-a413-d1ef0e820a0b";

    fn values(change: &Change) -> &[Value] {
        match change {
            Change::Upsert(row) => &row.values,
            Change::Delete(_) => panic!("expected an upsert"),
        }
    }

    #[test]
    fn rows_may_reorder_drop_annotations_and_escape_keys() {
        let owner = "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname";
        let body = format!(
            r#"{{"value":[
            {{"name":"x","{owner}":"team","_ownerid_value":"{B}","versionnumber":1,"accountid":"{A}"}},
            {{"versionnumber":2,"accountid":"{A}","extra":[1,{{"a":2}}],"_ownerid_value":null,"\u006eame":"y\"z"}},
            {{"name":null,"{owner}":"systemuser","_ownerid_value":"{B}","versionnumber":3,"accountid":"{A}"}},
            {{"@odata.context":"x/$metadata#accounts/$deletedEntity","id":"{B}","reason":"deleted"}}
            ],"@odata.deltaLink":"d"}}"#
        );
        let page = parse_page(body.as_bytes(), &plan(), None).expect("page");
        let owner = |target: &str| Value::Lookup {
            id: Uuid::parse_str(B).expect("uuid"),
            target: Some(target.into()),
        };
        assert_eq!(
            values(&page.changes[0]),
            [Value::Text("x".into()), owner("team")]
        );
        assert_eq!(
            values(&page.changes[1]),
            [Value::Text("y\"z".into()), Value::Null]
        );
        assert_eq!(values(&page.changes[2]), [Value::Null, owner("systemuser")]);
        let deleted = Uuid::parse_str(B).expect("uuid");
        assert_eq!(page.changes[3], Change::Delete(deleted));
        assert_eq!(page.next, NextLink::Done("d".into()));
    }

    #[test]
    fn a_bad_row_is_reported_as_itself() {
        let body = format!(r#"{{"value":[{{"accountid":"{A}","versionnumber":"v"}}]}}"#);
        let error = parse_page(body.as_bytes(), &plan(), None).expect_err("bad version");
        let rejected = "versionnumber is not an integer";
        assert!(
            matches!(error, SourceError::Protocol(ref m) if m == rejected),
            "{error}"
        );
        let error = parse_page(b"{\"value\":[1]}", &plan(), None).expect_err("not a row");
        assert!(matches!(error, SourceError::Protocol(m) if m.starts_with("page is not OData")));
    }
}
