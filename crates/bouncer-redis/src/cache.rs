//! [`CacheStore`] in Redis: every instance sees the answers another one
//! cached. Values are stored with `SET … PX`, so Redis drops them at the
//! end of their time to live by itself.

use std::time::Duration;

use async_trait::async_trait;
use bouncer_core::Fault;
use bouncer_store::CacheStore;

use crate::{RedisStore, Request};

/// Milliseconds for `PX`, rounded down (never longer than asked), at least 1.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl CacheStore for RedisStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Fault> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key("cache:", key));
        self.query::<Option<Vec<u8>>>(Request::Cmd(&cmd)).await
    }

    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), Fault> {
        if ttl.is_zero() {
            return Ok(());
        }
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key("cache:", key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl));
        self.query::<()>(Request::Cmd(&cmd)).await
    }

    async fn remove(&self, key: &str) -> Result<(), Fault> {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key("cache:", key));
        self.query::<()>(Request::Cmd(&cmd)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn px_is_never_longer_than_the_ttl() {
        assert_eq!(millis(Duration::from_micros(1_999)), 1);
        assert_eq!(millis(Duration::from_micros(500)), 1);
        assert_eq!(millis(Duration::from_secs(3)), 3_000);
    }
}
