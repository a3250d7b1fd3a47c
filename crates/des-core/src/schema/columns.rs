//! DES's type mapping and column order for one entity's attributes.

use super::types::{ColumnDef, ColumnSource, SqlType};
use crate::metadata::{AttributeKind, AttributeMetadata, EntityMetadata};

/// DES wrote every Decimal, Double and Money as `decimal(38, <precision>)`.
const DECIMAL_PRECISION: u8 = 38;
/// Longest `nvarchar(n)` SQL Server has; longer strings become `nvarchar(max)`.
const NVARCHAR_LIMIT: i32 = 4000;
/// `<attr>_entitytype` and `EntityName` widths DES used.
const ENTITY_TYPE_LEN: u32 = 128;
const ENTITY_NAME_LEN: u32 = 4000;
/// Dataverse's default precision for Decimal, Double and Money when metadata has none.
const DEFAULT_SCALE: i32 = 2;
/// DES wrote the `_base` money columns as `decimal(38, 4)` whatever their precision.
const MONEY_BASE_SCALE: u8 = 4;

pub(super) const VERSION_COLUMN: &str = "versionnumber";

/// The SQL type DES gave an attribute, or `None` for kinds it did not export.
///
/// Multi-select choices postdate DES; we store their value list as text, the way the Web API
/// returns it (`"1,3"`), so no option is lost and the labels stay in `OptionSetMetadata`.
pub fn sql_type(attr: &AttributeMetadata) -> Option<SqlType> {
    use AttributeKind as K;
    let ty = match attr.kind {
        K::Uniqueidentifier | K::Lookup | K::Customer | K::Owner => SqlType::Guid,
        K::EntityName => text(Some(ENTITY_NAME_LEN)),
        K::Picklist | K::State | K::Status | K::Integer => SqlType::Int,
        K::Boolean => SqlType::Bit,
        K::BigInt => SqlType::BigInt,
        K::Decimal | K::Double => decimal(scale_of(attr.precision)),
        K::Money if attr.logical_name.ends_with("_base") => decimal(MONEY_BASE_SCALE),
        K::Money => decimal(scale_of(attr.precision)),
        K::String => string(attr.max_length),
        K::Memo | K::MultiSelectPicklist => text(None),
        K::DateTime => SqlType::DateTime,
        K::PartyList | K::CalendarRules | K::Virtual | K::ManagedProperty | K::Image | K::File => {
            return None;
        }
    };
    Some(ty)
}

fn text(max_len: Option<u32>) -> SqlType {
    SqlType::Text { max_len }
}

fn decimal(scale: u8) -> SqlType {
    SqlType::Decimal {
        precision: DECIMAL_PRECISION,
        scale,
    }
}

fn scale_of(precision: Option<i32>) -> u8 {
    let p = precision
        .unwrap_or(DEFAULT_SCALE)
        .clamp(0, i32::from(DECIMAL_PRECISION));
    u8::try_from(p).unwrap_or(DECIMAL_PRECISION)
}

fn string(max_length: Option<i32>) -> SqlType {
    match max_length {
        Some(n) if n > 0 && n <= NVARCHAR_LIMIT => text(u32::try_from(n).ok()),
        _ => text(None),
    }
}

/// Where an attribute sits in DES's column order: statecode, statuscode, option sets,
/// booleans, lookups, money, then everything else (observed in DES script-outs).
fn group(attr: &AttributeMetadata) -> u8 {
    use AttributeKind as K;
    match (attr.logical_name.as_str(), attr.kind) {
        ("statecode", _) => 0,
        ("statuscode", _) => 1,
        (_, K::Picklist | K::State | K::Status | K::MultiSelectPicklist) => 2,
        (_, K::Boolean) => 3,
        (_, kind) if kind.is_lookup() => 4,
        (_, K::Money) => 5,
        _ => 6,
    }
}

/// `Id`, `SinkCreatedOn`, `SinkModifiedOn`: the columns DES put first in every data table.
pub(super) fn sink_columns() -> Vec<ColumnDef> {
    vec![
        column("Id", SqlType::Guid, false, ColumnSource::Id),
        column(
            "SinkCreatedOn",
            SqlType::DateTime,
            true,
            ColumnSource::SinkCreatedOn,
        ),
        column(
            "SinkModifiedOn",
            SqlType::DateTime,
            true,
            ColumnSource::SinkModifiedOn,
        ),
    ]
}

pub(super) fn column(name: &str, ty: SqlType, nullable: bool, source: ColumnSource) -> ColumnDef {
    ColumnDef {
        name: name.to_owned(),
        ty,
        nullable,
        source,
    }
}

pub(super) fn attribute_column(name: &str, ty: SqlType) -> ColumnDef {
    column(name, ty, true, ColumnSource::Attribute(name.to_owned()))
}

/// Every exported column of an entity, after the sink columns, in DES order. A lookup's
/// name, yomi-name and type columns (`owneridname`, `owneridtype`) are exported as DES did,
/// typed from their own metadata; the source fills them from the lookup's annotations.
pub(super) fn entity_columns(entity: &EntityMetadata) -> Vec<ColumnDef> {
    let mut attrs: Vec<&AttributeMetadata> = entity.exported_attributes().collect();
    attrs.sort_by_key(|a| {
        (
            group(a),
            a.column_number.unwrap_or(i32::MAX),
            a.logical_name.clone(),
        )
    });
    let mut columns = sink_columns();
    for attr in attrs {
        let Some(ty) = sql_type(attr) else { continue };
        let name = attr.logical_name.to_ascii_lowercase();
        push_unique(&mut columns, attribute_column(&name, ty));
        if attr.kind.is_lookup() {
            push_unique(&mut columns, entity_type_column(&name));
        }
    }
    push_unique(
        &mut columns,
        attribute_column(VERSION_COLUMN, SqlType::BigInt),
    );
    columns
}

fn entity_type_column(lookup: &str) -> ColumnDef {
    let name = format!("{lookup}_entitytype");
    let source = ColumnSource::LookupEntityType(lookup.to_owned());
    column(&name, text(Some(ENTITY_TYPE_LEN)), true, source)
}

/// Adds a column unless one of that name (SQL names are case-insensitive) is already there.
pub(super) fn push_unique(columns: &mut Vec<ColumnDef>, col: ColumnDef) {
    if !columns
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(&col.name))
    {
        columns.push(col);
    }
}
