//! [`ReplayStore`] in Redis: one `SET key 1 NX PX <ttl>` per id, so that
//! the check and the record are one atomic step on the server and every
//! instance pointed at it sees the same ids.

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use bouncer_core::Fault;
use bouncer_store::ReplayStore;
use sha2::{Digest, Sha256};

use crate::{RedisStore, Request};

/// `replay:<hex sha256 of the id>`: ids are caller-chosen text, so the key
/// is a fixed-length hash of them, never the text itself.
pub(crate) fn replay_key(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let mut key = String::with_capacity(7 + 64);
    key.push_str("replay:");
    for b in digest {
        let _ = write!(key, "{b:02x}");
    }
    key
}

#[async_trait]
impl ReplayStore for RedisStore {
    async fn first_use(&self, id: &str, ttl: Duration) -> Result<bool, Fault> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key("", &replay_key(id)))
            .arg(1u8)
            .arg("NX")
            .arg("PX")
            .arg(ms);
        let set: Option<String> = self.query(Request::Cmd(&cmd)).await?;
        Ok(set.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_and_fixed_length() {
        let a = replay_key("jkt.jti-1");
        assert_eq!(a.len(), 7 + 64);
        assert!(a.starts_with("replay:"));
        assert!(!a.contains("jti-1"));
        assert_ne!(a, replay_key("jkt.jti-2"));
        assert_eq!(a, replay_key("jkt.jti-1"));
    }
}
