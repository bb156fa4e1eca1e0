//! The rate limit on member resources (`/v2/images/{id}/members[/{member}]`): a fixed
//! one-second window per (token, method, path). Past the limit the
//! mock answers 413 "Over Limit" with `Retry-After`, the documentation set's meaning of 413.
//! The window's table is dropped every second, so memory stays bounded by one second of
//! traffic.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(1);

pub(crate) struct RateLimiter {
    limit: u32,
    hasher: RandomState,
    window: Mutex<(Instant, HashMap<u64, u32>)>,
}

impl RateLimiter {
    pub(crate) fn new(limit: u32) -> Self {
        RateLimiter {
            limit,
            hasher: RandomState::new(),
            window: Mutex::new((Instant::now(), HashMap::new())),
        }
    }

    /// Counts one request; `Some(seconds to wait)` when it is over the limit.
    pub(crate) fn check(&self, token: &str, method: &str, path: &str) -> Option<u64> {
        let key = self.hasher.hash_one((token, method, path));
        let mut w = self.window.lock().expect("rate limiter lock");
        let now = Instant::now();
        if now.duration_since(w.0) >= WINDOW {
            w.0 = now;
            w.1.clear();
        }
        let n = w.1.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        (*n > self.limit).then_some(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_refuses_past_the_limit() {
        let r = RateLimiter::new(2);
        assert_eq!(r.check("t", "GET", "/a"), None);
        assert_eq!(r.check("t", "GET", "/a"), None);
        assert_eq!(r.check("t", "GET", "/a"), Some(1));
        // Other keys are untouched.
        assert_eq!(r.check("t", "GET", "/b"), None);
        assert_eq!(r.check("u", "GET", "/a"), None);
        assert_eq!(r.check("t", "DELETE", "/a"), None);
    }
}
