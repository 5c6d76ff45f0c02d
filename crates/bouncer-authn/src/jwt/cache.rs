//! A bounded cache of verified tokens, keyed by the whole token.
//!
//! A hit skips signature verification and claim parsing, never the
//! revocation check (the authenticator consults the store on every
//! request). An entry is dropped when its token expires, and ignored once
//! the key set changes (a rotated-out key must not keep verifying).

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::RwLock;

use bouncer_core::Identity;
use rustc_hash::FxBuildHasher;

const SHARDS: usize = 16;

struct Entry {
    identity: Identity,
    exp: u64,
    keys: usize,
}

/// Verified tokens, sharded to keep lock contention low.
pub(crate) struct TokenCache {
    shards: Vec<RwLock<HashMap<Box<str>, Entry, FxBuildHasher>>>,
    per_shard: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &(self.per_shard * SHARDS))
            .finish()
    }
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        Self {
            shards: (0..SHARDS)
                .map(|_| RwLock::new(HashMap::with_hasher(FxBuildHasher)))
                .collect(),
            per_shard,
        }
    }

    fn shard(&self, token: &str) -> Option<&RwLock<HashMap<Box<str>, Entry, FxBuildHasher>>> {
        let i = usize::try_from(FxBuildHasher.hash_one(token) % SHARDS as u64).unwrap_or(0);
        self.shards.get(i)
    }

    /// The cached identity of `token`, if verified under the key set
    /// `keys` and not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: u64, keys: usize) -> Option<Identity> {
        let shard = self.shard(token)?.read().ok()?;
        let e = shard.get(token)?;
        (e.exp >= now && e.keys == keys).then(|| e.identity.clone())
    }

    pub(crate) fn insert(&self, token: &str, identity: &Identity, exp: u64, keys: usize) {
        let Some(shard) = self.shard(token) else {
            return;
        };
        let Ok(mut map) = shard.write() else { return };
        if map.len() >= self.per_shard {
            // Full: drop what has expired, else start the shard afresh.
            map.retain(|_, e| e.keys == keys);
            if map.len() >= self.per_shard {
                map.clear();
            }
        }
        map.insert(
            token.into(),
            Entry {
                identity: identity.clone(),
                exp,
                keys,
            },
        );
    }
}
