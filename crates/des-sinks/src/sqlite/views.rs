//! The labeled views in SQLite. SQLite has no schemas, so names are not qualified; a view's
//! `t.*` is expanded when the view is used, but label columns change with the plan, so the
//! view is dropped and created again each time a plan is applied.

use des_core::schema::{LabeledView, SchemaPlan, labeled_views};

use super::sql::quote;
use crate::views::{ViewDialect, select};

struct Sqlite;

impl ViewDialect for Sqlite {
    fn quote(&self, ident: &str) -> String {
        quote(ident)
    }

    fn qualified(&self, _schema: &str, name: &str) -> String {
        quote(name)
    }

    fn user_flag(&self) -> &'static str {
        "1"
    }

    fn as_option(&self, value: &str, _is_bit: bool) -> String {
        value.to_owned()
    }

    /// `json_each` reads `[1,3]` in order (`key` is the position).
    fn joined_labels(&self, values: &str, from: &str, filter: &str, separator: &str) -> String {
        format!(
            "(SELECT group_concat(l, '{separator}') FROM (SELECT m.\"LocalizedLabel\" AS l \
             FROM json_each('[' || {values} || ']') AS v, {from} \
             WHERE {filter} AND m.\"Option\" = v.value ORDER BY v.key))"
        )
    }
}

fn create(view: &LabeledView) -> String {
    format!(
        "CREATE VIEW {} AS\n{}",
        quote(&view.name),
        select(view, &Sqlite)
    )
}

/// `DROP VIEW IF EXISTS` then `CREATE VIEW` for every labeled view of the plan.
pub fn statements(plan: &SchemaPlan) -> Vec<String> {
    labeled_views(plan)
        .iter()
        .flat_map(|v| [format!("DROP VIEW IF EXISTS {}", quote(&v.name)), create(v)])
        .collect()
}
