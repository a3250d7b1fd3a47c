//! The columns Dataverse fills itself on every write: who and when (`createdby`/`createdon`,
//! `modifiedby`/`modifiedon`), the owner's parts (`owninguser`/`owningteam`, the owning
//! business unit), `fullname` from the first and last names, and the `_base` twin of each
//! money column (the organisation currency's exchange rate is 1). Writes are made by the
//! application user (`Store::actor`), whoever's token sent them.

use super::{Cell, Store};
use crate::generate::{Gen, owned_by};
use crate::schema::{EntityDef, Kind};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn text(cell: &Cell) -> Option<&str> {
    match cell {
        Cell::Text(s) if !s.trim().is_empty() => Some(s.trim()),
        _ => None,
    }
}

impl Store {
    /// Fills the computed columns of `cells` for a create (`creating`) or an update.
    pub(super) fn compute(&self, e: usize, cells: &mut [Cell], creating: bool) {
        let def = &self.catalog.entities[e];
        let len = cells.len();
        let at = |name: &str| def.attr_index(name).filter(|&i| i < len);
        let stamp = Cell::Time(now());
        let actor = Cell::Ref(self.actor, 0);
        if creating {
            self.defaults(def, cells);
        }
        for name in ["modifiedon", "modifiedby"] {
            if let Some(i) = at(name) {
                cells[i] = if name == "modifiedon" {
                    stamp.clone()
                } else {
                    actor.clone()
                };
            }
        }
        if let Some(owner) = at("ownerid").map(|i| cells[i].clone()) {
            for (name, slot) in [("owninguser", 0), ("owningteam", 1)] {
                if let Some(i) = at(name) {
                    cells[i] = owned_by(&owner, slot);
                }
            }
        }
        full_name(def, cells);
        for (i, a) in def.attributes.iter().enumerate().take(cells.len()) {
            if let Gen::BaseOf(of) = a.sample
                && let Some(j) = def.attr_index(of)
            {
                cells[i] = cells.get(j).cloned().unwrap_or(Cell::Null);
            }
        }
    }

    /// What a new row gets unless the body says otherwise: created now by the actor, owned by
    /// the actor in the root business unit, active, in the organisation's currency.
    fn defaults(&self, def: &EntityDef, cells: &mut [Cell]) {
        let first = |table: &str| {
            self.entity_index(table)
                .filter(|&t| self.tables[t].generated > 0)
                .map(|t| Cell::Ref(self.generated_id(t, 0), 0))
                .unwrap_or(Cell::Null)
        };
        let has_money = def
            .attributes
            .iter()
            .zip(cells.iter())
            .any(|(a, c)| a.kind == Kind::Money && *c != Cell::Null);
        for (i, a) in def.attributes.iter().enumerate().take(cells.len()) {
            if cells[i] != Cell::Null {
                continue;
            }
            cells[i] = match a.logical_name.as_str() {
                "createdon" => Cell::Time(now()),
                "createdby" | "ownerid" => Cell::Ref(self.actor, 0),
                "owningbusinessunit" => first("businessunit"),
                "statecode" => Cell::Int(0),
                "statuscode" => Cell::Int(1),
                "transactioncurrencyid" if has_money => first("transactioncurrency"),
                "exchangerate" if has_money => Cell::Dec(10_000_000_000),
                _ => continue,
            };
        }
    }
}

/// `fullname` is "first last" when the table has the parts and either is given.
fn full_name(def: &EntityDef, cells: &mut [Cell]) {
    let (Some(f), Some(l), Some(full)) = (
        def.attr_index("firstname"),
        def.attr_index("lastname"),
        def.attr_index("fullname"),
    ) else {
        return;
    };
    let parts: Vec<&str> = [cells.get(f), cells.get(l)]
        .into_iter()
        .flatten()
        .filter_map(text)
        .collect();
    if !parts.is_empty() && full < cells.len() {
        cells[full] = Cell::Text(parts.join(" "));
    }
}
