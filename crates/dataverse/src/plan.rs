//! Column plans: which wire properties a read selects and how each becomes a [`Value`].
//!
//! [`Value`]: des_core::Value

use des_core::ports::SourceError;
use des_core::{AttributeKind, DateTimeBehavior, EntityMetadata};

/// The row version column; every read selects it.
pub(crate) const VERSION_NUMBER: &str = "versionnumber";

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
    pub sole_target: Option<String>,
}

impl PlannedColumn {
    /// The annotation that names a lookup's target table.
    pub fn target_annotation(&self) -> String {
        format!(
            "{}@Microsoft.Dynamics.CRM.lookuplogicalname",
            self.wire_name
        )
    }
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

    /// The `$select` value: the columns' wire names, the primary key and `versionnumber`.
    pub fn select_clause(&self) -> String {
        let mut names: Vec<&str> = self.columns.iter().map(|c| c.wire_name.as_str()).collect();
        for required in [self.primary_id.as_str(), VERSION_NUMBER] {
            if !names.contains(&required) {
                names.push(required);
            }
        }
        names.join(",")
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
    let sole_target = match attribute.targets.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    };
    Ok(PlannedColumn {
        logical_name: attribute.logical_name.clone(),
        wire_name: attribute.wire_name(),
        kind: attribute.kind,
        date_only: attribute.date_time_behavior == Some(DateTimeBehavior::DateOnly),
        sole_target,
    })
}
