//! One-time use of ids (DPoP proof `jti`s, RFC 9449 §11.1): "record this
//! id for a while; tell me whether it was already there", atomically, so
//! that two instances that see the same proof at once let at most one
//! through.
//!
//! The time is given as a duration from now, not an instant: the caller
//! judges its window by the gate's clock, a shared store expires keys by
//! its own, and a duration means the same on both.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bouncer_core::{Clock, Fault, SystemClock};

/// Where used ids live until they could no longer be accepted anyway.
/// Errors are faults (503/500), never "first use": a store that cannot
/// answer must not let a replay in.
#[async_trait]
pub trait ReplayStore: Send + Sync + 'static {
    /// Records `id` for `ttl`: `Ok(true)` if it was not recorded (the
    /// first use), `Ok(false)` if it already was (a replay). Check and
    /// record are one atomic step.
    async fn first_use(&self, id: &str, ttl: Duration) -> Result<bool, Fault>;
}

#[async_trait]
impl<T: ReplayStore + ?Sized> ReplayStore for Arc<T> {
    async fn first_use(&self, id: &str, ttl: Duration) -> Result<bool, Fault> {
        (**self).first_use(id, ttl).await
    }
}

/// The default bound of a [`MemoryReplayStore`].
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

#[derive(Default)]
struct Entries {
    until: HashMap<String, SystemTime>,
    /// Expiry order, for purging without a scan.
    expiry: BinaryHeap<Reverse<(SystemTime, String)>>,
}

impl Entries {
    fn purge(&mut self, now: SystemTime) {
        while let Some(Reverse((at, _))) = self.expiry.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((at, id))) = self.expiry.pop() {
                // Only if the map still holds this entry's time.
                if self.until.get(&id).is_some_and(|t| *t <= at) {
                    self.until.remove(&id);
                }
            }
        }
    }
}

/// Used ids in process memory, for one instance: bounded (a full store of
/// live ids answers 503 rather than forget one, which would let a replay
/// through) and expiring by its [`Clock`] (give it the gate's).
pub struct MemoryReplayStore {
    entries: Mutex<Entries>,
    capacity: usize,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl MemoryReplayStore {
    /// An empty store of [`DEFAULT_REPLAY_CAPACITY`] ids on the system
    /// clock.
    pub fn new() -> Self {
        Self {
            entries: Mutex::default(),
            capacity: DEFAULT_REPLAY_CAPACITY,
            clock: Arc::new(SystemClock),
        }
    }

    /// Holds at most `capacity` live ids (at least one).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Reads the time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// [`first_use`](ReplayStore::first_use) at `now`.
    pub fn first_use_at(
        &self,
        id: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<bool, Fault> {
        let mut e = match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        e.purge(now);
        if e.until.contains_key(id) {
            return Ok(false);
        }
        if until <= now {
            // Nothing to remember: whoever asks must refuse it as too old.
            return Ok(true);
        }
        if e.until.len() >= self.capacity {
            return Err(Fault::unavailable(
                "replay store",
                Duration::from_secs(1),
                std::io::Error::other("the replay store is full"),
            ));
        }
        e.until.insert(id.to_owned(), until);
        e.expiry.push(Reverse((until, id.to_owned())));
        Ok(true)
    }

    /// How many ids are held (live or not yet purged).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.until.len()).unwrap_or(0)
    }

    /// Whether no ids are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ReplayStore for MemoryReplayStore {
    async fn first_use(&self, id: &str, ttl: Duration) -> Result<bool, Fault> {
        let now = self.clock.now();
        self.first_use_at(id, now.checked_add(ttl).unwrap_or(now), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn an_id_is_used_once_until_it_expires() {
        let s = MemoryReplayStore::new();
        assert!(s.first_use_at("a", at(110), at(100)).unwrap());
        assert!(!s.first_use_at("a", at(110), at(105)).unwrap());
        assert!(!s.first_use_at("a", at(200), at(109)).unwrap());
        // Past its time it is forgotten (and purged).
        assert!(s.first_use_at("b", at(300), at(110)).unwrap());
        assert_eq!(s.len(), 1);
        assert!(s.first_use_at("a", at(120), at(110)).unwrap());
    }

    #[test]
    fn a_full_store_refuses_rather_than_forgets() {
        let s = MemoryReplayStore::new().capacity(2);
        assert!(s.first_use_at("a", at(110), at(100)).unwrap());
        assert!(s.first_use_at("b", at(120), at(100)).unwrap());
        let e = s.first_use_at("c", at(120), at(100)).unwrap_err();
        assert_eq!(e.status().as_u16(), 503);
        // Still a replay, not forgotten.
        assert!(!s.first_use_at("a", at(110), at(101)).unwrap());
        // Room again once one expires.
        assert!(s.first_use_at("c", at(130), at(111)).unwrap());
    }

    #[tokio::test]
    async fn the_async_method_reads_the_stores_clock() {
        let s = MemoryReplayStore::new().clock(|| at(1_000));
        let ttl = Duration::from_secs(10);
        assert!(s.first_use("x", ttl).await.unwrap());
        assert!(!s.first_use("x", ttl).await.unwrap());
        assert!(!s.is_empty());
    }
}
