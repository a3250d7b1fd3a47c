//! Type-specific attribute details, read through casts such as
//! `Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata` (the plain `Attributes`
//! expansion carries only the common properties).

use des_core::{AttributeMetadata, DateTimeBehavior};
use serde::Deserialize;

use super::wire::OptionSet;

/// One cast query: the attributes of one metadata type (the kinds the model reads from it
/// are in `Detail::apply`).
pub(crate) struct Cast {
    pub(crate) type_name: &'static str,
    query: &'static str,
}

const OPTIONS: &str = "$select=LogicalName&$expand=OptionSet,GlobalOptionSet";

/// Every cast the model needs. Customer and Owner attributes are `LookupAttributeMetadata`.
pub(crate) const CASTS: &[Cast] = &[
    cast("StringAttributeMetadata", "$select=LogicalName,MaxLength"),
    cast("MemoAttributeMetadata", "$select=LogicalName,MaxLength"),
    cast("DecimalAttributeMetadata", "$select=LogicalName,Precision"),
    cast("DoubleAttributeMetadata", "$select=LogicalName,Precision"),
    cast("MoneyAttributeMetadata", "$select=LogicalName,Precision"),
    cast(
        "DateTimeAttributeMetadata",
        "$select=LogicalName,DateTimeBehavior",
    ),
    cast("LookupAttributeMetadata", "$select=LogicalName,Targets"),
    cast("PicklistAttributeMetadata", OPTIONS),
    cast("StateAttributeMetadata", OPTIONS),
    cast("StatusAttributeMetadata", OPTIONS),
    cast("MultiSelectPicklistAttributeMetadata", OPTIONS),
    cast("BooleanAttributeMetadata", OPTIONS),
];

const fn cast(type_name: &'static str, query: &'static str) -> Cast {
    Cast { type_name, query }
}

impl Cast {
    /// The request path for `entity`'s attributes of this type.
    pub(crate) fn path(&self, entity: &str) -> String {
        let quoted = entity.replace('\'', "''");
        let (type_name, query) = (self.type_name, self.query);
        format!(
            "EntityDefinitions(LogicalName='{quoted}')/Attributes/Microsoft.Dynamics.CRM.{type_name}?{query}"
        )
    }
}

/// One attribute as a cast returns it.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Detail {
    pub(crate) logical_name: String,
    max_length: Option<i32>,
    precision: Option<i32>,
    date_time_behavior: Option<Behavior>,
    targets: Option<Vec<String>>,
    option_set: Option<OptionSet>,
    global_option_set: Option<OptionSet>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct Behavior {
    value: String,
}

impl Detail {
    /// Copies the details onto `attribute` of `entity`.
    pub(crate) fn apply(mut self, entity: &str, attribute: &mut AttributeMetadata) {
        attribute.max_length = self.max_length.or(attribute.max_length);
        attribute.precision = self.precision.or(attribute.precision);
        if let Some(targets) = self.targets.take() {
            attribute.targets = targets;
        }
        if let Some(behavior) = self
            .date_time_behavior
            .as_ref()
            .and_then(|b| behavior(&b.value))
        {
            attribute.date_time_behavior = Some(behavior);
        }
        let local_name = format!("{entity}_{}", attribute.logical_name);
        if let Some(options) = self.option_set_metadata(&local_name) {
            attribute.option_set = Some(options);
        }
    }

    /// The global set when the attribute uses one, else its local set.
    pub(crate) fn option_set_metadata(
        self,
        local_name: &str,
    ) -> Option<des_core::OptionSetMetadata> {
        match (self.global_option_set, self.option_set) {
            (Some(global), _) => Some(global.metadata(local_name, true)),
            (None, Some(local)) => Some(local.metadata(local_name, false)),
            (None, None) => None,
        }
    }
}

fn behavior(value: &str) -> Option<DateTimeBehavior> {
    match value {
        "UserLocal" => Some(DateTimeBehavior::UserLocal),
        "DateOnly" => Some(DateTimeBehavior::DateOnly),
        "TimeZoneIndependent" => Some(DateTimeBehavior::TimeZoneIndependent),
        _ => None,
    }
}
