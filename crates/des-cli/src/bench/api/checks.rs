//! Counts the admin checks that reach Dataverse (past the API's cache): each is two Web API
//! calls for a direct System Administrator (the user by object id, then its roles).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use des_api::AdminChecker;
use des_core::ports::{Organization, SourceError};
use uuid::Uuid;

pub struct CountingChecker {
    inner: Arc<dyn AdminChecker>,
    checks: AtomicUsize,
}

impl CountingChecker {
    pub fn new(inner: Arc<dyn AdminChecker>) -> Self {
        Self {
            inner,
            checks: AtomicUsize::new(0),
        }
    }

    pub fn count(&self) -> usize {
        self.checks.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl AdminChecker for CountingChecker {
    async fn is_system_admin(&self, org: &Organization, oid: Uuid) -> Result<bool, SourceError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        self.inner.is_system_admin(org, oid).await
    }

    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError> {
        self.inner.who_am_i(org).await
    }
}
