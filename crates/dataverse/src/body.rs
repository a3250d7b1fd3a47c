//! Response bodies in buffers that are used again. A page with every annotation is about
//! 20 MB, parsed and dropped within moments; a fresh buffer per page left that much freed
//! memory per page with the allocator, which gives freed pages back to the system only a
//! second later, so a fast initial sync held several pages of it beside the live ones.
//! Small answers (metadata, delta pages) take fresh buffers; spare page buffers unused for
//! a while are let go, so an idle replica does not keep them.

use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Answers this large or larger take a spare buffer and give it back.
const POOLED_FROM: usize = 1 << 20;
/// Spare buffers kept: a reader's page and the read ahead of it.
const SPARES: usize = 2;
/// A spare unused this long is let go.
const IDLE: Duration = Duration::from_secs(5);

/// Spare page buffers, each with when it came back.
#[derive(Default)]
pub(crate) struct BodyPool {
    spares: Mutex<Vec<(Vec<u8>, Instant)>>,
}

impl BodyPool {
    /// An empty body for an answer of `expected` bytes (0: not known).
    pub(crate) fn body(self: &Arc<Self>, expected: usize) -> Body {
        let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
        spares.retain(|(_, since)| since.elapsed() < IDLE);
        if expected < POOLED_FROM {
            return Body::fresh(Vec::with_capacity(expected));
        }
        let mut bytes = spares.pop().map(|(bytes, _)| bytes).unwrap_or_default();
        bytes.reserve(expected);
        Body {
            bytes,
            pool: Some(Arc::clone(self)),
        }
    }

    fn give_back(&self, mut bytes: Vec<u8>) {
        let mut spares = self.spares.lock().unwrap_or_else(PoisonError::into_inner);
        if spares.len() < SPARES {
            bytes.clear();
            spares.push((bytes, Instant::now()));
        }
    }

    #[cfg(test)]
    fn spare_count(&self) -> usize {
        self.spares.lock().unwrap().len()
    }
}

/// A response body; a pooled one goes back to its pool when dropped.
pub(crate) struct Body {
    bytes: Vec<u8>,
    pool: Option<Arc<BodyPool>>,
}

impl Body {
    pub(crate) fn fresh(bytes: Vec<u8>) -> Self {
        Self { bytes, pool: None }
    }

    pub(crate) fn extend(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
    }
}

impl Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.give_back(std::mem::take(&mut self.bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_buffer_is_used_again_with_its_bytes_cleared() {
        let pool = Arc::new(BodyPool::default());
        let mut first = pool.body(POOLED_FROM);
        first.extend(b"first page");
        let at = first.bytes.as_ptr();
        drop(first);
        assert_eq!(pool.spare_count(), 1);
        let second = pool.body(POOLED_FROM);
        assert_eq!(second.bytes.as_ptr(), at);
        assert!(second.is_empty());
        assert_eq!(pool.spare_count(), 0);
    }

    #[test]
    fn small_answers_stay_out_of_the_pool() {
        let pool = Arc::new(BodyPool::default());
        let mut small = pool.body(100);
        small.extend(b"{}");
        assert_eq!(&*small, b"{}");
        drop(small);
        assert_eq!(pool.spare_count(), 0);
    }

    #[test]
    fn at_most_two_spares_are_kept() {
        let pool = Arc::new(BodyPool::default());
        let pages: Vec<Body> = (0..4).map(|_| pool.body(POOLED_FROM)).collect();
        drop(pages);
        assert_eq!(pool.spare_count(), SPARES);
    }
}
