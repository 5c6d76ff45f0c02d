//! # bouncer-redis
//!
//! Redis-backed stores for bouncer, so that several API instances share
//! one view: a token revoked on one is refused by all, a session started on
//! one works on all, failed-login counters add up across them, and an
//! introspection answer cached by one serves all.
//!
//! **Depend on this crate** when you run more than one instance. One
//! [`RedisStore`] implements all five traits:
//!
//! | trait | keys (under the prefix) | expiry |
//! |---|---|---|
//! | [`RevocationStore`] | `revoked:<id>` | the token's `exp` |
//! | [`SessionStore`] | `session:<sha256 of the id>` | the idle/absolute timeout |
//! | [`CounterStore`] | `login-failures:…`, `totp-used:…` | the throttle window / code lifetime |
//! | [`ReplayStore`](bouncer_store::ReplayStore) | `replay:<sha256 of the id>` (`SET NX PX`, atomic) | the id's window (DPoP proof `jti`s) |
//! | [`CacheStore`] | `cache:<key>` (introspection: `cache:introspection:<sha256 of the token>`) | the time to live (`PX`), never past the token's `exp` |
//!
//! No optional features: everything above is always built.
//!
//! **When Redis is unreachable**, every operation fails within the
//! configured timeouts with a [`Fault::Unavailable`](bouncer_core::Fault):
//! the gate answers 503 with `Retry-After`, never 401/403 and never allow.
//! (The introspection cache is the one exception by design: an unreachable
//! cache is a miss, and the endpoint is asked.)
//! After a failure the store fails fast for
//! [`RedisStoreConfig::fail_fast`] (1 s) instead of letting every request
//! wait for a timeout.
//! The connection is made lazily and re-made by the connection manager, so
//! an instance started while Redis was down, or that lost it, recovers by
//! itself when Redis returns.
//!
//! For tests against a real server, `bouncer-test`'s `RedisServer` starts
//! a throwaway `redis-server` on a loopback port.
//!
//! ```no_run
//! use std::sync::Arc;
//! use bouncer_redis::RedisStore;
//!
//! let store = Arc::new(RedisStore::open("redis://127.0.0.1:6379/0")?);
//! // Arc<RedisStore> serves as revocation store, session store, counters and cache.
//! # Ok::<(), bouncer_redis::RedisStoreError>(())
//! ```

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bouncer_core::Fault;
#[cfg(doc)]
use bouncer_store::CacheStore;
use bouncer_store::{CounterStore, RevocationStore, SessionRecord, SessionStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::Mutex;

mod cache;
mod replay;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The URL is not a Redis URL.
    #[error("invalid Redis URL: {0}")]
    Url(#[from] redis::RedisError),
}

/// Timeouts and naming.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisStoreConfig {
    /// Prefix of every key (default `bouncer:`).
    pub prefix: String,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for one command.
    pub command_timeout: Duration,
    /// The `Retry-After` sent while Redis is unreachable.
    pub retry_after: Duration,
    /// After a failure, answer 503 at once for this long rather than let
    /// every request wait for a timeout (a circuit breaker).
    pub fail_fast: Duration,
}

impl Default for RedisStoreConfig {
    fn default() -> Self {
        Self {
            prefix: "bouncer:".to_owned(),
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(500),
            retry_after: Duration::from_secs(5),
            fail_fast: Duration::from_secs(1),
        }
    }
}

/// Revocations, sessions and counters in Redis.
pub struct RedisStore {
    client: redis::Client,
    config: RedisStoreConfig,
    manager: Mutex<Option<ConnectionManager>>,
    /// After a failure, requests fail fast (503 at once) until this
    /// instant, instead of each waiting for a timeout while Redis is down.
    fail_fast_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only where it points.
        let info = self.client.get_connection_info();
        f.debug_struct("RedisStore")
            .field("addr", &info.addr.to_string())
            .field("db", &info.redis.db)
            .field("config", &self.config)
            .finish()
    }
}

impl RedisStore {
    /// A store for `url` with default settings. Does not connect yet.
    pub fn open(url: &str) -> Result<Self, RedisStoreError> {
        Self::with_config(url, RedisStoreConfig::default())
    }

    /// A store for `url` with `config`. Does not connect yet.
    pub fn with_config(url: &str, config: RedisStoreConfig) -> Result<Self, RedisStoreError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            config,
            manager: Mutex::new(None),
            fail_fast_until: std::sync::Mutex::new(None),
        })
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}{id}", self.config.prefix)
    }

    fn unavailable(&self, what: impl std::fmt::Display) -> Fault {
        Fault::unavailable("redis", self.config.retry_after, what.to_string())
    }

    /// A failure opens a short fail-fast window.
    fn failed(&self, what: impl std::fmt::Display) -> Fault {
        if let Ok(mut until) = self.fail_fast_until.lock() {
            *until = Some(std::time::Instant::now() + self.config.fail_fast);
        }
        self.unavailable(what)
    }

    fn failing_fast(&self) -> bool {
        self.fail_fast_until
            .lock()
            .ok()
            .and_then(|u| *u)
            .is_some_and(|u| std::time::Instant::now() < u)
    }

    /// The connection, made on first use (and again after a failed start).
    async fn connection(&self) -> Result<ConnectionManager, Fault> {
        let mut slot = self.manager.lock().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(self.config.connect_timeout)
            .set_response_timeout(self.config.command_timeout)
            .set_number_of_retries(1)
            .set_max_delay(200);
        let made = tokio::time::timeout(
            self.config.connect_timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), cfg),
        )
        .await;
        match made {
            Ok(Ok(m)) => {
                *slot = Some(m.clone());
                Ok(m)
            }
            Ok(Err(e)) => Err(self.failed(e)),
            Err(_) => Err(self.failed("connection timed out")),
        }
    }

    /// Sends a command or pipeline with the command timeout; every failure
    /// is 503. A dropped connection is retried once: the connection manager
    /// has reconnected by then if Redis is back.
    async fn query<T: redis::FromRedisValue>(&self, request: Request<'_>) -> Result<T, Fault> {
        if self.failing_fast() {
            return Err(self.unavailable("recently unreachable"));
        }
        let mut retried = false;
        loop {
            let mut conn = self.connection().await?;
            let sent = match request {
                Request::Cmd(cmd) => {
                    tokio::time::timeout(
                        self.config.command_timeout,
                        cmd.query_async::<T>(&mut conn),
                    )
                    .await
                }
                Request::Pipe(pipe) => {
                    tokio::time::timeout(
                        self.config.command_timeout,
                        pipe.query_async::<T>(&mut conn),
                    )
                    .await
                }
            };
            match sent {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) if !retried && (e.is_io_error() || e.is_connection_dropped()) => {
                    retried = true
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "bouncer", error = %e, "redis command failed");
                    return Err(self.failed(e));
                }
                Err(_) => return Err(self.failed("command timed out")),
            }
        }
    }

    /// Checks that Redis answers (`PING`).
    pub async fn ping(&self) -> Result<(), Fault> {
        self.query::<String>(Request::Cmd(&redis::cmd("PING")))
            .await
            .map(|_| ())
    }
}

#[derive(Clone, Copy)]
enum Request<'a> {
    Cmd(&'a redis::Cmd),
    Pipe(&'a redis::Pipeline),
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

#[async_trait]
impl RevocationStore for RedisStore {
    async fn revoke(&self, id: &str, until: SystemTime) -> Result<(), Fault> {
        let ttl = until.duration_since(SystemTime::now()).unwrap_or_default();
        if ttl.is_zero() {
            return Ok(()); // already expired: nothing to remember
        }
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key("revoked:", id))
            .arg(1u8)
            .arg("EX")
            .arg(secs(ttl));
        self.query::<()>(Request::Cmd(&cmd)).await
    }

    async fn is_revoked(&self, id: &str) -> Result<bool, Fault> {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(self.key("revoked:", id));
        self.query::<bool>(Request::Cmd(&cmd)).await
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn put(&self, key: &str, record: &SessionRecord, ttl: Duration) -> Result<(), Fault> {
        let json = serde_json::to_string(record)
            .map_err(|e| Fault::internal("serializing a session", e))?;
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key("", key))
            .arg(json)
            .arg("EX")
            .arg(secs(ttl));
        self.query::<()>(Request::Cmd(&cmd)).await
    }

    async fn get(&self, key: &str) -> Result<Option<SessionRecord>, Fault> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key("", key));
        match self.query::<Option<String>>(Request::Cmd(&cmd)).await? {
            None => Ok(None),
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| Fault::internal("a stored session does not parse", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), Fault> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key("", key));
        self.query::<()>(Request::Cmd(&cmd)).await
    }
}

#[async_trait]
impl CounterStore for RedisStore {
    async fn increment(&self, key: &str, window: Duration) -> Result<u64, Fault> {
        let key = self.key("", key);
        // INCR, and start the window only if it has none, atomically.
        let mut pipe = redis::pipe();
        pipe.atomic()
            .incr(&key, 1u64)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(secs(window))
            .arg("NX")
            .ignore();
        let (n,): (u64,) = self.query(Request::Pipe(&pipe)).await?;
        Ok(n)
    }

    async fn count(&self, key: &str) -> Result<(u64, Duration), Fault> {
        let key = self.key("", key);
        let mut pipe = redis::pipe();
        pipe.get(&key).pttl(&key);
        let (n, ttl_ms): (Option<u64>, i64) = self.query(Request::Pipe(&pipe)).await?;
        let left = u64::try_from(ttl_ms)
            .map(Duration::from_millis)
            .unwrap_or_default();
        Ok((n.unwrap_or(0), left))
    }

    async fn reset(&self, key: &str) -> Result<(), Fault> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key("", key));
        self.query::<()>(Request::Cmd(&cmd)).await
    }

    async fn set_once(&self, key: &str, ttl: Duration) -> Result<bool, Fault> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key("", key))
            .arg(1u8)
            .arg("NX")
            .arg("EX")
            .arg(secs(ttl));
        let set: Option<String> = self.query(Request::Cmd(&cmd)).await?;
        Ok(set.is_some())
    }
}
