//! A failing dependency: the answer is a 500 that says only "Internal server error", with a
//! correlation id and no cause.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use des_core::ports::{ControlStore, Etag, Organization, Precondition, StoreError, Versioned};
use des_core::profile::Profile;
use des_core::sync::{EntityCursor, EntityStats, StatsDelta};
use uuid::Uuid;

use crate::support::{Env, call};

/// The real store, except that listing profiles fails with a revealing cause (and logs that
/// it was asked).
pub struct BrokenProfiles(pub Arc<dyn ControlStore>);

pub const CAUSE: &str = "disk /srv/des/control.db is full";

#[async_trait]
impl ControlStore for BrokenProfiles {
    async fn put_organization(&self, org: &Organization) -> Result<(), StoreError> {
        self.0.put_organization(org).await
    }
    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        self.0.organizations().await
    }
    async fn profile(&self, id: Uuid) -> Result<Option<Versioned<Profile>>, StoreError> {
        self.0.profile(id).await
    }
    async fn profiles(&self) -> Result<Vec<Versioned<Profile>>, StoreError> {
        tracing::info!("The broken store is asked for the profiles.");
        Err(StoreError::Unavailable(CAUSE.to_owned()))
    }
    async fn put_profile(&self, profile: &Profile, when: Precondition) -> Result<Etag, StoreError> {
        self.0.put_profile(profile, when).await
    }
    async fn delete_profile(&self, id: Uuid) -> Result<(), StoreError> {
        self.0.delete_profile(id).await
    }
    async fn cursor(
        &self,
        profile_id: Uuid,
        entity: &str,
    ) -> Result<Option<Versioned<EntityCursor>>, StoreError> {
        self.0.cursor(profile_id, entity).await
    }
    async fn put_cursor(
        &self,
        cursor: &EntityCursor,
        when: Precondition,
    ) -> Result<Etag, StoreError> {
        self.0.put_cursor(cursor, when).await
    }
    async fn stats(&self, profile_id: Uuid, entity: &str) -> Result<EntityStats, StoreError> {
        self.0.stats(profile_id, entity).await
    }
    async fn update_stats(
        &self,
        profile_id: Uuid,
        entity: &str,
        delta: &StatsDelta,
    ) -> Result<(), StoreError> {
        self.0.update_stats(profile_id, entity, delta).await
    }
    async fn progress(
        &self,
        profile_id: Option<Uuid>,
    ) -> Result<Vec<des_core::ports::StreamProgress>, StoreError> {
        self.0.progress(profile_id).await
    }
    async fn target_token(&self, profile_id: Uuid) -> Result<Option<String>, StoreError> {
        self.0.target_token(profile_id).await
    }
    async fn put_target_token(&self, profile_id: Uuid, token: &str) -> Result<(), StoreError> {
        self.0.put_target_token(profile_id, token).await
    }
}

#[tokio::test]
async fn a_store_failure_is_a_500_without_its_cause() {
    let env = Env::start().await;
    let mut ports = env.ports.clone();
    ports.control = Arc::new(BrokenProfiles(Arc::clone(&env.ports.control)));
    let router = env.router_with(ports);
    let uri = format!("/crm/exporter/profiles?{}", env.org_query());
    let answer = call(&router, Method::GET, &uri, Some(&env.admin_token()), None).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.message(), "Internal server error");
    assert_eq!(answer.json()["Details"], "");
    assert!(!answer.text().contains("disk"), "{}", answer.text());
}
