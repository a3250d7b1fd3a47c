//! The `<table>_Labeled` views (des-core `schema::labels`) as each dialect writes them.
//!
//! Each label is a scalar subquery on the metadata tables, so a row whose value has no label
//! still shows (with a null label) and the view never multiplies rows.

use des_core::schema::{LabelColumn, LabelSource, LabeledView, MULTI_SELECT_SEPARATOR};

/// What differs between dialects.
pub trait ViewDialect {
    fn quote(&self, ident: &str) -> String;
    fn qualified(&self, schema: &str, name: &str) -> String;
    /// The literal `IsUserLocalizedLabel` is compared with (`1`, or `true` for a boolean).
    fn user_flag(&self) -> &'static str;
    /// `value` as an integer comparable with `Option` (booleans need a cast in PostgreSQL).
    fn as_option(&self, value: &str, is_bit: bool) -> String;
    /// The labels of the comma-separated value list `values`, in list order, joined by
    /// `separator`: the `"LocalizedLabel"` of the rows of `from` (alias `m`) that `filter`
    /// selects and whose `"Option"` is one of the values.
    fn joined_labels(&self, values: &str, from: &str, filter: &str, separator: &str) -> String;
}

/// `'text'`, with any `'` inside doubled. Entity and column names are logical names, but
/// nothing from metadata goes into SQL unescaped.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The view's `SELECT`: every table column, then each label column.
pub fn select(view: &LabeledView, d: &dyn ViewDialect) -> String {
    let mut items = vec!["t.*".to_owned()];
    for label in &view.labels {
        let sql = label_sql(view, label, d);
        items.push(format!("{sql} AS {}", d.quote(&label.name)));
    }
    format!(
        "SELECT {} FROM {} AS t",
        items.join(",\n    "),
        d.qualified(&view.schema, &view.table)
    )
}

fn label_sql(view: &LabeledView, label: &LabelColumn, d: &dyn ViewDialect) -> String {
    let q = |s: &str| d.quote(s);
    let value = format!("t.{}", q(&label.column));
    let (table, key) = match label.source {
        LabelSource::State => (&view.state_table, "State"),
        LabelSource::Status => (&view.status_table, "Status"),
        LabelSource::Option | LabelSource::MultiSelect => (&view.option_set_table, "Option"),
    };
    let mut filter = format!(
        "m.{} = {} AND m.{} = {}",
        q("EntityName"),
        literal(&view.entity),
        q("IsUserLocalizedLabel"),
        d.user_flag()
    );
    if matches!(label.source, LabelSource::Option | LabelSource::MultiSelect) {
        filter.push_str(&format!(
            " AND m.{} = {}",
            q("OptionSetName"),
            literal(&label.column)
        ));
    }
    let from = format!("{} AS m", d.qualified(&view.schema, table));
    if label.source == LabelSource::MultiSelect {
        return d.joined_labels(&value, &from, &filter, MULTI_SELECT_SEPARATOR);
    }
    format!(
        "(SELECT MIN(m.{}) FROM {from} WHERE {filter} AND m.{} = {})",
        q("LocalizedLabel"),
        q(key),
        d.as_option(&value, label.is_bit)
    )
}
