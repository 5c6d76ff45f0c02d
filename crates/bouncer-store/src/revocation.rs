//! Revocation of tokens by id (`jti`, or a hash of the token when it has
//! none), so that a logout takes effect before the token expires.
//!
//! A revoked entry is kept only until the token's own expiry: after that the
//! token is refused as expired anyway, so the store forgets it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use bouncer_core::{Clock, Fault, SystemClock};

/// Where revoked token ids live. Errors are faults (503/500), never "not
/// revoked": a store that cannot answer must not let a revoked token in.
#[async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Revokes `id` until `until` (the token's `exp`).
    async fn revoke(&self, id: &str, until: SystemTime) -> Result<(), Fault>;

    /// Whether `id` is revoked now.
    async fn is_revoked(&self, id: &str) -> Result<bool, Fault>;

    /// The same answer without waiting, for a store that holds it in
    /// memory; `None` (the default) means ask
    /// [`is_revoked`](Self::is_revoked). Authenticators ask this first, so
    /// an in-memory store costs no boxed future on every request.
    fn is_revoked_in_memory(&self, id: &str) -> Option<Result<bool, Fault>> {
        let _ = id;
        None
    }
}

/// An in-process revocation store. Entries expire with their tokens, by
/// the store's [`Clock`] (the system clock unless
/// [`clock`](Self::clock) sets another: give it the gate's clock so that a
/// revoked token is remembered until the time the gate judges its `exp`
/// at). For several instances, use a shared store (Redis), which expires
/// entries by its own clock.
pub struct MemoryRevocationStore {
    entries: RwLock<HashMap<String, SystemTime>>,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryRevocationStore {
    fn default() -> Self {
        Self {
            entries: RwLock::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for MemoryRevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRevocationStore")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl MemoryRevocationStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the time from `clock` instead of the system clock (use the
    /// gate's, [`GateBuilder::clock`](bouncer_core::GateBuilder::clock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Revokes synchronously (used by the async method and by tests).
    pub fn revoke_now(&self, id: &str, until: SystemTime, now: SystemTime) {
        let mut entries = match self.entries.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Forget what has expired on every write: memory stays bounded by
        // the number of live revoked tokens.
        entries.retain(|_, exp| *exp > now);
        if until > now {
            entries.insert(id.to_owned(), until);
        }
    }

    /// Whether `id` is revoked at `now`.
    pub fn is_revoked_at(&self, id: &str, now: SystemTime) -> bool {
        let entries = match self.entries.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries.get(id).is_some_and(|exp| *exp > now)
    }

    /// How many entries are held (live or not yet purged).
    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl RevocationStore for MemoryRevocationStore {
    async fn revoke(&self, id: &str, until: SystemTime) -> Result<(), Fault> {
        self.revoke_now(id, until, self.clock.now());
        Ok(())
    }

    async fn is_revoked(&self, id: &str) -> Result<bool, Fault> {
        Ok(self.is_revoked_at(id, self.clock.now()))
    }

    fn is_revoked_in_memory(&self, id: &str) -> Option<Result<bool, Fault>> {
        Some(Ok(self.is_revoked_at(id, self.clock.now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_in_memory_answer_is_the_stores_answer() {
        let s = MemoryRevocationStore::new();
        let later = SystemTime::now() + Duration::from_secs(60);
        s.revoke_now("a", later, SystemTime::now());
        for id in ["a", "b"] {
            let sync = s.is_revoked_in_memory(id).map(|r| r.ok());
            let asynchronous = block_on(s.is_revoked(id)).ok();
            assert_eq!(sync, Some(asynchronous), "{id}");
        }
        assert_eq!(
            s.is_revoked_in_memory("a").map(|r| r.ok()),
            Some(Some(true))
        );
    }

    /// Polls a future that never waits (the memory store's) to its end.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn forgets_after_expiry() {
        let s = MemoryRevocationStore::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        s.revoke_now("a", now + Duration::from_secs(10), now);
        assert!(s.is_revoked_at("a", now));
        assert!(!s.is_revoked_at("a", now + Duration::from_secs(10)));
        s.revoke_now(
            "b",
            now + Duration::from_secs(100),
            now + Duration::from_secs(20),
        );
        assert_eq!(s.len(), 1, "the expired entry was purged");
    }

    #[tokio::test]
    async fn the_async_methods_read_the_stores_clock() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let s = MemoryRevocationStore::new().clock(move || at);
        // Expired by the system clock long ago, live at the store's time.
        s.revoke("a", at + Duration::from_secs(10)).await.unwrap();
        assert!(s.is_revoked("a").await.unwrap());
        let later = MemoryRevocationStore::new().clock(move || at + Duration::from_secs(10));
        later
            .revoke("b", at + Duration::from_secs(10))
            .await
            .unwrap();
        assert!(!later.is_revoked("b").await.unwrap());
    }
}
