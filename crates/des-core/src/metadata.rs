//! The Dataverse metadata model, as far as replication needs it.
//!
//! Filled by the Web API client from `EntityDefinitions`, `Attributes` (with their casts),
//! `GlobalOptionSetDefinitions` and `RelationshipDefinitions`; read by the schema planner.

use serde::{Deserialize, Serialize};

/// One row of the exportable-entities list (DES `entities` route).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitySummary {
    pub logical_name: String,
    pub display_name: Option<String>,
    pub entity_set_name: String,
    pub change_tracking_enabled: bool,
    pub is_intersect: bool,
}

/// A table's definition with the attributes replication reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityMetadata {
    pub logical_name: String,
    pub schema_name: String,
    pub entity_set_name: String,
    pub primary_id_attribute: String,
    pub primary_name_attribute: Option<String>,
    pub display_name: Option<String>,
    pub object_type_code: Option<i32>,
    pub metadata_id: String,
    pub change_tracking_enabled: bool,
    pub is_intersect: bool,
    pub attributes: Vec<AttributeMetadata>,
}

impl EntityMetadata {
    /// The attribute with this logical name, if the entity has it.
    pub fn attribute(&self, logical_name: &str) -> Option<&AttributeMetadata> {
        self.attributes
            .iter()
            .find(|a| a.logical_name == logical_name)
    }

    /// Attributes the Web API can return in `$select`, in column-number order.
    pub fn readable_attributes(&self) -> impl Iterator<Item = &AttributeMetadata> {
        self.attributes.iter().filter(|a| a.is_readable())
    }

    /// Attributes a DES table holds: the readable ones and the name, yomi-name and type
    /// columns of readable lookups (see [`EntityMetadata::lookup_part`]).
    pub fn exported_attributes(&self) -> impl Iterator<Item = &AttributeMetadata> {
        self.attributes
            .iter()
            .filter(|a| a.is_readable() || self.lookup_part(a).is_some())
    }

    /// When `attr` is a column Dataverse keeps beside one of this entity's readable lookups
    /// (its `AttributeOf` names the lookup): the lookup and which part of it `attr` holds.
    ///
    /// These columns (`owneridname`, `owneridyominame`, `owneridtype`) are no Web API
    /// properties (`IsValidODataAttribute` is false); their values travel as annotations of
    /// the lookup, so they are told apart by kind and name, not read with `$select`.
    pub fn lookup_part(
        &self,
        attr: &AttributeMetadata,
    ) -> Option<(&AttributeMetadata, LookupPart)> {
        let lookup = self.attribute(attr.attribute_of.as_deref()?)?;
        if !lookup.kind.is_lookup() || !lookup.is_readable() || !attr.is_valid_for_read {
            return None;
        }
        let part = match attr.kind {
            AttributeKind::EntityName => LookupPart::EntityType,
            AttributeKind::String if attr.logical_name.ends_with("yominame") => {
                LookupPart::YomiName
            }
            AttributeKind::String => LookupPart::Name,
            _ => return None,
        };
        Some((lookup, part))
    }
}

/// Which part of a lookup a companion column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LookupPart {
    /// `<lookup>name`: the referenced row's primary name (the lookup's formatted value).
    Name,
    /// `<lookup>yominame`: the phonetic name of the referenced row. No Web API annotation
    /// carries it, so it stays null.
    YomiName,
    /// `<lookup>type` (an EntityName column): the referenced table's logical name.
    EntityType,
}

/// The kind of a column: Dataverse's `AttributeType`, with the `Virtual` subtypes
/// (multi-select choice, image, file) told apart by `AttributeTypeName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AttributeKind {
    Boolean,
    Customer,
    DateTime,
    Decimal,
    Double,
    Integer,
    Lookup,
    Memo,
    Money,
    Owner,
    PartyList,
    Picklist,
    State,
    Status,
    String,
    Uniqueidentifier,
    CalendarRules,
    Virtual,
    BigInt,
    ManagedProperty,
    EntityName,
    MultiSelectPicklist,
    Image,
    File,
}

impl AttributeKind {
    /// Maps the wire pair (`AttributeType`, `AttributeTypeName.Value`) to a kind.
    /// Unknown names map to `Virtual`, which replication skips.
    pub fn from_wire(attribute_type: &str, type_name: Option<&str>) -> Self {
        match (attribute_type, type_name) {
            (_, Some("MultiSelectPicklistType")) => Self::MultiSelectPicklist,
            (_, Some("ImageType")) => Self::Image,
            (_, Some("FileType")) => Self::File,
            ("Boolean", _) => Self::Boolean,
            ("Customer", _) => Self::Customer,
            ("DateTime", _) => Self::DateTime,
            ("Decimal", _) => Self::Decimal,
            ("Double", _) => Self::Double,
            ("Integer", _) => Self::Integer,
            ("Lookup", _) => Self::Lookup,
            ("Memo", _) => Self::Memo,
            ("Money", _) => Self::Money,
            ("Owner", _) => Self::Owner,
            ("PartyList", _) => Self::PartyList,
            ("Picklist", _) => Self::Picklist,
            ("State", _) => Self::State,
            ("Status", _) => Self::Status,
            ("String", _) => Self::String,
            ("Uniqueidentifier", _) => Self::Uniqueidentifier,
            ("CalendarRules", _) => Self::CalendarRules,
            ("BigInt", _) => Self::BigInt,
            ("ManagedProperty", _) => Self::ManagedProperty,
            ("EntityName", _) => Self::EntityName,
            _ => Self::Virtual,
        }
    }

    /// The `AttributeType` string Dataverse sends for this kind.
    pub fn wire_type(self) -> &'static str {
        match self {
            Self::MultiSelectPicklist | Self::Image | Self::File | Self::Virtual => "Virtual",
            Self::Boolean => "Boolean",
            Self::Customer => "Customer",
            Self::DateTime => "DateTime",
            Self::Decimal => "Decimal",
            Self::Double => "Double",
            Self::Integer => "Integer",
            Self::Lookup => "Lookup",
            Self::Memo => "Memo",
            Self::Money => "Money",
            Self::Owner => "Owner",
            Self::PartyList => "PartyList",
            Self::Picklist => "Picklist",
            Self::State => "State",
            Self::Status => "Status",
            Self::String => "String",
            Self::Uniqueidentifier => "Uniqueidentifier",
            Self::CalendarRules => "CalendarRules",
            Self::BigInt => "BigInt",
            Self::ManagedProperty => "ManagedProperty",
            Self::EntityName => "EntityName",
        }
    }

    /// The `AttributeTypeName.Value` string Dataverse sends for this kind.
    pub fn wire_type_name(self) -> &'static str {
        match self {
            Self::MultiSelectPicklist => "MultiSelectPicklistType",
            Self::Image => "ImageType",
            Self::File => "FileType",
            Self::Virtual => "VirtualType",
            Self::Boolean => "BooleanType",
            Self::Customer => "CustomerType",
            Self::DateTime => "DateTimeType",
            Self::Decimal => "DecimalType",
            Self::Double => "DoubleType",
            Self::Integer => "IntegerType",
            Self::Lookup => "LookupType",
            Self::Memo => "MemoType",
            Self::Money => "MoneyType",
            Self::Owner => "OwnerType",
            Self::PartyList => "PartyListType",
            Self::Picklist => "PicklistType",
            Self::State => "StateType",
            Self::Status => "StatusType",
            Self::String => "StringType",
            Self::Uniqueidentifier => "UniqueidentifierType",
            Self::CalendarRules => "CalendarRulesType",
            Self::BigInt => "BigIntType",
            Self::ManagedProperty => "ManagedPropertyType",
            Self::EntityName => "EntityNameType",
        }
    }

    /// Lookup-like kinds travel as `_<name>_value` with a target-table annotation.
    pub fn is_lookup(self) -> bool {
        matches!(self, Self::Lookup | Self::Customer | Self::Owner)
    }

    /// Kinds whose values live in an option set.
    pub fn has_options(self) -> bool {
        matches!(
            self,
            Self::Picklist | Self::State | Self::Status | Self::MultiSelectPicklist | Self::Boolean
        )
    }
}

/// `DateTimeBehavior.Value` of a DateTime attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateTimeBehavior {
    UserLocal,
    DateOnly,
    TimeZoneIndependent,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeMetadata {
    pub logical_name: String,
    pub schema_name: String,
    pub metadata_id: String,
    pub kind: AttributeKind,
    /// The attribute this one extends (the `...name` companion of a lookup, say).
    pub attribute_of: Option<String>,
    pub is_valid_for_read: bool,
    /// True when the column is a Web API property (can be `$select`ed).
    pub is_valid_odata: bool,
    pub is_primary_id: bool,
    pub column_number: Option<i32>,
    /// `MaxLength` of String and Memo attributes.
    pub max_length: Option<i32>,
    /// `Precision` of Decimal, Double and Money attributes.
    pub precision: Option<i32>,
    /// `Targets` of lookup-like attributes.
    pub targets: Vec<String>,
    pub date_time_behavior: Option<DateTimeBehavior>,
    /// Options of choice, state, status, multi-select and boolean attributes.
    pub option_set: Option<OptionSetMetadata>,
}

impl AttributeMetadata {
    /// Readable through the Web API and not a skipped virtual column.
    pub fn is_readable(&self) -> bool {
        self.is_valid_for_read
            && self.is_valid_odata
            && !matches!(
                self.kind,
                AttributeKind::Virtual
                    | AttributeKind::CalendarRules
                    | AttributeKind::ManagedProperty
                    | AttributeKind::PartyList
                    | AttributeKind::Image
                    | AttributeKind::File
            )
    }

    /// The property name on the wire: `_<name>_value` for lookups, the logical name otherwise.
    pub fn wire_name(&self) -> String {
        if self.kind.is_lookup() {
            format!("_{}_value", self.logical_name)
        } else {
            self.logical_name.clone()
        }
    }
}

/// A label in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedLabel {
    pub label: String,
    pub language_code: i32,
}

/// A local or global option set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionSetMetadata {
    /// The option set's name (for a local one, Dataverse names it `<entity>_<attribute>`).
    pub name: String,
    pub is_global: bool,
    pub options: Vec<OptionMetadata>,
}

/// One option of an option set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionMetadata {
    pub value: i32,
    pub labels: Vec<LocalizedLabel>,
    /// The user's label, when Dataverse sent `UserLocalizedLabel`.
    pub user_localized_label: Option<LocalizedLabel>,
    /// For status options: the statecode they belong to.
    pub state: Option<i32>,
}

/// An N:N relationship; DES exports each selected one as a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManyToManyRelationship {
    pub schema_name: String,
    pub entity1_logical_name: String,
    pub entity2_logical_name: String,
    pub intersect_entity_name: String,
    pub entity1_intersect_attribute: String,
    pub entity2_intersect_attribute: String,
    pub metadata_id: String,
}
