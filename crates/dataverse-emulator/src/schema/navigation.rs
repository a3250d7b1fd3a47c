//! Navigation properties, derived from the lookups and N:N relationships of the catalog:
//! what `$metadata` declares and what `$expand` follows.

use super::{AttrDef, Catalog, EntityDef, Kind};

/// A single-valued navigation property: the lookup column it follows and where it leads.
#[derive(Debug, Clone)]
pub struct SingleNav<'a> {
    pub name: String,
    pub attr: &'a AttrDef,
    /// The table it leads to; `None` for an owner, which is a user or a team (`principal`).
    pub target: Option<&'a EntityDef>,
}

/// The single-valued navigation properties of `def`, named as the service names them: the
/// lookup's logical name, or `<lookup>_<target>` for each target of a polymorphic lookup
/// (an owner keeps its own name and leads to `principal`). Targets outside the catalog have
/// none.
pub fn single_valued<'a>(cat: &'a Catalog, def: &'a EntityDef) -> Vec<SingleNav<'a>> {
    let mut out = Vec::new();
    for a in &def.attributes {
        if !a.kind.is_lookup() || !a.is_property() {
            continue;
        }
        let targets: Vec<&EntityDef> = a
            .targets
            .iter()
            .filter_map(|t| cat.index(t).map(|i| &cat.entities[i]))
            .collect();
        if a.kind == Kind::Owner {
            out.push(SingleNav {
                name: a.logical_name.clone(),
                attr: a,
                target: None,
            });
        } else if a.targets.len() == 1 {
            out.extend(targets.first().map(|t| SingleNav {
                name: a.logical_name.clone(),
                attr: a,
                target: Some(t),
            }));
        } else {
            out.extend(targets.into_iter().map(|t| SingleNav {
                name: format!("{}_{}", a.logical_name, t.logical_name),
                attr: a,
                target: Some(t),
            }));
        }
    }
    out
}

/// A collection-valued navigation property over an N:N relationship.
pub struct CollectionNav<'a> {
    pub name: &'a str,
    pub target: &'a EntityDef,
}

pub fn collection_valued<'a>(cat: &'a Catalog, def: &EntityDef) -> Vec<CollectionNav<'a>> {
    let mut out = Vec::new();
    for r in &cat.many_to_many {
        let sides = [
            (&r.entity1, &r.entity2, &r.entity1_nav),
            (&r.entity2, &r.entity1, &r.entity2_nav),
        ];
        for (this, other, nav) in sides {
            let Some(target) = cat.index(other).map(|i| &cat.entities[i]) else {
                continue;
            };
            // A self-referencing N:N would list its navigation property twice.
            if *this == def.logical_name && !out.iter().any(|n: &CollectionNav| n.name == nav) {
                out.push(CollectionNav { name: nav, target });
            }
        }
    }
    out
}
