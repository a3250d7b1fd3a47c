//! A disabled user or a removed role loses access within 10 s under load, and the load costs
//! a few admin checks, not one per request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use des_api::AdminChecker;
use des_core::ports::{Organization, SourceError};
use uuid::Uuid;

use crate::support::{Env, call};

/// The bound the API promises (`AdminRecheck::default().max_age` is 8 s).
const BOUND: Duration = Duration::from_secs(10);

/// Counts the checks that reach the organization's Dataverse (each is two or more Web API
/// calls), around the real client.
struct Counting {
    inner: Arc<dyn AdminChecker>,
    checks: AtomicUsize,
}

#[async_trait]
impl AdminChecker for Counting {
    async fn is_system_admin(&self, org: &Organization, oid: Uuid) -> Result<bool, SourceError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        self.inner.is_system_admin(org, oid).await
    }
    async fn who_am_i(&self, org: &Organization) -> Result<Uuid, SourceError> {
        self.inner.who_am_i(org).await
    }
}

/// Calls `uri` as the admin from 8 tasks until `stop`; returns when the first 403 came.
async fn load_until_refused(router: axum::Router, uri: String, token: String) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let refused_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (router, uri, token) = (router.clone(), uri.clone(), token.clone());
        let (stop, refused_at) = (Arc::clone(&stop), Arc::clone(&refused_at));
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let answer = call(&router, Method::GET, &uri, Some(&token), None).await;
                if answer.status == StatusCode::FORBIDDEN {
                    refused_at
                        .lock()
                        .expect("lock")
                        .get_or_insert_with(Instant::now);
                    stop.store(true, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) && start.elapsed() < BOUND * 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("load task");
    }
    let refused = *refused_at.lock().expect("lock");
    refused.map_or(BOUND * 2, |at| at - start)
}

async fn counted_router(env: &Env) -> (axum::Router, Arc<Counting>) {
    let counting = Arc::new(Counting {
        inner: env.admin_checker(),
        checks: AtomicUsize::new(0),
    });
    let router = env.router_tuned(Some(Arc::clone(&counting) as _), |_, _| {});
    (router, counting)
}

#[tokio::test]
async fn a_disabled_admin_is_refused_within_10_s_under_load_with_few_checks() {
    let env = Env::start().await;
    let (router, counting) = counted_router(&env).await;
    let uri = format!("/crm/exporter/metadata/connector?{}", env.org_query());
    let warm_up = call(&router, Method::GET, &uri, Some(&env.admin_token()), None).await;
    assert_eq!(warm_up.status, StatusCode::OK, "{}", warm_up.text());
    let started = Instant::now();
    env.set_admin_disabled(true);
    let refused_after = load_until_refused(router, uri, env.admin_token()).await;
    assert!(
        refused_after < BOUND,
        "still admitted {refused_after:?} after disabling"
    );
    let checks = counting.checks.load(Ordering::SeqCst);
    let elapsed = started.elapsed().as_secs_f64();
    // One background recheck per 3 s at most, plus the first and the refusing one.
    assert!(
        (checks as f64) <= elapsed / 3.0 + 3.0,
        "{checks} admin checks in {elapsed:.1} s"
    );
}

#[tokio::test]
async fn a_removed_role_is_refused_within_10_s_under_load() {
    let env = Env::start().await;
    let (router, _) = counted_router(&env).await;
    let uri = format!("/crm/exporter/metadata/connector?{}", env.org_query());
    let warm_up = call(&router, Method::GET, &uri, Some(&env.admin_token()), None).await;
    assert_eq!(warm_up.status, StatusCode::OK, "{}", warm_up.text());
    env.remove_admin_roles().await;
    let refused_after = load_until_refused(router, uri, env.admin_token()).await;
    assert!(
        refused_after < BOUND,
        "still admitted {refused_after:?} after the role went"
    );
}
