//! The labeled views in SQL Server. `CREATE OR ALTER VIEW` runs after every plan, so the
//! view's `t.*` and its label columns follow the table. Multi-select labels use
//! `STRING_SPLIT(..., 1)` for the values' order (SQL Server 2022 and Azure SQL).

use des_core::schema::{LabeledView, SchemaPlan, labeled_views};

use super::sql::{qualified, quote};
use crate::views::{ViewDialect, select};

struct TSql;

impl ViewDialect for TSql {
    fn quote(&self, ident: &str) -> String {
        quote(ident)
    }

    fn qualified(&self, schema: &str, name: &str) -> String {
        qualified(schema, name)
    }

    fn user_flag(&self) -> &'static str {
        "1"
    }

    fn as_option(&self, value: &str, _is_bit: bool) -> String {
        value.to_owned()
    }

    fn joined_labels(&self, values: &str, from: &str, filter: &str, separator: &str) -> String {
        format!(
            "(SELECT STRING_AGG(m.[LocalizedLabel], N'{separator}') WITHIN GROUP (ORDER BY v.ordinal) \
             FROM STRING_SPLIT({values}, N',', 1) AS v, {from} \
             WHERE {filter} AND m.[Option] = TRY_CAST(v.value AS int))"
        )
    }
}

fn create(view: &LabeledView) -> String {
    format!(
        "CREATE OR ALTER VIEW {} AS\n{}",
        qualified(&view.schema, &view.name),
        select(view, &TSql)
    )
}

/// `CREATE OR ALTER VIEW` of every labeled view of the plan.
pub fn statements(plan: &SchemaPlan) -> Vec<String> {
    labeled_views(plan).iter().map(create).collect()
}
