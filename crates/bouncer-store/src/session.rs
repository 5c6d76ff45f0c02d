//! Where sessions and counters live: traits, and an in-memory
//! implementation. A shared backend (Redis, in `bouncer-redis`) lets
//! several API instances see the same sessions, logouts and counters.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bouncer_core::{Clock, Fault, SystemClock};
use serde::{Deserialize, Serialize};

/// How far a session got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionState {
    /// Password verified, second factor outstanding: every protected route
    /// answers `mfa_required`.
    MfaPending,
    /// Fully authenticated.
    Complete,
}

/// What a session holds. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The authenticated subject.
    pub subject: String,
    /// Pending or complete.
    pub state: SessionState,
    /// When the session was created (the absolute timeout counts from here).
    pub created_at: u64,
    /// Last use (the idle timeout counts from here).
    pub last_seen: u64,
    /// When the user last authenticated (password, or MFA completion).
    pub auth_time: u64,
    /// Authentication methods used (`pwd`, `otp`, `mfa`).
    pub amr: Vec<String>,
    /// Wrong second-factor codes so far.
    #[serde(default)]
    pub mfa_failures: u32,
}

/// Stores sessions under the hash of their id (the id itself is never
/// stored). Every error is a fault: 503 when the backend is unreachable.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores `record` under `key` for `ttl` (replacing any record).
    async fn put(&self, key: &str, record: &SessionRecord, ttl: Duration) -> Result<(), Fault>;

    /// The record under `key`, if any and not expired.
    async fn get(&self, key: &str) -> Result<Option<SessionRecord>, Fault>;

    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), Fault>;
}

/// Counters with expiry, for login throttling and one-time codes.
#[async_trait]
pub trait CounterStore: Send + Sync + 'static {
    /// Increments `key` (starting a `window` when it is new) and returns the
    /// new count.
    async fn increment(&self, key: &str, window: Duration) -> Result<u64, Fault>;

    /// The count under `key` and how long until it resets.
    async fn count(&self, key: &str) -> Result<(u64, Duration), Fault>;

    /// Resets `key`.
    async fn reset(&self, key: &str) -> Result<(), Fault>;

    /// Sets `key` for `ttl` if it is absent; `true` when this call set it
    /// (the first use of a one-time code).
    async fn set_once(&self, key: &str, ttl: Duration) -> Result<bool, Fault>;
}

#[derive(Debug, Default)]
struct MemoryInner {
    sessions: HashMap<String, (SessionRecord, SystemTime)>,
    counters: HashMap<String, (u64, SystemTime)>,
}

/// Sessions and counters in process memory, expiring by themselves at the
/// store's [`Clock`] (the system clock unless [`clock`](Self::clock) sets
/// another). A shared store (Redis) expires keys by its own clock.
pub struct MemorySessionStore {
    inner: Mutex<MemoryInner>,
    clock: Arc<dyn Clock>,
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are hashes of session ids, but still nobody's business.
        let inner = self.lock();
        f.debug_struct("MemorySessionStore")
            .field("sessions", &inner.sessions.len())
            .field("counters", &inner.counters.len())
            .finish_non_exhaustive()
    }
}

impl MemorySessionStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the time from `clock` instead of the system clock (use the
    /// gate's, [`GateBuilder::clock`](bouncer_core::GateBuilder::clock), and
    /// the sessions', `Sessions::clock` in bouncer-session).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn purge(inner: &mut MemoryInner, now: SystemTime) {
        inner.sessions.retain(|_, (_, exp)| *exp > now);
        inner.counters.retain(|_, (_, exp)| *exp > now);
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn put(&self, key: &str, record: &SessionRecord, ttl: Duration) -> Result<(), Fault> {
        let now = self.clock.now();
        let mut inner = self.lock();
        Self::purge(&mut inner, now);
        inner
            .sessions
            .insert(key.to_owned(), (record.clone(), now + ttl));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<SessionRecord>, Fault> {
        let now = self.clock.now();
        let inner = self.lock();
        Ok(inner
            .sessions
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(r, _)| r.clone()))
    }

    async fn delete(&self, key: &str) -> Result<(), Fault> {
        self.lock().sessions.remove(key);
        Ok(())
    }
}

#[async_trait]
impl CounterStore for MemorySessionStore {
    async fn increment(&self, key: &str, window: Duration) -> Result<u64, Fault> {
        let now = self.clock.now();
        let mut inner = self.lock();
        Self::purge(&mut inner, now);
        let entry = inner
            .counters
            .entry(key.to_owned())
            .or_insert((0, now + window));
        entry.0 += 1;
        Ok(entry.0)
    }

    async fn count(&self, key: &str) -> Result<(u64, Duration), Fault> {
        let now = self.clock.now();
        let inner = self.lock();
        Ok(match inner.counters.get(key) {
            Some((n, exp)) if *exp > now => (*n, exp.duration_since(now).unwrap_or_default()),
            _ => (0, Duration::ZERO),
        })
    }

    async fn reset(&self, key: &str) -> Result<(), Fault> {
        self.lock().counters.remove(key);
        Ok(())
    }

    async fn set_once(&self, key: &str, ttl: Duration) -> Result<bool, Fault> {
        let now = self.clock.now();
        let mut inner = self.lock();
        Self::purge(&mut inner, now);
        if inner.counters.contains_key(key) {
            return Ok(false);
        }
        inner.counters.insert(key.to_owned(), (1, now + ttl));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> SessionRecord {
        SessionRecord {
            subject: "alice".to_owned(),
            state: SessionState::Complete,
            created_at: 0,
            last_seen: 0,
            auth_time: 0,
            amr: vec!["pwd".to_owned()],
            mfa_failures: 0,
        }
    }

    #[tokio::test]
    async fn entries_expire_at_the_stores_clock() {
        let now = Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000),
        ));
        let read = now.clone();
        let store = MemorySessionStore::new().clock(move || match read.lock() {
            Ok(t) => *t,
            Err(p) => *p.into_inner(),
        });
        store
            .put("k", &record(), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(
            store.increment("c", Duration::from_secs(10)).await.unwrap(),
            1
        );
        assert!(store.set_once("o", Duration::from_secs(10)).await.unwrap());
        assert!(store.get("k").await.unwrap().is_some());
        assert_eq!(
            store.count("c").await.unwrap(),
            (1, Duration::from_secs(10))
        );

        *now.lock().unwrap() += Duration::from_secs(10);
        assert!(store.get("k").await.unwrap().is_none());
        assert_eq!(store.count("c").await.unwrap(), (0, Duration::ZERO));
        assert!(store.set_once("o", Duration::from_secs(10)).await.unwrap());
    }
}
