//! Several application users behind one client: each has its own token and its own pacer
//! (its own service-protection budget), and every request goes to the least-loaded user.
//!
//! Dataverse counts its limits per user per web server, so Microsoft's advice for high
//! throughput is several application users. Spreading per request (not per stream) keeps
//! every budget full whatever the streams do; a 429 for one user holds only that user's
//! pacer, so the others keep reading. Change tokens and paging links do not depend on the
//! user that asked, as long as every user has the same security role.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::select_all;

use crate::pace::{PacePermit, PaceStats, Pacer};
use crate::token::TokenProvider;

/// One application user: how it signs in and the budget its requests share.
pub(crate) struct AppUser {
    pub(crate) tokens: Arc<dyn TokenProvider>,
    pacer: Arc<Pacer>,
}

/// Every application user of one client (at least one).
pub(crate) struct AppUsers {
    users: Vec<AppUser>,
    /// Where the next tie-break starts, so equally loaded users take turns.
    next: AtomicUsize,
}

impl AppUsers {
    pub(crate) fn new(tokens: Vec<Arc<dyn TokenProvider>>, max_concurrency: u32) -> Self {
        let users = tokens
            .into_iter()
            .map(|tokens| AppUser {
                tokens,
                pacer: Pacer::new(max_concurrency),
            })
            .collect();
        Self {
            users,
            next: AtomicUsize::new(0),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Whether some user is not held by a `Retry-After` (always false with one user: the
    /// retry then waits as it always did).
    pub(crate) fn any_free(&self) -> bool {
        self.users.len() > 1 && self.users.iter().any(|u| u.pacer.load().is_finite())
    }

    pub(crate) fn user(&self, index: usize) -> &AppUser {
        &self.users[index]
    }

    /// A turn with the least-loaded user that can go now, or the first to free up.
    pub(crate) async fn acquire(&self) -> (usize, PacePermit) {
        if let [only] = self.users.as_slice() {
            return (0, only.pacer.acquire().await);
        }
        let n = self.users.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut order: Vec<usize> = (0..n).map(|i| (first + i) % n).collect();
        // Stable: equally loaded users keep the rotated order.
        order.sort_by(|a, b| {
            let (a, b) = (self.users[*a].pacer.load(), self.users[*b].pacer.load());
            a.total_cmp(&b)
        });
        // Polled in that order, so a free user low in load wins; the losers are dropped
        // before they take a turn.
        let turns = order.iter().map(|&i| {
            let pacer = &self.users[i].pacer;
            Box::pin(async move { (i, pacer.acquire().await) })
        });
        select_all(turns).await.0
    }

    /// Every user's pacing, in the order the users were given.
    pub(crate) fn stats(&self) -> Vec<PaceStats> {
        self.users.iter().map(|u| u.pacer.stats()).collect()
    }
}

/// The users' pacing added up (limits and peaks are sums: the client's capacity).
pub(crate) fn total(stats: &[PaceStats]) -> PaceStats {
    stats.iter().fold(PaceStats::default(), |t, s| PaceStats {
        limit: t.limit + s.limit,
        peak_in_flight: t.peak_in_flight + s.peak_in_flight,
        throttled: t.throttled + s.throttled,
        requests: t.requests + s.requests,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use des_core::Secret;
    use reqwest::header::HeaderMap;

    use super::*;
    use crate::token::StaticToken;

    fn users(n: usize) -> AppUsers {
        let tokens = (0..n)
            .map(|_| Arc::new(StaticToken(Secret::new("t"))) as Arc<dyn TokenProvider>)
            .collect();
        AppUsers::new(tokens, 4)
    }

    #[tokio::test]
    async fn equal_users_take_turns_and_a_held_one_is_passed_over() {
        let users = users(2);
        let (a, first) = users.acquire().await;
        drop(first);
        let (b, second) = users.acquire().await;
        assert_ne!(a, b, "with nothing in flight the users take turns");
        // A 429 for `b` holds it far beyond this test.
        second.answered(429, &HeaderMap::new(), Some(Duration::from_secs(600)));
        drop(second);
        for _ in 0..3 {
            let (user, _permit) = users.acquire().await;
            assert_eq!(user, a, "the held user gets nothing");
        }
        assert!(users.any_free(), "the other user is free");
    }

    #[tokio::test]
    async fn one_user_never_counts_as_another_free_one() {
        let users = users(1);
        let (_, permit) = users.acquire().await;
        permit.answered(429, &HeaderMap::new(), Some(Duration::from_secs(600)));
        assert!(
            !users.any_free(),
            "its retry waits the Retry-After as before"
        );
        assert_eq!(total(&users.stats()).throttled, 1);
    }
}
