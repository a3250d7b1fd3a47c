//! Text cells: which values may become text, and DES's `nvarchar(n)` length check.

use std::borrow::Cow;

use des_core::Value;
use des_core::schema::ColumnDef;

/// The text a value is written as in a text column; `None` for values that have none.
pub fn as_text(value: &Value) -> Option<Cow<'_, str>> {
    Some(match value {
        Value::Text(s) | Value::Decimal(s) => Cow::Borrowed(s.as_str()),
        Value::Int(i) => Cow::Owned(i.to_string()),
        Value::Float(f) => Cow::Owned(f.to_string()),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        Value::Guid(id) => Cow::Owned(id.hyphenated().to_string()),
        _ => return None,
    })
}

/// Fails with DES's reason when the text is longer than the column's `nvarchar(max_len)`.
pub fn check_length(text: &str, max_len: Option<u32>, col: &ColumnDef) -> Result<(), String> {
    match max_len {
        Some(max) if longer_than(text, max as usize) => Err(format!(
            "String length in source longer than destination schema for [{}, {max}]",
            col.name
        )),
        _ => Ok(()),
    }
}

/// `nvarchar(n)` counts UTF-16 code units; a UTF-8 string never has more units than bytes,
/// so most strings are settled without counting.
fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.encode_utf16().count() > max
}
