//! Server-provided nonces (RFC 9449 §8, §9): stateless, so that every
//! instance holding the same secret issues and accepts the same nonces
//! without sharing a store.
//!
//! A nonce is `base64url(period ‖ HMAC-SHA256(secret, "dpop-nonce" ‖
//! period)[..16])`, where `period` is the time (by the gate's clock)
//! divided by the rotation period. The current and the previous period's
//! nonces are accepted, so a nonce lives between one and two periods.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The shortest secret accepted.
pub const MIN_NONCE_SECRET_LEN: usize = 32;

/// Why a nonce source could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NonceError {
    /// The secret is shorter than [`MIN_NONCE_SECRET_LEN`].
    #[error("the DPoP nonce secret must have at least {MIN_NONCE_SECRET_LEN} bytes")]
    ShortSecret,
    /// The period is zero.
    #[error("the DPoP nonce period must be at least one second")]
    ZeroPeriod,
}

/// Issues and checks rotating nonces. Share the secret between instances
/// (and keep it secret: whoever has it can mint nonces).
#[derive(Clone)]
pub struct NonceSource {
    secret: Vec<u8>,
    period: u64,
}

impl fmt::Debug for NonceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonceSource")
            .field("secret", &"<redacted>")
            .field("period", &self.period)
            .finish()
    }
}

const TAG_LEN: usize = 16;

impl NonceSource {
    /// Nonces made with `secret` that rotate every `period` (whole
    /// seconds).
    pub fn new(secret: &[u8], period: Duration) -> Result<Self, NonceError> {
        if secret.len() < MIN_NONCE_SECRET_LEN {
            return Err(NonceError::ShortSecret);
        }
        if period.as_secs() == 0 {
            return Err(NonceError::ZeroPeriod);
        }
        Ok(Self {
            secret: secret.to_vec(),
            period: period.as_secs(),
        })
    }

    fn period_of(&self, now: SystemTime) -> u64 {
        now.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            / self.period
    }

    fn tag(&self, period: u64) -> [u8; TAG_LEN] {
        let mut out = [0u8; TAG_LEN];
        // HMAC takes a key of any length.
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) {
            mac.update(b"dpop-nonce");
            mac.update(&period.to_be_bytes());
            let full = mac.finalize().into_bytes();
            for (o, b) in out.iter_mut().zip(full.iter()) {
                *o = *b;
            }
        }
        out
    }

    /// The nonce to hand out at `now`.
    pub fn current(&self, now: SystemTime) -> String {
        let period = self.period_of(now);
        let mut raw = Vec::with_capacity(8 + TAG_LEN);
        raw.extend_from_slice(&period.to_be_bytes());
        raw.extend_from_slice(&self.tag(period));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    /// Whether `nonce` is this period's or the previous one's at `now`.
    pub fn is_valid(&self, nonce: &str, now: SystemTime) -> bool {
        if nonce.len() > 64 {
            return false;
        }
        let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let (Some(period), Some(tag)) = (raw.get(..8), raw.get(8..)) else {
            return false;
        };
        let Ok(period) = <[u8; 8]>::try_from(period).map(u64::from_be_bytes) else {
            return false;
        };
        let current = self.period_of(now);
        let fresh = period == current || period.checked_add(1) == Some(current);
        fresh && tag.len() == TAG_LEN && bool::from(self.tag(period).ct_eq(tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-dpop-nonce-secret-of-32-bytes!!";

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn a_nonce_lives_one_to_two_periods() {
        let n = NonceSource::new(SECRET, Duration::from_secs(60)).unwrap();
        let issued = n.current(at(6_000));
        assert!(n.is_valid(&issued, at(6_000)));
        assert!(
            n.is_valid(&issued, at(6_119)),
            "the next period still takes it"
        );
        assert!(!n.is_valid(&issued, at(6_120)));
        assert!(!n.is_valid(&issued, at(5_999)), "not before its period");
        assert_ne!(n.current(at(6_060)), issued, "it rotates");
    }

    #[test]
    fn instances_with_the_secret_agree_and_others_do_not() {
        let a = NonceSource::new(SECRET, Duration::from_secs(60)).unwrap();
        let b = NonceSource::new(SECRET, Duration::from_secs(60)).unwrap();
        let other = NonceSource::new(
            b"another-secret-of-at-least-32-bytes",
            Duration::from_secs(60),
        )
        .unwrap();
        let nonce = a.current(at(100));
        assert!(b.is_valid(&nonce, at(100)));
        assert!(!other.is_valid(&nonce, at(100)));
        for junk in ["", "x", "!!!!", &"A".repeat(200), &nonce[1..]] {
            assert!(!a.is_valid(junk, at(100)), "{junk}");
        }
        assert!(!format!("{a:?}").contains("secret-of"));
        assert_eq!(
            NonceSource::new(b"short", Duration::from_secs(1)).unwrap_err(),
            NonceError::ShortSecret
        );
        assert_eq!(
            NonceSource::new(SECRET, Duration::ZERO).unwrap_err(),
            NonceError::ZeroPeriod
        );
    }
}
