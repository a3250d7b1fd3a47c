//! The emulated organisation's table definitions: what `EntityDefinitions` serves and what
//! the row store and generator follow.

pub mod catalog;
mod crm;
pub mod navigation;
pub mod security;

pub use catalog::Catalog;

use crate::generate::Gen;
use uuid::Uuid;

/// A column kind, with `Virtual` subtypes (multi-select, image, file) spelled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Memo,
    Integer,
    BigInt,
    Decimal,
    Double,
    Money,
    Boolean,
    DateTime,
    Picklist,
    State,
    Status,
    MultiSelect,
    Lookup,
    Customer,
    Owner,
    Uniqueidentifier,
    EntityName,
    Image,
    File,
}

impl Kind {
    /// Parses an `AttributeType` / kind name as `Control::add_attribute` receives it.
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "String" => Kind::String,
            "Memo" => Kind::Memo,
            "Integer" => Kind::Integer,
            "BigInt" => Kind::BigInt,
            "Decimal" => Kind::Decimal,
            "Double" => Kind::Double,
            "Money" => Kind::Money,
            "Boolean" => Kind::Boolean,
            "DateTime" => Kind::DateTime,
            "Uniqueidentifier" => Kind::Uniqueidentifier,
            _ => return None,
        })
    }

    /// `AttributeType` on the wire.
    pub fn wire_type(self) -> &'static str {
        match self {
            Kind::MultiSelect | Kind::Image | Kind::File => "Virtual",
            Kind::String => "String",
            Kind::Memo => "Memo",
            Kind::Integer => "Integer",
            Kind::BigInt => "BigInt",
            Kind::Decimal => "Decimal",
            Kind::Double => "Double",
            Kind::Money => "Money",
            Kind::Boolean => "Boolean",
            Kind::DateTime => "DateTime",
            Kind::Picklist => "Picklist",
            Kind::State => "State",
            Kind::Status => "Status",
            Kind::Lookup => "Lookup",
            Kind::Customer => "Customer",
            Kind::Owner => "Owner",
            Kind::Uniqueidentifier => "Uniqueidentifier",
            Kind::EntityName => "EntityName",
        }
    }

    /// `AttributeTypeName.Value` on the wire.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::MultiSelect => "MultiSelectPicklistType",
            Kind::Image => "ImageType",
            Kind::File => "FileType",
            Kind::Uniqueidentifier => "UniqueidentifierType",
            other => match other.wire_type() {
                "String" => "StringType",
                "Memo" => "MemoType",
                "Integer" => "IntegerType",
                "BigInt" => "BigIntType",
                "Decimal" => "DecimalType",
                "Double" => "DoubleType",
                "Money" => "MoneyType",
                "Boolean" => "BooleanType",
                "DateTime" => "DateTimeType",
                "Picklist" => "PicklistType",
                "State" => "StateType",
                "Status" => "StatusType",
                "Lookup" => "LookupType",
                "Customer" => "CustomerType",
                "Owner" => "OwnerType",
                _ => "EntityNameType",
            },
        }
    }

    /// The `Microsoft.Dynamics.CRM.<X>AttributeMetadata` type name.
    pub fn metadata_type(self) -> &'static str {
        match self {
            Kind::String => "StringAttributeMetadata",
            Kind::Memo => "MemoAttributeMetadata",
            Kind::Integer => "IntegerAttributeMetadata",
            Kind::BigInt => "BigIntAttributeMetadata",
            Kind::Decimal => "DecimalAttributeMetadata",
            Kind::Double => "DoubleAttributeMetadata",
            Kind::Money => "MoneyAttributeMetadata",
            Kind::Boolean => "BooleanAttributeMetadata",
            Kind::DateTime => "DateTimeAttributeMetadata",
            Kind::Picklist => "PicklistAttributeMetadata",
            Kind::State => "StateAttributeMetadata",
            Kind::Status => "StatusAttributeMetadata",
            Kind::MultiSelect => "MultiSelectPicklistAttributeMetadata",
            Kind::Lookup | Kind::Customer | Kind::Owner => "LookupAttributeMetadata",
            Kind::Uniqueidentifier => "UniqueIdentifierAttributeMetadata",
            Kind::EntityName => "EntityNameAttributeMetadata",
            Kind::Image => "ImageAttributeMetadata",
            Kind::File => "FileAttributeMetadata",
        }
    }

    pub fn is_lookup(self) -> bool {
        matches!(self, Kind::Lookup | Kind::Customer | Kind::Owner)
    }
}

/// One option of a choice column.
#[derive(Debug, Clone)]
pub struct OptionDef {
    pub value: i32,
    pub label: String,
    /// For status options: the statecode they belong to. For state options: the default status.
    pub state: Option<i32>,
}

/// A local or global option set.
#[derive(Debug, Clone)]
pub struct OptionSetDef {
    pub name: String,
    pub metadata_id: Uuid,
    pub is_global: bool,
    pub options: Vec<OptionDef>,
}

impl OptionSetDef {
    pub fn label(&self, value: i64) -> Option<&str> {
        self.options
            .iter()
            .find(|o| i64::from(o.value) == value)
            .map(|o| o.label.as_str())
    }
}

/// One column.
#[derive(Debug, Clone)]
pub struct AttrDef {
    pub logical_name: String,
    pub schema_name: String,
    pub display: String,
    pub kind: Kind,
    pub metadata_id: Uuid,
    pub column_number: i32,
    pub max_length: Option<i32>,
    pub precision: Option<i32>,
    pub targets: Vec<String>,
    pub date_only: bool,
    pub options: Option<OptionSetDef>,
    pub attribute_of: Option<String>,
    pub is_primary_id: bool,
    pub is_primary_name: bool,
    pub is_custom: bool,
    /// False for columns the Web API does not expose as properties (e.g. `owneridtype`).
    pub valid_odata: bool,
    pub sample: Gen,
}

impl AttrDef {
    /// The property name on the wire.
    pub fn wire_name(&self) -> String {
        if self.kind.is_lookup() {
            format!("_{}_value", self.logical_name)
        } else {
            self.logical_name.clone()
        }
    }

    /// Readable through `$select` and returned when no `$select` is given.
    pub fn is_property(&self) -> bool {
        self.valid_odata
    }
}

/// One table.
#[derive(Debug, Clone)]
pub struct EntityDef {
    pub logical_name: String,
    pub schema_name: String,
    pub entity_set: String,
    pub display: String,
    pub display_plural: String,
    pub primary_id: String,
    pub primary_name: Option<String>,
    pub object_type_code: i32,
    pub metadata_id: Uuid,
    pub change_tracking: bool,
    pub is_intersect: bool,
    pub is_custom: bool,
    pub ownership: &'static str,
    pub attributes: Vec<AttrDef>,
}

impl EntityDef {
    pub fn attr_index(&self, logical_name: &str) -> Option<usize> {
        self.attributes
            .iter()
            .position(|a| a.logical_name == logical_name)
    }

    /// Finds a column by its wire name (`_x_value` for lookups) or logical name.
    pub fn wire_index(&self, wire: &str) -> Option<usize> {
        let logical = wire
            .strip_prefix('_')
            .and_then(|w| w.strip_suffix("_value"))
            .unwrap_or(wire);
        self.attr_index(logical).filter(|&i| {
            self.attributes[i].wire_name() == wire || !self.attributes[i].kind.is_lookup()
        })
    }

    pub fn primary_index(&self) -> usize {
        self.attr_index(&self.primary_id).unwrap_or(0)
    }

    pub fn name_index(&self) -> Option<usize> {
        self.primary_name
            .as_deref()
            .and_then(|n| self.attr_index(n))
    }
}

/// An N:N relationship and its intersect table.
#[derive(Debug, Clone)]
pub struct ManyToMany {
    pub schema_name: String,
    pub entity1: String,
    pub entity2: String,
    pub intersect: String,
    pub entity1_attr: String,
    pub entity2_attr: String,
    pub entity1_nav: String,
    pub entity2_nav: String,
    pub is_custom: bool,
    pub metadata_id: Uuid,
}

/// Derives stable metadata ids from names so that restarts and reruns agree.
pub fn metadata_id(parts: &[&str]) -> Uuid {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut bytes = [0u8; 16];
    for (round, chunk) in bytes.chunks_mut(8).enumerate() {
        for p in parts {
            for b in p.bytes().chain([0u8, round as u8]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        chunk.copy_from_slice(&h.to_be_bytes());
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}
