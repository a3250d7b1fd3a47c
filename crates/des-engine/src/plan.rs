//! A stream's schema plan: planned per stream, stored once per fingerprint in the payload
//! store, and cached in memory by its key.
//!
//! Each stream plans only its own table (and the metadata rows of its entity), so one
//! entity's schema change never touches another stream. Sinks replace metadata rows by
//! entity name, so per-stream applications add up to the profile's metadata tables.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use des_core::ports::PayloadStore;
use des_core::schema::{ColumnSource, Naming, SchemaPlan, TableDef, plan};
use des_core::{EntityMetadata, ManyToManyRelationship, OptionSetMetadata};
use sha2::{Digest, Sha256};

use crate::error::EngineError;

/// The plan of one stream: its entity table, or its M:N table for a relationship stream.
pub fn plan_stream(
    naming: &Naming,
    metadata: &EntityMetadata,
    relationship: Option<&ManyToManyRelationship>,
    global_option_sets: &[OptionSetMetadata],
) -> SchemaPlan {
    match relationship {
        Some(rel) => plan(naming, &[], &[(rel.clone(), metadata.clone())], &[]),
        None => plan(
            naming,
            std::slice::from_ref(metadata),
            &[],
            global_option_sets,
        ),
    }
}

/// The attributes the stream reads (`$select`), in table column order.
pub fn select_columns(table: &TableDef) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for column in &table.columns {
        if let ColumnSource::Attribute(name) = &column.source
            && !names.contains(name)
        {
            names.push(name.clone());
        }
    }
    names
}

/// A stable digest of the plan: equal plans give equal fingerprints across processes.
pub fn fingerprint(plan: &SchemaPlan) -> String {
    let bytes = serde_json::to_vec(plan).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// True when rows already written under `old` lack values the `new` plan has: a new column,
/// or a different table. Widening a column or changing labels needs no re-read.
pub fn needs_reread(old: &TableDef, new: &TableDef) -> bool {
    if (old.schema.as_str(), old.name.as_str()) != (new.schema.as_str(), new.name.as_str()) {
        return true;
    }
    let old_columns = select_columns(old);
    select_columns(new).iter().any(|c| !old_columns.contains(c))
}

/// Plans by payload key, loaded once per process.
#[derive(Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<String, Arc<SchemaPlan>>>,
}

impl PlanCache {
    pub async fn get(
        &self,
        payloads: &dyn PayloadStore,
        key: &str,
    ) -> Result<Arc<SchemaPlan>, EngineError> {
        if let Some(plan) = self.lock().get(key) {
            return Ok(Arc::clone(plan));
        }
        let bytes = payloads
            .get(key)
            .await?
            .ok_or_else(|| EngineError::corrupt(key, "schema plan is missing"))?;
        let plan: SchemaPlan =
            serde_json::from_slice(&bytes).map_err(|e| EngineError::corrupt(key, e))?;
        Ok(self.insert(key, plan))
    }

    /// Stores the plan under `key` (write-once) and caches it.
    pub async fn put(
        &self,
        payloads: &dyn PayloadStore,
        key: &str,
        plan: SchemaPlan,
    ) -> Result<Arc<SchemaPlan>, EngineError> {
        let bytes = serde_json::to_vec(&plan).map_err(|e| EngineError::corrupt(key, e))?;
        payloads.put_if_absent(key, &bytes).await?;
        Ok(self.insert(key, plan))
    }

    fn insert(&self, key: &str, plan: SchemaPlan) -> Arc<SchemaPlan> {
        let plan = Arc::new(plan);
        self.lock().insert(key.to_owned(), Arc::clone(&plan));
        plan
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<SchemaPlan>>> {
        self.plans.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The stream's table in its plan.
pub fn stream_table<'a>(plan: &'a SchemaPlan, entity: &str) -> Result<&'a TableDef, EngineError> {
    plan.table_for(entity).ok_or_else(|| EngineError::Plan {
        entity: entity.to_owned(),
        reason: "the plan has no table for it".to_owned(),
    })
}
