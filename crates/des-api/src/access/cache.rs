//! [`CachedAdminChecker`]: admin answers remembered briefly, so a burst of calls costs one role
//! lookup, yet a removed role or a disabled user is refused within [`AdminRecheck::max_age`].
//!
//! An answer younger than `recheck_after` is used as is. An older one (but younger than
//! `max_age`) is still used while one background check refreshes it, so a steady caller never
//! waits for Dataverse. An answer older than `max_age` (counted from when its check started)
//! is never used: the request waits for a fresh check. One check per (organization, user) runs
//! at a time; callers that waited for it take its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use des_core::ports::{Organization, SourceError};
use uuid::Uuid;

use super::AdminChecker;

/// How long admin answers are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminRecheck {
    /// Answers older than this are refreshed in the background while still used.
    pub recheck_after: Duration,
    /// Answers older than this are never used: the bound on how long a revoked role or a
    /// disabled user keeps access.
    pub max_age: Duration,
}

impl Default for AdminRecheck {
    fn default() -> Self {
        Self {
            recheck_after: Duration::from_secs(3),
            max_age: Duration::from_secs(8),
        }
    }
}

type Key = (Uuid, Uuid);

struct Answer {
    admin: bool,
    /// When the check that gave it started.
    checked_at: Instant,
    refreshing: bool,
}

#[derive(Default)]
struct Entry {
    answer: Option<Answer>,
    /// One check at a time for this key.
    gate: Arc<tokio::sync::Mutex<()>>,
}

type Answers = Arc<Mutex<HashMap<Key, Entry>>>;

/// Remembers admin answers under an [`AdminRecheck`] policy.
pub struct CachedAdminChecker {
    inner: Arc<dyn AdminChecker>,
    policy: AdminRecheck,
    answers: Answers,
}

enum Remembered {
    Fresh(bool),
    /// Usable, and this caller should start the background refresh.
    Refresh(bool),
    Unusable,
}

impl CachedAdminChecker {
    pub fn new(inner: Arc<dyn AdminChecker>, policy: AdminRecheck) -> Self {
        let max_age = policy.max_age;
        Self {
            inner,
            policy: AdminRecheck {
                recheck_after: policy.recheck_after.min(max_age),
                max_age,
            },
            answers: Arc::default(),
        }
    }

    fn remembered(&self, key: Key) -> Remembered {
        let mut answers = lock(&self.answers);
        let Some(answer) = answers.get_mut(&key).and_then(|e| e.answer.as_mut()) else {
            return Remembered::Unusable;
        };
        let age = answer.checked_at.elapsed();
        if age >= self.policy.max_age {
            Remembered::Unusable
        } else if age < self.policy.recheck_after || answer.refreshing {
            Remembered::Fresh(answer.admin)
        } else {
            answer.refreshing = true;
            Remembered::Refresh(answer.admin)
        }
    }

    /// The answer if younger than `max_age`, without starting anything.
    fn usable(&self, key: Key) -> Option<bool> {
        let answers = lock(&self.answers);
        let answer = answers.get(&key)?.answer.as_ref()?;
        (answer.checked_at.elapsed() < self.policy.max_age).then_some(answer.admin)
    }

    fn gate(&self, key: Key) -> Arc<tokio::sync::Mutex<()>> {
        let mut answers = lock(&self.answers);
        let max_age = self.policy.max_age;
        // Forget answers nobody can use any more (and whose gate nobody holds).
        answers.retain(|k, e| {
            *k == key
                || Arc::strong_count(&e.gate) > 1
                || e.answer
                    .as_ref()
                    .is_some_and(|a| a.checked_at.elapsed() < max_age)
        });
        Arc::clone(&answers.entry(key).or_default().gate)
    }

    fn refresh_in_background(&self, org: &Organization, key: Key) {
        let (inner, answers) = (Arc::clone(&self.inner), Arc::clone(&self.answers));
        let gate = self.gate(key);
        let org = org.clone();
        tokio::spawn(async move {
            let _turn = gate.lock().await;
            let started = Instant::now();
            match inner.is_system_admin(&org, key.1).await {
                Ok(admin) => remember(&answers, key, admin, started),
                Err(error) => {
                    tracing::warn!(organization = %key.0, %error, "Background admin recheck failed.");
                    if let Some(a) = lock(&answers).get_mut(&key).and_then(|e| e.answer.as_mut()) {
                        a.refreshing = false;
                    }
                }
            }
        });
    }
}

fn lock(answers: &Answers) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
    answers.lock().unwrap_or_else(PoisonError::into_inner)
}

fn remember(answers: &Answers, key: Key, admin: bool, checked_at: Instant) {
    let mut answers = lock(answers);
    let entry = answers.entry(key).or_default();
    // A slower check that started earlier never replaces a newer answer.
    if entry
        .answer
        .as_ref()
        .is_some_and(|a| a.checked_at > checked_at)
    {
        return;
    }
    entry.answer = Some(Answer {
        admin,
        checked_at,
        refreshing: false,
    });
}

#[async_trait]
impl AdminChecker for CachedAdminChecker {
    async fn is_system_admin(&self, org: &Organization, oid: Uuid) -> Result<bool, SourceError> {
        let key = (org.organization_id, oid);
        match self.remembered(key) {
            Remembered::Fresh(admin) => return Ok(admin),
            Remembered::Refresh(admin) => {
                self.refresh_in_background(org, key);
                return Ok(admin);
            }
            Remembered::Unusable => {}
        }
        let gate = self.gate(key);
        let _turn = gate.lock().await;
        if let Some(admin) = self.usable(key) {
            return Ok(admin);
        }
        let started = Instant::now();
        let admin = self.inner.is_system_admin(org, oid).await?;
        remember(&self.answers, key, admin, started);
        Ok(admin)
    }

    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError> {
        self.inner.who_am_i(org).await
    }
}
