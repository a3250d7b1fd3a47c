//! The labeled views in SQL Server. `CREATE OR ALTER VIEW` runs after every plan, so the
//! view's `t.*` and its label columns follow the table. Multi-select labels split the values
//! with two-argument `STRING_SPLIT` (compatibility level 130 and up; the ordinal argument
//! would need 160) and keep the values' order by their position in the list.

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
            "(SELECT STRING_AGG(m.[LocalizedLabel], N'{separator}') WITHIN GROUP \
             (ORDER BY CHARINDEX(N',' + v.value + N',', N',' + {values} + N',')) \
             FROM STRING_SPLIT({values}, N',') AS v, {from} \
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
