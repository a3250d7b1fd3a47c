//! Which entities and M:N relationships a command exports, read from the source's metadata.

use anyhow::bail;
use des_core::ports::Source;
use des_core::profile::Profile;
use des_core::schema::{self, Naming, SchemaPlan};
use des_core::{EntityMetadata, EntitySummary, ManyToManyRelationship, OptionSetMetadata};

/// The metadata of the exported entities and of the M:N relationships between them.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub entities: Vec<EntityMetadata>,
    /// Each exported M:N relationship with its intersect entity's metadata.
    pub relationships: Vec<(ManyToManyRelationship, EntityMetadata)>,
    pub option_sets: Vec<OptionSetMetadata>,
}

impl Catalog {
    /// `wanted` empty means every change-tracked entity; named ones must exist and be
    /// change-tracked (DES exported nothing else). Relationships are those whose both sides
    /// are exported and whose intersect entity is change-tracked, so its rows can be read
    /// incrementally like an entity's.
    pub async fn load(source: &dyn Source, wanted: &[String]) -> anyhow::Result<Self> {
        let all = source.entities().await?;
        let names = select_entities(&all, wanted)?;
        let mut entities = Vec::with_capacity(names.len());
        for name in &names {
            entities.push(source.entity_metadata(name).await?);
        }
        let mut relationships = Vec::new();
        for r in source.relationships().await? {
            let exported = |e: &String| names.contains(e);
            let sides = exported(&r.entity1_logical_name) && exported(&r.entity2_logical_name);
            if sides && is_tracked(&all, &r.intersect_entity_name) {
                let intersect = source.entity_metadata(&r.intersect_entity_name).await?;
                relationships.push((r, intersect));
            }
        }
        let option_sets = source.global_option_sets().await?;
        Ok(Self {
            entities,
            relationships,
            option_sets,
        })
    }

    /// The planned tables of these entities and relationships.
    pub fn plan(&self, profile: &Profile) -> SchemaPlan {
        let naming = Naming::from_profile(profile);
        schema::plan(
            &naming,
            &self.entities,
            &self.relationships,
            &self.option_sets,
        )
    }

    pub fn entity_names(&self) -> Vec<String> {
        self.entities
            .iter()
            .map(|e| e.logical_name.clone())
            .collect()
    }
}

fn is_tracked(all: &[EntitySummary], name: &str) -> bool {
    all.iter()
        .any(|e| e.logical_name.eq_ignore_ascii_case(name) && e.change_tracking_enabled)
}

fn select_entities(all: &[EntitySummary], wanted: &[String]) -> anyhow::Result<Vec<String>> {
    let exportable = |e: &EntitySummary| e.change_tracking_enabled && !e.is_intersect;
    if wanted.is_empty() {
        let names: Vec<String> = all
            .iter()
            .filter(|e| exportable(e))
            .map(|e| e.logical_name.clone())
            .collect();
        if names.is_empty() {
            bail!("the source has no change-tracked entity to export");
        }
        return Ok(names);
    }
    for name in wanted {
        match all.iter().find(|e| &e.logical_name == name) {
            None => bail!("entity '{name}' does not exist in the source"),
            Some(e) if !exportable(e) => {
                bail!("entity '{name}' is not change-tracked, so it cannot be exported")
            }
            Some(_) => {}
        }
    }
    Ok(wanted.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(name: &str, tracked: bool, intersect: bool) -> EntitySummary {
        EntitySummary {
            logical_name: name.into(),
            display_name: None,
            entity_set_name: format!("{name}s"),
            change_tracking_enabled: tracked,
            is_intersect: intersect,
        }
    }

    #[test]
    fn default_is_every_tracked_non_intersect_entity_and_named_ones_are_checked() {
        let all = [
            summary("account", true, false),
            summary("audit", false, false),
            summary("x_y", true, true),
        ];
        assert_eq!(
            select_entities(&all, &[]).unwrap(),
            vec!["account".to_owned()]
        );
        let err = select_entities(&all, &["audit".into()]).unwrap_err();
        assert!(err.to_string().contains("not change-tracked"), "{err}");
        let err = select_entities(&all, &["nope".into()]).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(is_tracked(&all, "x_y") && !is_tracked(&all, "audit"));
    }
}
