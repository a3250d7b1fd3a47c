//! Random source changes for convergence runs: creates, updates, deletes and re-creates of
//! the same ids, on the exported entities.

use des_core::ports::Source;
use des_tests::harness::Harness;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// What the scenario remembers about the source.
#[derive(Default)]
pub struct SourceModel {
    /// Deleted ids, candidates for a re-create with the same id.
    pub deleted: Vec<(String, Uuid)>,
}

/// Existing ids of an entity.
pub fn ids(harness: &Harness, entity: &str, id_attr: &str) -> Vec<Uuid> {
    harness
        .emulator
        .control()
        .rows(entity)
        .iter()
        .filter_map(|r| r.get(id_attr)?.as_str()?.parse().ok())
        .collect()
}

/// One random create, update, delete or re-create; returns the touched id.
pub async fn random_change(
    harness: &Harness,
    model: &mut SourceModel,
    rng: &mut fastrand::Rng,
) -> Option<(String, Uuid)> {
    let entity = harness.options.entities[rng.usize(..harness.options.entities.len())].clone();
    let metadata = harness.client.entity_metadata(&entity).await.ok()?;
    let name_attr = metadata.primary_name_attribute.clone()?;
    let existing = ids(harness, &entity, &metadata.primary_id_attribute);
    let control = harness.emulator.control();
    let label = format!("Seeded {}", rng.u32(..10_000));
    let fields = |extra: Option<Uuid>| {
        let mut fields = Map::new();
        fields.insert(name_attr.clone(), json!(label));
        if let Some(id) = extra {
            fields.insert(
                metadata.primary_id_attribute.clone(),
                Value::String(id.to_string()),
            );
        }
        fields
    };
    let roll = rng.u8(..10);
    if roll < 2 && !model.deleted.is_empty() {
        let (e, id) = model.deleted.swap_remove(rng.usize(..model.deleted.len()));
        if e == entity {
            tracing::debug!(%id, "Re-create.");
            control.create(&entity, fields(Some(id))).ok()?;
            return Some((entity, id));
        }
        model.deleted.push((e, id));
    }
    match (roll, existing.is_empty()) {
        (0..=4, false) => {
            let id = existing[rng.usize(..existing.len())];
            control.update(&entity, id, fields(None)).ok()?;
            Some((entity, id))
        }
        (5..=6, false) => {
            let id = existing[rng.usize(..existing.len())];
            tracing::debug!(%id, "Delete.");
            control.delete(&entity, id).ok()?;
            model.deleted.push((entity.clone(), id));
            Some((entity, id))
        }
        _ => {
            let id = control.create(&entity, fields(None)).ok()?;
            Some((entity, id))
        }
    }
}

/// Touches each still-existing record so the next delta carries it again.
pub async fn touch(harness: &Harness, ids: &[Uuid]) {
    let control = harness.emulator.control();
    for entity in &harness.options.entities {
        let Ok(metadata) = harness.client.entity_metadata(entity).await else {
            continue;
        };
        let Some(name_attr) = metadata.primary_name_attribute else {
            continue;
        };
        for id in ids {
            let mut fields = Map::new();
            fields.insert(
                name_attr.clone(),
                json!(format!("Touched {}", &id.to_string()[..8])),
            );
            let _ = control.update(entity, *id, fields);
        }
    }
}
