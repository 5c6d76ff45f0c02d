//! A bounded cache of verified tokens, keyed by the whole token.
//!
//! A hit skips signature verification and claim parsing, never the
//! revocation check (the authenticator consults the store on every
//! request). An entry is dropped when its token expires, and ignored once
//! the key set changes (a rotated-out key must not keep verifying).
//!
//! Built so that a miss costs next to nothing over no cache at all (tokens
//! that never repeat, such as one per request, must not pay for the cache):
//! a fixed table of two-way buckets, each slot behind its own lock; a
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
}

/// Verified tokens, in `2 * buckets` slots.
pub(crate) struct TokenCache {
    slots: Box<[RwLock<Slot>]>,
    /// `buckets - 1`, buckets a power of two.
    mask: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.slots.len())
            .finish()
    }
}

fn hash(token: &str) -> usize {
    let tail = token
        .as_bytes()
        .get(token.len().saturating_sub(HASHED_TAIL)..)
        .unwrap_or_default();
    let mut h = FxBuildHasher.build_hasher();
    h.write(tail);
    h.write_usize(token.len());
    // Fx's high bits are the well-mixed ones.
    (h.finish() >> 20) as usize
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let buckets = capacity.div_ceil(2).max(1).next_power_of_two();
        Self {
            slots: (0..buckets * 2).map(|_| RwLock::default()).collect(),
            mask: buckets - 1,
        }
    }

    /// The two slots of `token`'s bucket.
    fn bucket(&self, token: &str) -> [Option<&RwLock<Slot>>; 2] {
        let i = (hash(token) & self.mask) * 2;
        [self.slots.get(i), self.slots.get(i + 1)]
    }

    /// The cached identity of `token`, if verified under the key set
    /// `keys` and not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: u64, keys: usize) -> Option<Identity> {
        self.bucket(token).into_iter().flatten().find_map(|slot| {
            let s = slot.read().ok()?;
            (s.token == token && s.is_live(now, keys))
                .then(|| s.identity.clone())
                .flatten()
        })
    }

    pub(crate) fn insert(&self, token: &str, identity: &Identity, exp: u64, keys: usize, now: u64) {
        let [a, b] = self.bucket(token);
        let (Some(a), Some(b)) = (a, b) else { return };
        // The slot already holding the token, else a dead one, else the
        // one that expires first.
        let pick = {
            let (Ok(sa), Ok(sb)) = (a.read(), b.read()) else {
                return;
            };
            if sa.token == token || !sa.is_live(now, keys) {
                a
            } else if sb.token == token || !sb.is_live(now, keys) || sb.exp < sa.exp {
                b
            } else {
                a
            }
        };
        let Ok(mut s) = pick.write() else { return };
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
        assert_eq!(c.slots.len(), 16);
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
