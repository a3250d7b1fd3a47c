//! The labeled views in PostgreSQL. A view's `t.*` is fixed when it is created and a view
//! blocks changing the type of a column it reads, so each plan drops the views before the
//! tables evolve and creates them again afterwards, in the same transaction.

use des_core::schema::{LabeledView, SchemaPlan, labeled_views};

use super::sql::{qualified, quote};
use crate::views::{ViewDialect, select};

struct Postgres;

impl ViewDialect for Postgres {
    fn quote(&self, ident: &str) -> String {
        quote(ident)
    }

    fn qualified(&self, schema: &str, name: &str) -> String {
        qualified(schema, name)
    }

    fn user_flag(&self) -> &'static str {
        "true"
    }

    fn as_option(&self, value: &str, is_bit: bool) -> String {
        if is_bit {
            format!("{value}::int")
        } else {
            value.to_owned()
        }
    }

    fn joined_labels(&self, values: &str, from: &str, filter: &str, separator: &str) -> String {
        format!(
            "(SELECT string_agg(m.\"LocalizedLabel\", '{separator}' ORDER BY v.n) \
             FROM unnest(string_to_array({values}, ',')) WITH ORDINALITY AS v(o, n), {from} \
             WHERE {filter} AND m.\"Option\" = btrim(v.o)::int)"
        )
    }
}

fn name(view: &LabeledView) -> String {
    qualified(&view.schema, &view.name)
}

/// `DROP VIEW IF EXISTS` of every labeled view of the plan.
pub fn drops(plan: &SchemaPlan) -> Vec<String> {
    labeled_views(plan)
        .iter()
        .map(|v| format!("DROP VIEW IF EXISTS {}", name(v)))
        .collect()
}

/// `CREATE VIEW` of every labeled view of the plan.
pub fn creates(plan: &SchemaPlan) -> Vec<String> {
    labeled_views(plan)
        .iter()
        .map(|v| format!("CREATE VIEW {} AS\n{}", name(v), select(v, &Postgres)))
        .collect()
}
