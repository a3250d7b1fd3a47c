//! The JSON shapes of `EntityDefinitions`, `Attributes`, option sets and relationships, and
//! their conversion into the des-core metadata model. Every field defaults, so a `$select`
//! that leaves some out still parses.

use des_core::{
    AttributeKind, AttributeMetadata, EntityMetadata, EntitySummary, LocalizedLabel,
    ManyToManyRelationship, OptionMetadata, OptionSetMetadata,
};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Label {
    localized_labels: Vec<LabelText>,
    user_localized_label: Option<LabelText>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "PascalCase")]
struct LabelText {
    label: String,
    language_code: i32,
}

impl Label {
    /// The user's label, else the first localized one.
    fn text(&self) -> Option<String> {
        let chosen = self
            .user_localized_label
            .as_ref()
            .or(self.localized_labels.first());
        chosen.map(|l| l.label.clone())
    }
}

impl From<LabelText> for LocalizedLabel {
    fn from(l: LabelText) -> Self {
        Self {
            label: l.label,
            language_code: l.language_code,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Entity {
    logical_name: String,
    schema_name: String,
    entity_set_name: String,
    primary_id_attribute: String,
    primary_name_attribute: Option<String>,
    display_name: Option<Label>,
    object_type_code: Option<i32>,
    metadata_id: String,
    change_tracking_enabled: bool,
    is_intersect: bool,
    attributes: Vec<Attribute>,
}

impl Entity {
    pub(crate) fn summary(self) -> EntitySummary {
        EntitySummary {
            display_name: self.display_name.as_ref().and_then(Label::text),
            logical_name: self.logical_name,
            entity_set_name: self.entity_set_name,
            change_tracking_enabled: self.change_tracking_enabled,
            is_intersect: self.is_intersect,
        }
    }

    pub(crate) fn metadata(self) -> EntityMetadata {
        EntityMetadata {
            display_name: self.display_name.as_ref().and_then(Label::text),
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::metadata)
                .collect(),
            logical_name: self.logical_name,
            schema_name: self.schema_name,
            entity_set_name: self.entity_set_name,
            primary_id_attribute: self.primary_id_attribute,
            primary_name_attribute: self.primary_name_attribute,
            object_type_code: self.object_type_code,
            metadata_id: self.metadata_id,
            change_tracking_enabled: self.change_tracking_enabled,
            is_intersect: self.is_intersect,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Attribute {
    #[serde(rename = "@odata.type")]
    odata_type: Option<String>,
    logical_name: String,
    schema_name: String,
    metadata_id: String,
    attribute_type: Option<String>,
    attribute_type_name: Option<TypeName>,
    attribute_of: Option<String>,
    is_valid_for_read: Option<bool>,
    #[serde(rename = "IsValidODataAttribute")]
    is_valid_odata_attribute: Option<bool>,
    is_primary_id: Option<bool>,
    column_number: Option<i32>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct TypeName {
    value: String,
}

impl Attribute {
    pub(crate) fn metadata(self) -> AttributeMetadata {
        AttributeMetadata {
            kind: self.kind(),
            logical_name: self.logical_name,
            schema_name: self.schema_name,
            metadata_id: self.metadata_id,
            attribute_of: self.attribute_of,
            is_valid_for_read: self.is_valid_for_read.unwrap_or(true),
            is_valid_odata: self.is_valid_odata_attribute.unwrap_or(true),
            is_primary_id: self.is_primary_id.unwrap_or(false),
            column_number: self.column_number,
            max_length: None,
            precision: None,
            targets: Vec::new(),
            date_time_behavior: None,
            option_set: None,
        }
    }

    /// From `AttributeType`/`AttributeTypeName`, or from `@odata.type` when only that was sent.
    fn kind(&self) -> AttributeKind {
        let type_name = self.attribute_type_name.as_ref().map(|t| t.value.as_str());
        if let Some(attribute_type) = &self.attribute_type {
            return AttributeKind::from_wire(attribute_type, type_name);
        }
        let stem = self
            .odata_type
            .as_deref()
            .and_then(|t| {
                t.trim_start_matches('#')
                    .strip_prefix("Microsoft.Dynamics.CRM.")
            })
            .and_then(|t| t.strip_suffix("AttributeMetadata"))
            .unwrap_or_default();
        let stem = if stem == "UniqueIdentifier" {
            "Uniqueidentifier"
        } else {
            stem
        };
        AttributeKind::from_wire(stem, Some(&format!("{stem}Type")))
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct OptionSet {
    name: Option<String>,
    is_global: Option<bool>,
    options: Vec<OptionItem>,
    true_option: Option<OptionItem>,
    false_option: Option<OptionItem>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct OptionItem {
    value: i32,
    label: Label,
    state: Option<i32>,
}

impl OptionSet {
    /// The model's option set; `fallback_name` names a local set that came without `Name`.
    pub(crate) fn metadata(self, fallback_name: &str, global: bool) -> OptionSetMetadata {
        let booleans = self.false_option.into_iter().chain(self.true_option);
        let options = self
            .options
            .into_iter()
            .chain(booleans)
            .map(OptionItem::metadata)
            .collect();
        OptionSetMetadata {
            name: self
                .name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| fallback_name.to_owned()),
            is_global: self.is_global.unwrap_or(global),
            options,
        }
    }
}

impl OptionItem {
    fn metadata(self) -> OptionMetadata {
        OptionMetadata {
            value: self.value,
            user_localized_label: self.label.user_localized_label.clone().map(Into::into),
            labels: self
                .label
                .localized_labels
                .into_iter()
                .map(Into::into)
                .collect(),
            state: self.state,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub(crate) struct Relationship {
    schema_name: String,
    entity1_logical_name: String,
    entity2_logical_name: String,
    intersect_entity_name: String,
    entity1_intersect_attribute: String,
    entity2_intersect_attribute: String,
    metadata_id: String,
}

impl From<Relationship> for ManyToManyRelationship {
    fn from(r: Relationship) -> Self {
        Self {
            schema_name: r.schema_name,
            entity1_logical_name: r.entity1_logical_name,
            entity2_logical_name: r.entity2_logical_name,
            intersect_entity_name: r.intersect_entity_name,
            entity1_intersect_attribute: r.entity1_intersect_attribute,
            entity2_intersect_attribute: r.entity2_intersect_attribute,
            metadata_id: r.metadata_id,
        }
    }
}

/// An OData collection: `{"value":[...]}`.
#[derive(Deserialize)]
pub(crate) struct Collection<T> {
    pub(crate) value: Vec<T>,
}
