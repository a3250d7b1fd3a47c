//! Which profiles' state a sink has prepared (the state namespace created, the old layout's
//! state moved to the profile), so that is done once per sink, profile and prefix, not per
//! batch.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use des_core::ports::SinkError;
use des_core::schema::TableDef;
use uuid::Uuid;

use crate::tables;

/// The profile, and the schema and prefix of its tables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateKey {
    pub profile: Uuid,
    pub schema: String,
    pub prefix: String,
}

impl StateKey {
    pub fn of(profile: Uuid, table: &TableDef) -> Result<Self, SinkError> {
        Ok(Self {
            profile,
            schema: table.schema.clone(),
            prefix: tables::prefix_of(table)?.to_owned(),
        })
    }
}

/// The keys prepared so far.
#[derive(Debug, Default)]
pub struct Prepared(Mutex<HashSet<StateKey>>);

impl Prepared {
    pub fn contains(&self, key: &StateKey) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    pub fn insert(&self, key: StateKey) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key);
    }
}
