//! Where sessions and counters live: traits, and an in-memory
//! implementation. A shared backend (Redis, in `bouncer-redis`) lets
//! several API instances see the same sessions, logouts and counters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bouncer_core::Fault;
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

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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

/// Sessions and counters in process memory, expiring by themselves.
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    inner: Mutex<MemoryInner>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
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
        let now = SystemTime::now();
        let mut inner = self.lock();
        Self::purge(&mut inner, now);
        inner
            .sessions
            .insert(key.to_owned(), (record.clone(), now + ttl));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<SessionRecord>, Fault> {
        let now = SystemTime::now();
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
        let now = SystemTime::now();
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
        let now = SystemTime::now();
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
        let now = SystemTime::now();
        let mut inner = self.lock();
        Self::purge(&mut inner, now);
        if inner.counters.contains_key(key) {
            return Ok(false);
        }
        inner.counters.insert(key.to_owned(), (1, now + ttl));
        Ok(true)
    }
}
