//! DES's per-record checks, the same for every SQL target.
//!
//! A value the target would refuse would abort a whole batch, so each sink checks every limit
//! first and reports the record in DES's (SQL Server's) words. Reasons name the column and its
//! limit, never the value.

pub mod decimal;
pub mod text;

use des_core::schema::{ColumnDef, SqlType};

/// DES's (SQL Server's) name of a column type, as failure reasons print it.
pub fn des_type_name(ty: SqlType) -> String {
    match ty {
        SqlType::Guid => "uniqueidentifier".into(),
        SqlType::DateTime => "datetime".into(),
        SqlType::Int => "int".into(),
        SqlType::BigInt => "bigint".into(),
        SqlType::Bit => "bit".into(),
        SqlType::Decimal { precision, scale } => format!("decimal({precision}, {scale})"),
        SqlType::Text { max_len: Some(n) } => format!("nvarchar({n})"),
        SqlType::Text { max_len: None } => "nvarchar(max)".into(),
    }
}

/// The reason for a value of the wrong kind for its column.
pub fn mismatch(col: &ColumnDef) -> String {
    format!(
        "Source type does not match destination schema for [{}, {}]",
        col.name,
        des_type_name(col.ty)
    )
}

/// The reason for an integer outside `int`.
pub fn int_overflow(col: &ColumnDef) -> String {
    format!(
        "Arithmetic overflow error converting expression to data type int for [{}]",
        col.name
    )
}

/// `i` when it fits an `int` column, else the per-record reason.
pub fn int32(i: i64, col: &ColumnDef) -> Result<i32, String> {
    i32::try_from(i).map_err(|_| int_overflow(col))
}

/// Columns for the encoders' unit tests.
#[cfg(test)]
pub mod fixtures {
    use des_core::schema::{ColumnDef, ColumnSource, SqlType};

    /// A nullable column filled from the attribute of the same name.
    pub fn col(name: &str, ty: SqlType) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            ty,
            nullable: true,
            source: ColumnSource::Attribute(name.into()),
        }
    }

    /// DES's `decimal(38, 2)`.
    pub fn money() -> SqlType {
        SqlType::Decimal {
            precision: 38,
            scale: 2,
        }
    }
}
