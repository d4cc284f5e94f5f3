//! A keyed state store for governor whose keys can be forgotten: a successful login forgives
//! the failures before it, so only failures count against an account.

use governor::nanos::Nanos;
use governor::state::keyed::ShrinkableKeyedStateStore;
use governor::state::StateStore;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Each key's theoretical arrival time (governor's GCRA state), behind one lock: the limits kept
/// here guard logins, registrations and refreshes, a few hundred a second at most, so a plain
/// map beats a sharded one. Clones share the map.
#[derive(Debug)]
pub struct ForgettingStore<K>(Arc<Mutex<HashMap<K, u64>>>);

impl<K> Clone for ForgettingStore<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<K> Default for ForgettingStore<K> {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(HashMap::new())))
    }
}

impl<K: Hash + Eq> ForgettingStore<K> {
    fn map(&self) -> MutexGuard<'_, HashMap<K, u64>> {
        // A panic under the lock leaves a consistent map (every write is one insert).
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets `key`: its next request finds a full bucket.
    pub fn forget(&self, key: &K) {
        self.map().remove(key);
    }
}

impl<K: Hash + Eq + Clone> StateStore for ForgettingStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut map = self.map();
        let (outcome, next) = f(map.get(key).copied().map(Nanos::from))?;
        map.insert(key.clone(), u64::from(next));
        Ok(outcome)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for ForgettingStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        let drop_below = u64::from(drop_below);
        self.map().retain(|_, arrival| *arrival > drop_below);
    }

    fn shrink_to_fit(&self) {
        self.map().shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map().len()
    }

    fn is_empty(&self) -> bool {
        self.map().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use governor::middleware::NoOpMiddleware;
    use governor::{Quota, RateLimiter};
    use std::num::NonZeroU32;
    use std::time::Duration;

    type TestLimiter =
        RateLimiter<u32, ForgettingStore<u32>, FakeRelativeClock, NoOpMiddleware<Nanos>>;

    fn limiter(burst: u32) -> (TestLimiter, ForgettingStore<u32>, FakeRelativeClock) {
        let store = ForgettingStore::default();
        let clock = FakeRelativeClock::default();
        let quota = Quota::with_period(Duration::from_secs(1))
            .map(|q| q.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)));
        let quota = quota.unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
        (
            RateLimiter::new(quota, store.clone(), clock.clone()),
            store,
            clock,
        )
    }

    #[test]
    fn a_key_is_limited_on_its_own_and_refills_with_time() {
        let (limiter, _, clock) = limiter(2);
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_err());
        assert!(
            limiter.check_key(&2).is_ok(),
            "another key has its own bucket"
        );
        clock.advance(Duration::from_secs(1));
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_err());
    }

    #[test]
    fn a_forgotten_key_starts_with_a_full_bucket() {
        let (limiter, store, _) = limiter(2);
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_err());
        store.forget(&1);
        assert!(limiter.check_key(&1).is_ok());
        assert!(limiter.check_key(&1).is_ok());
    }

    #[test]
    fn keys_whose_bucket_is_full_again_are_dropped() {
        let (limiter, store, clock) = limiter(2);
        for key in 0..100 {
            assert!(limiter.check_key(&key).is_ok());
        }
        assert_eq!(limiter.len(), 100);
        clock.advance(Duration::from_secs(5));
        limiter.retain_recent();
        assert_eq!(store.map().len(), 0);
    }
}
