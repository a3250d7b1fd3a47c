//! Listing: the status of many profiles costs a fixed number of store reads, and `x-top`
//! pages the list through `Link` headers (an extension DES clients can ignore).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::http::{Method, StatusCode, header};
use des_core::ports::{
    ControlStore, Etag, Organization, Precondition, StoreError, StreamProgress, Versioned,
};
use des_core::profile::Profile;
use des_core::sync::{EntityCursor, EntityStats, StatsDelta};
use uuid::Uuid;

use crate::support::{Env, call};

/// The real store, counting every call.
struct Counting {
    inner: Arc<dyn ControlStore>,
    calls: AtomicUsize,
}

impl Counting {
    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl ControlStore for Counting {
    async fn put_organization(&self, org: &Organization) -> Result<(), StoreError> {
        self.count();
        self.inner.put_organization(org).await
    }
    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        self.count();
        self.inner.organizations().await
    }
    async fn profile(&self, id: Uuid) -> Result<Option<Versioned<Profile>>, StoreError> {
        self.count();
        self.inner.profile(id).await
    }
    async fn profiles(&self) -> Result<Vec<Versioned<Profile>>, StoreError> {
        self.count();
        self.inner.profiles().await
    }
    async fn put_profile(&self, profile: &Profile, when: Precondition) -> Result<Etag, StoreError> {
        self.count();
        self.inner.put_profile(profile, when).await
    }
    async fn delete_profile(&self, id: Uuid) -> Result<(), StoreError> {
        self.count();
        self.inner.delete_profile(id).await
    }
    async fn cursor(
        &self,
        p: Uuid,
        e: &str,
    ) -> Result<Option<Versioned<EntityCursor>>, StoreError> {
        self.count();
        self.inner.cursor(p, e).await
    }
    async fn put_cursor(&self, c: &EntityCursor, when: Precondition) -> Result<Etag, StoreError> {
        self.count();
        self.inner.put_cursor(c, when).await
    }
    async fn stats(&self, p: Uuid, e: &str) -> Result<EntityStats, StoreError> {
        self.count();
        self.inner.stats(p, e).await
    }
    async fn update_stats(&self, p: Uuid, e: &str, d: &StatsDelta) -> Result<(), StoreError> {
        self.count();
        self.inner.update_stats(p, e, d).await
    }
    async fn progress(&self, p: Option<Uuid>) -> Result<Vec<StreamProgress>, StoreError> {
        self.count();
        self.inner.progress(p).await
    }
    async fn progress_of(&self, ids: &[Uuid]) -> Result<Vec<StreamProgress>, StoreError> {
        self.count();
        self.inner.progress_of(ids).await
    }
    async fn target_token(&self, profile_id: Uuid) -> Result<Option<String>, StoreError> {
        self.inner.target_token(profile_id).await
    }
    async fn put_target_token(&self, profile_id: Uuid, token: &str) -> Result<(), StoreError> {
        self.inner.put_target_token(profile_id, token).await
    }
}

async fn store_calls_to_list(env: &Env, profiles: usize) -> usize {
    for n in env.list_names().await.len()..profiles {
        env.create_profile(&format!("Profile {n:03}")).await;
    }
    let counting = Arc::new(Counting {
        inner: Arc::clone(&env.ports.control),
        calls: AtomicUsize::new(0),
    });
    let mut ports = env.ports.clone();
    ports.control = Arc::clone(&counting) as _;
    let router = env.router_with(ports);
    let uri = format!("/crm/exporter/profiles?status=true&{}", env.org_query());
    let answer = call(&router, Method::GET, &uri, Some(&env.admin_token()), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let listed = answer.json();
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), profiles);
    assert!(
        listed
            .iter()
            .all(|p| p["Entities"][0]["Status"]["InitialSyncState"].is_string())
    );
    counting.calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn the_status_of_many_profiles_costs_the_same_store_reads_as_of_few() {
    let env = Env::start().await;
    let few = store_calls_to_list(&env, 2).await;
    let many = store_calls_to_list(&env, 30).await;
    assert_eq!(few, many, "store calls grow with the number of profiles");
    assert!(
        many <= 3,
        "{many} store calls (organizations, profiles, progress)"
    );
}

#[tokio::test]
async fn x_top_pages_the_list_through_link_headers() {
    let env = Env::start().await;
    for n in 0..5 {
        env.create_profile(&format!("Paged {n}")).await;
    }
    let mut uri = Some(format!(
        "/crm/exporter/profiles?{}&x-top=2&status=true",
        env.org_query()
    ));
    let mut names = Vec::new();
    let mut pages = 0;
    while let Some(next) = uri.take() {
        let answer = env.admin(Method::GET, &next, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let page = answer.json();
        let page = page.as_array().expect("array").clone();
        assert!(page.len() <= 2);
        names.extend(
            page.iter()
                .map(|p| p["Name"].as_str().expect("name").to_owned()),
        );
        uri = answer.headers.get(header::LINK).map(|link| {
            let link = link.to_str().expect("ascii");
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link.trim_start_matches('<')
                .split('>')
                .next()
                .expect("url")
                .to_owned()
        });
        pages += 1;
    }
    assert_eq!(pages, 3);
    let expected: Vec<_> = (0..5).map(|n| format!("Paged {n}")).collect();
    assert_eq!(names, expected, "every profile once, in order");
    let all = env.list_names().await;
    assert_eq!(
        all, expected,
        "without x-top the whole list, as DES answered"
    );
    for bad in [
        "x-top=0",
        "x-top=1001",
        "x-top=ten",
        "x-top=2&x-skiptoken=garbage",
    ] {
        let uri = format!("/crm/exporter/profiles?{}&{bad}", env.org_query());
        let answer = env.admin(Method::GET, &uri, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            answer.message().starts_with("x-"),
            "{bad}: {}",
            answer.message()
        );
    }
}
