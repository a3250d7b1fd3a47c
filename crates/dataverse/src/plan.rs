//! Column plans: which wire properties a read selects and how each becomes a [`Value`].
//!
//! [`Value`]: des_core::Value

use des_core::ports::SourceError;
use des_core::{
    AttributeKind, AttributeMetadata, DateTimeBehavior, EntityMetadata, LookupPart, TableName,
};

/// The row version column; every read selects it.
pub(crate) const VERSION_NUMBER: &str = "versionnumber";
/// The annotation naming a lookup's target table; every read asks for it.
const LOGICAL_NAME: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
/// The annotation holding a lookup's display name (the referenced row's primary name).
const FORMATTED_VALUE: &str = "OData.Community.Display.V1.FormattedValue";

/// How a page of one entity set is read: the requested columns in order, plus the primary key.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPlan {
    pub entity_set: String,
    /// Logical name of the primary key (always sent, selected or not).
    pub primary_id: String,
    pub columns: Vec<PlannedColumn>,
}

/// One selected column.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedColumn {
    pub logical_name: String,
    /// `_<name>_value` for lookups, else the logical name.
    pub wire_name: String,
    pub kind: AttributeKind,
    /// A DateOnly column, read as `Value::Date`.
    pub date_only: bool,
    /// The lookup's target when it has just one, used when the annotation is missing.
    pub sole_target: Option<TableName>,
    /// Where the value is on the wire.
    pub source: WireSource,
}

/// Where a planned column's value is on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireSource {
    /// The property `wire_name`, named in `$select`.
    Property,
    /// An annotation of a lookup, `wire_name` being the annotation's full name
    /// (`_ownerid_value@OData.Community.Display.V1.FormattedValue`): the columns Dataverse
    /// keeps beside a lookup are no Web API properties. The lookup (its wire name here) is
    /// selected in their place.
    Annotation { lookup: String },
    /// Nowhere: no annotation carries a lookup's yomi name, so the column reads as null.
    Absent,
}

#[cfg(test)]
impl PlannedColumn {
    /// A column read from the wire property `wire`, for tests of the page reader.
    pub(crate) fn property(name: &str, wire: &str, kind: AttributeKind) -> Self {
        Self {
            logical_name: name.into(),
            wire_name: wire.into(),
            kind,
            date_only: false,
            sole_target: None,
            source: WireSource::Property,
        }
    }
}

impl PlannedColumn {
    /// The annotation that names a lookup's target table.
    pub fn target_annotation(&self) -> String {
        annotation(&self.wire_name, LOGICAL_NAME)
    }
}

fn annotation(wire_name: &str, term: &str) -> String {
    format!("{wire_name}@{term}")
}

impl ColumnPlan {
    /// Plans `select` (logical names, or `_x_value` wire names of lookups) for `entity`.
    pub fn new(entity: &EntityMetadata, select: &[String]) -> Result<Self, SourceError> {
        let columns = select
            .iter()
            .map(|name| plan_column(entity, name))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            entity_set: entity.entity_set_name.clone(),
            primary_id: entity.primary_id_attribute.clone(),
            columns,
        })
    }

    /// A plan with explicit columns, for callers that hold no metadata (and for tests).
    pub fn from_columns(entity_set: &str, primary_id: &str, columns: Vec<PlannedColumn>) -> Self {
        Self {
            entity_set: entity_set.to_owned(),
            primary_id: primary_id.to_owned(),
            columns,
        }
    }

    /// The `$select` value: the properties' wire names (a lookup in place of the columns
    /// read from its annotations), the primary key and `versionnumber`.
    pub fn select_clause(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        let selected = self.columns.iter().filter_map(|c| match &c.source {
            WireSource::Property => Some(c.wire_name.as_str()),
            WireSource::Annotation { lookup } => Some(lookup.as_str()),
            WireSource::Absent => None,
        });
        for name in selected.chain([self.primary_id.as_str(), VERSION_NUMBER]) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.join(",")
    }

    /// The `odata.include-annotations` list: lookup targets always; formatted values only
    /// when a column reads a lookup's name, since the service then formats every cell of the
    /// page (money, dates, choices), which makes pages larger.
    pub fn annotations(&self) -> String {
        let formatted = self.columns.iter().any(|c| {
            matches!(c.source, WireSource::Annotation { .. })
                && c.wire_name.ends_with(FORMATTED_VALUE)
        });
        match formatted {
            true => format!("{LOGICAL_NAME},{FORMATTED_VALUE}"),
            false => LOGICAL_NAME.to_owned(),
        }
    }
}

fn plan_column(entity: &EntityMetadata, name: &str) -> Result<PlannedColumn, SourceError> {
    let attribute = entity
        .attribute(name)
        .or_else(|| {
            entity
                .attributes
                .iter()
                .find(|a| a.kind.is_lookup() && a.wire_name() == name)
        })
        .ok_or_else(|| {
            SourceError::Protocol(format!("{} has no attribute {name}", entity.logical_name))
        })?;
    if let Some((lookup, part)) = entity.lookup_part(attribute) {
        return Ok(lookup_part_column(attribute, lookup, part));
    }
    let sole_target = match attribute.targets.as_slice() {
        [only] => Some(TableName::from(only.as_str())),
        _ => None,
    };
    Ok(PlannedColumn {
        logical_name: attribute.logical_name.clone(),
        wire_name: attribute.wire_name(),
        kind: attribute.kind,
        date_only: attribute.date_time_behavior == Some(DateTimeBehavior::DateOnly),
        sole_target,
        source: WireSource::Property,
    })
}

/// A lookup's name (its formatted value), type (its target's logical name) or yomi name.
fn lookup_part_column(
    attribute: &AttributeMetadata,
    lookup: &AttributeMetadata,
    part: LookupPart,
) -> PlannedColumn {
    let lookup = lookup.wire_name();
    let term = match part {
        LookupPart::Name => Some(FORMATTED_VALUE),
        LookupPart::EntityType => Some(LOGICAL_NAME),
        LookupPart::YomiName => None,
    };
    let (wire_name, source) = match term {
        Some(term) => (annotation(&lookup, term), WireSource::Annotation { lookup }),
        None => (String::new(), WireSource::Absent),
    };
    PlannedColumn {
        logical_name: attribute.logical_name.clone(),
        wire_name,
        // The kind of the column itself (String, EntityName): the annotation is text.
        kind: attribute.kind,
        date_only: false,
        sole_target: None,
        source,
    }
}
