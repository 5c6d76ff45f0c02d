//! A bounded cache of verified tokens, keyed by the whole token.
//!
//! A hit skips signature verification and claim parsing, never the
//! revocation check (the authenticator consults the store on every
//! request). An entry is dropped when its token expires, and ignored once
//! the key set changes (a rotated-out key must not keep verifying).
//!
//! Built so that a miss costs next to nothing over no cache at all (tokens
//! that never repeat, such as one per request, must not pay for the cache):
//! a fixed table of two-way buckets, each behind its own lock; a
//! token's slot comes from a hash of its last bytes only (the signature,
//! which differs between any two tokens a key signed); an insert reuses the
//! slot's buffer for the token, so it neither allocates once the table is
//! warm nor ever sweeps a shard. Only verified tokens are inserted, so no
//! one without a signing key chooses where entries land.

use std::hash::{BuildHasher, Hasher};
use std::sync::RwLock;

use bouncer_core::Identity;
use rustc_hash::FxBuildHasher;

/// Bytes of the token's end that are hashed.
const HASHED_TAIL: usize = 32;

#[derive(Default)]
struct Slot {
    token: String,
    identity: Option<Identity>,
    exp: u64,
    keys: usize,
}

impl Slot {
    fn is_live(&self, now: u64, keys: usize) -> bool {
        self.identity.is_some() && self.exp >= now && self.keys == keys
    }

    /// Whether the slot holds `token`: the signature end first, where two
    /// tokens differ (their headers and common claims are alike).
    fn holds(&self, token: &str, tail: &[u8]) -> bool {
        self.token.len() == token.len()
            && self.token.as_bytes().ends_with(tail)
            && self.token == token
    }
}

/// Verified tokens, in buckets of two slots under one lock.
pub(crate) struct TokenCache {
    buckets: Box<[RwLock<[Slot; 2]>]>,
    /// `buckets - 1`, buckets a power of two.
    mask: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &(self.buckets.len() * 2))
            .finish()
    }
}

/// The hashed end of a token, and its hash.
fn tail_and_hash(token: &str) -> (&[u8], usize) {
    let tail = token
        .as_bytes()
        .get(token.len().saturating_sub(HASHED_TAIL)..)
        .unwrap_or_default();
    let mut h = FxBuildHasher.build_hasher();
    h.write(tail);
    h.write_usize(token.len());
    // Fx's high bits are the well-mixed ones.
    (tail, (h.finish() >> 20) as usize)
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let buckets = capacity.div_ceil(2).max(1).next_power_of_two();
        Self {
            buckets: (0..buckets).map(|_| RwLock::default()).collect(),
            mask: buckets - 1,
        }
    }

    /// The cached identity of `token`, if verified under the key set
    /// `keys` and not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: u64, keys: usize) -> Option<Identity> {
        let (tail, h) = tail_and_hash(token);
        let bucket = self.buckets.get(h & self.mask)?.read().ok()?;
        bucket
            .iter()
            .find(|s| s.holds(token, tail))
            .filter(|s| s.is_live(now, keys))
            .and_then(|s| s.identity.clone())
    }

    pub(crate) fn insert(&self, token: &str, identity: &Identity, exp: u64, keys: usize, now: u64) {
        let (tail, h) = tail_and_hash(token);
        let Some(bucket) = self.buckets.get(h & self.mask) else {
            return;
        };
        let Ok(mut bucket) = bucket.write() else {
            return;
        };
        // The slot already holding the token, else a dead one, else the
        // one that expires first (between equals, by a bit of the hash, so
        // that no slot keeps an entry for ever).
        let [a, b] = &*bucket;
        let pick = if a.holds(token, tail) || !a.is_live(now, keys) {
            0
        } else if b.holds(token, tail) || !b.is_live(now, keys) {
            1
        } else if a.exp != b.exp {
            usize::from(b.exp < a.exp)
        } else {
            (h >> 40) & 1
        };
        let Some(s) = bucket.get_mut(pick) else {
            return;
        };
        s.token.clear();
        s.token.push_str(token);
        s.identity = Some(identity.clone());
        s.exp = exp;
        s.keys = keys;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_core::SchemeName;

    fn id(name: &str) -> Identity {
        Identity::user(name, SchemeName::BEARER)
    }

    #[test]
    fn entries_live_until_exp_under_their_key_set() {
        let c = TokenCache::new(8);
        c.insert("a.b.c", &id("al"), 100, 1, 0);
        assert_eq!(
            c.get("a.b.c", 100, 1).map(|i| i.subject().to_owned()),
            Some("al".into())
        );
        assert!(c.get("a.b.c", 101, 1).is_none(), "expired");
        assert!(c.get("a.b.c", 50, 2).is_none(), "another key set");
        assert!(c.get("a.b.d", 50, 1).is_none(), "another token");
        // Re-inserting replaces the entry in place.
        c.insert("a.b.c", &id("bo"), 200, 2, 0);
        assert_eq!(
            c.get("a.b.c", 150, 2).map(|i| i.subject().to_owned()),
            Some("bo".into())
        );
    }

    #[test]
    fn bounded_and_never_wrong() {
        let c = TokenCache::new(16);
        let tokens: Vec<String> = (0..1000).map(|i| format!("h.p.sig{i:04}")).collect();
        for (i, t) in tokens.iter().enumerate() {
            c.insert(t, &id(&i.to_string()), 1000, 1, 0);
        }
        assert_eq!(c.buckets.len() * 2, 16);
        let mut hits = 0;
        for (i, t) in tokens.iter().enumerate() {
            if let Some(found) = c.get(t, 0, 1) {
                assert_eq!(
                    found.subject(),
                    i.to_string(),
                    "an entry is its own token's"
                );
                hits += 1;
            }
        }
        assert!(hits > 0 && hits <= 16, "{hits}");
        // The latest tokens are there.
        assert!(c
            .get(tokens.last().map_or("", String::as_str), 0, 1)
            .is_some());
    }
}
