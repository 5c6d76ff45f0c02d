//! [`DecisionId`]: the id of one decision, in the problem body's
//! `instance` (`urn:bouncer:decision:<id>`) and in the decision log
//! (`explain.md` §1).

use std::cell::RefCell;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_chacha::rand_core::{RngCore as _, SeedableRng as _};
use rand_chacha::ChaCha12Rng;
use std::sync::atomic::{AtomicU64, Ordering};

/// The URN prefix of a decision id in a problem body's `instance`.
pub const DECISION_URN_PREFIX: &str = "urn:bouncer:decision:";

/// 16 random bytes (128 bits) as unpadded base64url: 22 characters.
const LEN: usize = 22;

/// The id of one decision: 128 random bits, written as 22 characters of
/// unpadded base64url (URL-safe). `Copy`, no allocation.
///
/// The bits come from a per-thread ChaCha12 generator seeded once from the
/// operating system: a system call per decision would cost more than the
/// rest of the layer (the ids name decisions; they are not secrets).
///
/// ```
/// use bouncer_core::DecisionId;
///
/// let id = DecisionId::new();
/// assert_eq!(id.as_str().len(), 22);
/// assert!(id.urn().starts_with("urn:bouncer:decision:"));
/// assert_eq!(DecisionId::from_urn(&id.urn()), Some(id));
/// assert_ne!(DecisionId::new(), id);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionId {
    text: [u8; LEN],
    sample: u32,
}

impl DecisionId {
    /// A fresh id. Should the operating system's generator fail when a
    /// thread seeds its own (it does not on supported platforms), the ids
    /// are still unique in this process: the seed is a counter mixed with
    /// the time.
    pub fn new() -> Self {
        let mut bytes = [0u8; 16];
        // A thread being torn down has no generator left: ask the system.
        if GENERATOR
            .try_with(|g| g.borrow_mut().fill_bytes(&mut bytes))
            .is_err()
            && getrandom::getrandom(&mut bytes).is_err()
        {
            bytes = fallback();
        }
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: [u8; 16]) -> Self {
        let mut text = [b'A'; LEN];
        // 16 bytes always fit 22 characters: the error cannot happen.
        let _ = URL_SAFE_NO_PAD.encode_slice(bytes, &mut text);
        Self {
            text,
            sample: sample_of(&bytes),
        }
    }

    /// The id: 22 characters of `A–Z a–z 0–9 - _`.
    pub fn as_str(&self) -> &str {
        // Only base64url's ASCII is ever written.
        std::str::from_utf8(&self.text).unwrap_or("")
    }

    /// `urn:bouncer:decision:<id>`, for `RenderOptions::instance` (feature
    /// `json`).
    pub fn urn(&self) -> String {
        format!("{DECISION_URN_PREFIX}{}", self.as_str())
    }

    /// Reads an id back from its `instance` URN (`None` unless it is
    /// `urn:bouncer:decision:` and 22 base64url characters).
    pub fn from_urn(urn: &str) -> Option<Self> {
        let id = urn.strip_prefix(DECISION_URN_PREFIX)?;
        Self::parse(id)
    }

    /// Reads an id back from its 22 characters (canonical base64url: the
    /// last character's unused bits are zero, as [`DecisionId::new`]
    /// writes them).
    pub fn parse(id: &str) -> Option<Self> {
        if id.len() != LEN {
            return None;
        }
        let mut bytes = [0u8; 16];
        match URL_SAFE_NO_PAD.decode_slice(id, &mut bytes) {
            Ok(16) => Some(Self::from_bytes(bytes)),
            _ => None,
        }
    }

    /// Whether a decision with this id falls in a sample of `rate`
    /// (0.0 – 1.0), decided from the id's random bits.
    pub fn sampled(&self, rate: f64) -> bool {
        if rate >= 1.0 {
            return true;
        }
        if rate <= 0.0 || rate.is_nan() {
            return false;
        }
        f64::from(self.sample) < rate * 4_294_967_296.0
    }
}

/// The first 30 random bits (the first five characters), as the top of
/// a `u32`.
fn sample_of(bytes: &[u8; 16]) -> u32 {
    let [a, b, c, d, ..] = *bytes;
    u32::from_be_bytes([a, b, c, d]) & !3
}

thread_local! {
    static GENERATOR: RefCell<ChaCha12Rng> = RefCell::new(ChaCha12Rng::from_seed(seed()));
}

fn seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    if getrandom::getrandom(&mut seed).is_err() {
        let (a, b) = seed.split_at_mut(16);
        a.copy_from_slice(&fallback());
        b.copy_from_slice(&fallback());
    }
    seed
}

fn fallback() -> [u8; 16] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut out = [0u8; 16];
    for (o, b) in out
        .iter_mut()
        .zip(t.to_be_bytes().into_iter().chain(n.to_be_bytes()))
    {
        *o = b;
    }
    out
}

impl Default for DecisionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecisionId({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_22_urlsafe_characters_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let id = DecisionId::new();
            assert_eq!(id.as_str().len(), 22);
            assert!(id
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(seen.insert(id.as_str().to_owned()));
        }
    }

    #[test]
    fn threads_seed_their_own_generators() {
        let ids = |n| (0..n).map(|_| DecisionId::new()).collect::<Vec<_>>();
        let other = std::thread::spawn(move || ids(5_000)).join().unwrap();
        let mut seen: std::collections::HashSet<_> = ids(5_000).into_iter().collect();
        assert_eq!(seen.len(), 5_000);
        seen.extend(other);
        assert_eq!(seen.len(), 10_000, "two threads drew the same ids");
    }

    #[test]
    fn known_bytes_encode_as_base64url() {
        let id = DecisionId::from_bytes([0xff; 16]);
        assert_eq!(id.as_str(), "_____________________w");
        let id = DecisionId::from_bytes([0; 16]);
        assert_eq!(id.as_str(), "AAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn parse_reads_back_only_canonical_ids() {
        for _ in 0..100 {
            let id = DecisionId::new();
            assert_eq!(DecisionId::parse(id.as_str()), Some(id));
        }
        // The last character carries 2 bits; its other 4 must be zero.
        assert_eq!(DecisionId::parse("_____________________x"), None);
        for bad in [
            "",
            "AAAA",
            "AAAAAAAAAAAAAAAAAAAAA=",
            "AAAAAAAAAAAAAAAAAAAAA+",
            "AAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(DecisionId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_sample_is_the_first_five_characters() {
        let id = DecisionId::from_bytes([0xab; 16]);
        // "q6ur": 0xabababab, its first 30 bits.
        assert_eq!(id.sample, 0xabab_abab & !3);
        assert_eq!(DecisionId::parse(id.as_str()).unwrap().sample, id.sample);
    }

    #[test]
    fn sampling_follows_the_rate() {
        let ids: Vec<_> = (0..10_000).map(|_| DecisionId::new()).collect();
        assert!(ids.iter().all(|i| i.sampled(1.0)));
        assert!(ids.iter().all(|i| !i.sampled(0.0)));
        let n = ids.iter().filter(|i| i.sampled(0.1)).count();
        assert!((700..1300).contains(&n), "{n}");
    }
}
