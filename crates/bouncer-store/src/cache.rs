//! A shared cache of short-lived answers: opaque bytes under a key, gone
//! after a time to live. Token introspection (`bouncer-authn`) keeps the
//! authorization server's answers here, keyed by a hash of the token.
//!
//! A cache may forget at any time (capacity, restart): callers treat a
//! miss as "ask again", never as an answer. Errors are faults like every
//! store's; whether a caller may carry on without the cache is its choice.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bouncer_core::{Clock, Fault, SystemClock};

/// Where cached answers live: bytes under a key, expiring after a time to
/// live (by the store's own clock).
#[async_trait]
pub trait CacheStore: Send + Sync + 'static {
    /// The value under `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Fault>;

    /// Stores `value` under `key` for `ttl` (nothing for a zero `ttl`).
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), Fault>;

    /// Forgets `key`.
    async fn remove(&self, key: &str) -> Result<(), Fault>;
}

#[derive(Default)]
struct Entries {
    values: HashMap<String, (Vec<u8>, SystemTime)>,
    /// The same entries ordered by expiry: purging and eviction take the
    /// soonest-expiring first.
    by_expiry: BTreeSet<(SystemTime, String)>,
}

impl Entries {
    fn remove(&mut self, key: &str) {
        if let Some((_, at)) = self.values.remove(key) {
            self.by_expiry.remove(&(at, key.to_owned()));
        }
    }

    fn purge(&mut self, now: SystemTime) {
        while let Some((at, key)) = self.by_expiry.first().cloned() {
            if at > now {
                break;
            }
            self.by_expiry.remove(&(at, key.clone()));
            self.values.remove(&key);
        }
    }
}

/// An in-process cache holding at most `capacity` entries. Expired entries
/// are purged on every write; when full, the entry that would expire first
/// makes room. Time is read from the store's [`Clock`] (the system clock
/// unless [`clock`](Self::clock) sets another).
pub struct MemoryCacheStore {
    entries: RwLock<Entries>,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MemoryCacheStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys and values may be sensitive: show only the sizes.
        f.debug_struct("MemoryCacheStore")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl MemoryCacheStore {
    /// An empty cache for at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::default(),
            capacity: capacity.max(1),
            clock: Arc::new(SystemClock),
        }
    }

    /// Reads the time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The value under `key` at `now`.
    pub fn get_at(&self, key: &str, now: SystemTime) -> Option<Vec<u8>> {
        let entries = match self.entries.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries
            .values
            .get(key)
            .filter(|(_, at)| *at > now)
            .map(|(v, _)| v.clone())
    }

    /// Stores `value` under `key` for `ttl` from `now`.
    pub fn put_at(&self, key: &str, value: &[u8], ttl: Duration, now: SystemTime) {
        let Some(until) = now.checked_add(ttl).filter(|u| *u > now) else {
            return;
        };
        let mut entries = match self.entries.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries.remove(key);
        entries.purge(now);
        while entries.values.len() >= self.capacity {
            let Some(first) = entries.by_expiry.pop_first() else {
                break;
            };
            entries.values.remove(&first.1);
        }
        entries
            .values
            .insert(key.to_owned(), (value.to_vec(), until));
        entries.by_expiry.insert((until, key.to_owned()));
    }

    /// Forgets `key`.
    pub fn remove_now(&self, key: &str) {
        let mut entries = match self.entries.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries.remove(key);
    }

    /// How many entries are held (live or not yet purged).
    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.values.len()).unwrap_or(0)
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl CacheStore for MemoryCacheStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Fault> {
        Ok(self.get_at(key, self.clock.now()))
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), Fault> {
        self.put_at(key, value, ttl, self.clock.now());
        Ok(())
    }

    async fn remove(&self, key: &str) -> Result<(), Fault> {
        self.remove_now(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn entries_expire_after_their_ttl() {
        let c = MemoryCacheStore::new(4);
        c.put_at("a", b"1", Duration::from_secs(10), at(100));
        assert_eq!(c.get_at("a", at(109)).as_deref(), Some(&b"1"[..]));
        assert_eq!(c.get_at("a", at(110)), None);
        c.put_at("zero", b"1", Duration::ZERO, at(100));
        assert_eq!(c.get_at("zero", at(100)), None);
        // A write purges what has expired.
        c.put_at("b", b"2", Duration::from_secs(10), at(200));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn capacity_is_bounded_and_the_soonest_to_expire_goes_first() {
        let c = MemoryCacheStore::new(2);
        c.put_at("long", b"l", Duration::from_secs(100), at(0));
        c.put_at("short", b"s", Duration::from_secs(5), at(0));
        c.put_at("new", b"n", Duration::from_secs(50), at(1));
        assert_eq!(c.len(), 2);
        assert_eq!(c.get_at("short", at(1)), None);
        assert!(c.get_at("long", at(1)).is_some());
        assert!(c.get_at("new", at(1)).is_some());
        // Replacing a key does not count twice.
        c.put_at("new", b"m", Duration::from_secs(50), at(2));
        assert_eq!(c.len(), 2);
        assert_eq!(c.get_at("new", at(2)).as_deref(), Some(&b"m"[..]));
        c.remove_now("new");
        assert_eq!(c.get_at("new", at(2)), None);
        assert_eq!(c.len(), 1);
    }

    #[tokio::test]
    async fn the_async_methods_read_the_stores_clock() {
        let c = MemoryCacheStore::new(8).clock(|| at(1_000));
        c.put("k", b"v", Duration::from_secs(5)).await.unwrap();
        assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(c.get_at("k", at(1_005)), None);
        c.remove("k").await.unwrap();
        assert_eq!(c.get("k").await.unwrap(), None);
    }
}
