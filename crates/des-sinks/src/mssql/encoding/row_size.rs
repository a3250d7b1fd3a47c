//! SQL Server's in-row size of a record, checked against its 8,060-byte limit.
//!
//! A data row is a 4-byte header, the fixed-length columns (NULL or not), the column count
//! and NULL bitmap, then the variable-length columns' count, a 2-byte offset each and their
//! bytes. A text value longer than a row-overflow pointer can be pushed off the page, leaving
//! 24 bytes in the row. Only the batch's own non-NULL text is counted (offsets of NULL columns
//! and values already in the row are not), so this is a lower bound: a record it refuses is
//! one SQL Server refuses too (error 511), and DES reported it the same way.

use des_core::schema::{ColumnDef, SqlType};
use tiberius::ColumnData;

/// The largest row SQL Server stores in a page.
pub const MAX_ROW_SIZE: usize = 8060;
/// What a pushed-off variable-length value leaves in the row.
const OVERFLOW_POINTER: usize = 24;
/// Status bits and the offset of the column count.
const ROW_HEADER: usize = 4;

/// The part of a table's row size that does not depend on the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSize {
    base: usize,
}

impl RowSize {
    pub fn new(columns: &[ColumnDef]) -> Self {
        let bits = columns.iter().filter(|c| c.ty == SqlType::Bit).count();
        let fixed: usize = columns.iter().filter_map(|c| fixed_size(c.ty)).sum();
        let null_bitmap = 2 + columns.len().div_ceil(8);
        Self {
            base: ROW_HEADER + fixed + bits.div_ceil(8) + null_bitmap,
        }
    }

    /// The smallest size a row with these cells can have; `Err` with DES's reason when it is
    /// over the limit.
    pub fn check<'c>(
        &self,
        cells: impl IntoIterator<Item = &'c ColumnData<'c>>,
    ) -> Result<(), String> {
        let (count, bytes) = cells
            .into_iter()
            .filter_map(in_row)
            .fold((0, 0), |(n, sum), b| (n + 1, sum + b));
        let offsets = if count == 0 { 0 } else { 2 + 2 * count };
        let size = self.base + offsets + bytes;
        if size > MAX_ROW_SIZE {
            return Err(format!(
                "Cannot create a row of size {size} which is greater than the allowable maximum row size of {MAX_ROW_SIZE}."
            ));
        }
        Ok(())
    }
}

/// Bytes a fixed-length type takes in every row; `None` for variable-length types. Bits are
/// packed eight to a byte and counted apart.
fn fixed_size(ty: SqlType) -> Option<usize> {
    match ty {
        SqlType::Guid => Some(16),
        SqlType::DateTime | SqlType::BigInt => Some(8),
        SqlType::Int => Some(4),
        SqlType::Bit => Some(0),
        SqlType::Decimal { precision, .. } => Some(match precision {
            0..=9 => 5,
            10..=19 => 9,
            20..=28 => 13,
            _ => 17,
        }),
        SqlType::Text { .. } => None,
    }
}

/// What a non-NULL text value keeps in the row at least (UTF-16: two bytes a unit).
fn in_row(cell: &ColumnData<'_>) -> Option<usize> {
    match cell {
        ColumnData::String(Some(s)) => Some((s.encode_utf16().count() * 2).min(OVERFLOW_POINTER)),
        _ => None,
    }
}
