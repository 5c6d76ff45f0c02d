//! Signature verification (jsonwebtoken) and claim validation.

use std::fmt;
use std::sync::Arc;

use std::borrow::Cow;
use std::time::SystemTime;

use std::sync::atomic::{AtomicUsize, Ordering};

use arc_swap::ArcSwap;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde::Deserialize;

use super::claims::{unix_secs, Claims, LOGTO_ORGANIZATION_AUDIENCE};
use super::keys::KeySet;
#[cfg(feature = "aws-lc-rs")]
use super::keys::VerifyKey;
use super::validation::JwtValidation;
use crate::secret::{hex, sha256};

/// Why a token was refused. Only [`JwtError::Expired`] maps to
/// `token_expired`; every other variant is `invalid_token`, except
/// [`JwtError::TooLong`], which is `malformed_credentials`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Longer than the configured maximum.
    #[error("the token is longer than allowed")]
    TooLong,
    /// Not a JWS compact serialization with a readable header.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// `alg` is not one this key set can verify (`none` never is).
    #[error("no key for this kid and algorithm")]
    UnknownKey,
    /// The header has `crit` extensions (none are understood).
    #[error("the token has critical header extensions")]
    Critical,
    /// The header `typ` is not allowed.
    #[error("the token type is not allowed")]
    WrongType,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// `exp` is in the past beyond the leeway.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future beyond the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Wrong or missing `iss`.
    #[error("the issuer is not accepted")]
    WrongIssuer,
    /// Wrong or missing `aud`.
    #[error("the audience is not accepted")]
    WrongAudience,
    /// A required claim is missing.
    #[error("a required claim is missing")]
    MissingClaim,
    /// A claim has the wrong type or the payload is not a JSON object.
    #[error("the claims are malformed")]
    BadClaims,
}

impl JwtError {
    /// A fixed description for `error_description`.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Expired => "the access token has expired",
            Self::TooLong => "the access token is too long",
            _ => "the access token is not valid",
        }
    }
}

/// The JOSE header fields bouncer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedHeader {
    /// The algorithm.
    pub alg: Algorithm,
    /// The key id.
    pub kid: Option<String>,
    /// The token type.
    pub typ: Option<String>,
}

/// A token whose signature and claims were verified.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The JOSE header.
    pub header: VerifiedHeader,
    /// The claims.
    pub claims: Claims,
    /// A stable id for revocation: `jti`, or a hash of the token.
    pub revocation_id: String,
}

/// Verifies tokens against a key set with fixed settings. Build once and
/// share. Signatures are verified by jsonwebtoken; the header is read
/// borrowed and the claims are parsed once. The key set is an atomically
/// swapped snapshot: a key source can replace it while requests read it
/// without a lock.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    keys: SharedKeys,
    settings: JwtValidation,
}

/// A key set that one side replaces while verifiers read it without a
/// lock: what a [`JwtVerifier`] reads, and what a JWKS source refreshing
/// from the network swaps. Clones share the set.
///
/// ```
/// use std::sync::Arc;
/// use bouncer_authn::jwt::{JwtValidation, JwtVerifier, KeySet, SharedKeys};
///
/// let keys = SharedKeys::new(KeySet::new());
/// let validation = JwtValidation::new("https://issuer.example", "https://api.example");
/// let verifier = JwtVerifier::with_shared_keys(keys.clone(), validation);
/// let before = verifier.keys();
/// keys.replace(KeySet::new());
/// assert!(!Arc::ptr_eq(&before, &verifier.keys()), "the verifier sees the new set");
/// ```
#[derive(Clone, Default)]
pub struct SharedKeys(Arc<SharedInner>);

#[derive(Default)]
struct SharedInner {
    set: ArcSwap<KeySet>,
    /// Bumped by every replacement: never reused, unlike an address (a
    /// freed set's memory may hold the next one).
    generation: AtomicUsize,
}

impl SharedKeys {
    /// A shared set holding `keys`.
    pub fn new(keys: KeySet) -> Self {
        Self(Arc::new(SharedInner {
            set: ArcSwap::from_pointee(keys),
            generation: AtomicUsize::new(0),
        }))
    }

    /// The current keys; a later [`replace`](Self::replace) does not
    /// change them.
    pub fn current(&self) -> Arc<KeySet> {
        self.0.set.load_full()
    }

    /// Replaces the keys (atomically; requests in flight keep the old
    /// set).
    pub fn replace(&self, keys: KeySet) {
        self.0.set.store(Arc::new(keys));
        // After the store: a token verified under the new set may be
        // filed under the old generation (a needless miss later), never
        // one verified under the old set under the new generation.
        self.0.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The current keys for one verification, without touching the
    /// reference count.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.0.set.load()
    }

    /// How many times the set was replaced.
    pub(crate) fn generation(&self) -> usize {
        self.0.generation.load(Ordering::Acquire)
    }
}

impl fmt::Debug for SharedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedKeys").field(&*self.load()).finish()
    }
}

/// The JOSE header, borrowed where possible. Unknown members (`jku`, `x5u`,
/// `jwk`, …) are ignored: keys come only from the configured set.
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

fn b64(part: &str) -> Result<Vec<u8>, ()> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| ())
}

/// The longest signature: RSA with an 8192-bit modulus (1024 bytes).
const MAX_SIGNATURE_LEN: usize = 1024;

/// Header bytes decoded on the stack; a longer header goes to the heap.
const STACK_HEADER_LEN: usize = 256;

/// Decodes `part` into `buf`, returning the bytes written; `None` when it
/// is not base64url or does not fit.
fn b64_into<'b>(part: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    if base64::decoded_len_estimate(part.len()) > buf.len() {
        return None;
    }
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode_slice(part, buf)
        .ok()?;
    buf.get(..n)
}

/// Whether `signature` is `key`'s signature of `message`: with aws-lc-rs,
/// through the key parsed once when it was built.
#[cfg(feature = "aws-lc-rs")]
fn signature_verifies(key: &VerifyKey, _alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
    key.verifies(message, signature)
}

#[cfg(not(feature = "aws-lc-rs"))]
use prepared::verify as signature_verifies;

/// With the pure-Rust backend only: jsonwebtoken's verifiers, built once
/// per key and thread instead of on every call. They are not `Send`, hence
/// one set per thread; keys are named by an id that is never reused, so a
/// replaced key can never be verified with a stale verifier.
#[cfg(not(feature = "aws-lc-rs"))]
mod prepared {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier};
    use jsonwebtoken::Algorithm;

    use crate::jwt::keys::VerifyKey;

    /// More keys than this in one thread's cache: start it afresh.
    const MAX_PREPARED: usize = 256;

    thread_local! {
        static PREPARED: RefCell<HashMap<u64, Box<dyn JwtVerifier>>> = RefCell::new(HashMap::new());
    }

    fn provider() -> &'static CryptoProvider {
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
    }

    pub(super) fn verify(
        key: &VerifyKey,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        let signature = signature.to_vec();
        PREPARED.with(|cell| {
            let Ok(mut map) = cell.try_borrow_mut() else {
                return false;
            };
            if map.len() >= MAX_PREPARED && !map.contains_key(&key.id()) {
                map.clear();
            }
            let verifier = match map.entry(key.id()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    match (provider().verifier_factory)(&alg, key.decoding_key()) {
                        Ok(v) => e.insert(v),
                        Err(_) => return false,
                    }
                }
            };
            verifier.verify(message, &signature).is_ok()
        })
    }
}

/// Selects jsonwebtoken's crypto backend once per process, so that enabling
/// both backend features (as `--all-features` does) cannot leave it
/// undecided. aws-lc-rs wins when present: it is several times faster for
/// RSA and ECDSA.
pub(crate) fn install_crypto_provider() {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

impl JwtVerifier {
    /// A verifier for `keys` with `settings`.
    pub fn new(keys: KeySet, settings: JwtValidation) -> Self {
        Self::with_shared_keys(SharedKeys::new(keys), settings)
    }

    /// A verifier reading a key set that something else swaps (a JWKS
    /// source refreshing from the network).
    pub fn with_shared_keys(keys: SharedKeys, settings: JwtValidation) -> Self {
        install_crypto_provider();
        Self { keys, settings }
    }

    /// The settings.
    pub fn settings(&self) -> &JwtValidation {
        &self.settings
    }

    /// An id of the current key set (changes whenever it is replaced,
    /// never to an earlier value). Read it *before* verifying a token to
    /// be cached.
    pub(crate) fn keys_generation(&self) -> usize {
        self.keys.generation()
    }

    /// The current keys.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.current()
    }

    /// Replaces the keys (atomically; requests in flight keep the old set).
    pub fn replace_keys(&self, keys: KeySet) {
        self.keys.replace(keys);
    }

    /// Verifies `token`: size, header, `typ`, `crit`, key by `kid` and
    /// `alg`, signature, then `exp`/`nbf`, `iss`, `aud` and required claims,
    /// at the system's time. [`JwtAuthenticator`](super::JwtAuthenticator)
    /// verifies at the gate's time instead
    /// ([`RequestContext::now`](bouncer_core::RequestContext::now)).
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, JwtError> {
        self.verify_at(token, unix_secs(SystemTime::now()))
    }

    /// [`verify`](Self::verify) at a given time (seconds since the epoch).
    pub fn verify_at(&self, token: &str, now: u64) -> Result<VerifiedToken, JwtError> {
        if token.len() > self.settings.max_token_len {
            return Err(JwtError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        // Decoded on the stack: the header and the signature are read once
        // and dropped, so only the payload (kept in the claims) is on the heap.
        let mut header_buf = [0u8; STACK_HEADER_LEN];
        let header_heap;
        let header_json: &[u8] = match b64_into(header_b64, &mut header_buf) {
            Some(h) => h,
            None => {
                header_heap = b64(header_b64).map_err(|()| JwtError::Malformed)?;
                &header_heap
            }
        };
        // UTF-8 checked once for the whole text, not string by string.
        let header_text = std::str::from_utf8(header_json).map_err(|_| JwtError::Malformed)?;
        let header: RawHeader<'_> =
            serde_json::from_str(header_text).map_err(|_| JwtError::Malformed)?;
        // `none`, and any name jsonwebtoken does not know, has no key.
        let alg: Algorithm = header.alg.parse().map_err(|_| JwtError::UnknownKey)?;
        if header.crit.is_some() {
            return Err(JwtError::Critical);
        }
        self.check_typ(header.typ.as_deref())?;

        let mut signature_buf = [0u8; MAX_SIGNATURE_LEN];
        let signature = b64_into(signature, &mut signature_buf).ok_or(JwtError::BadSignature)?;
        // The signed message is the first two parts with their dot.
        let message = token
            .get(..header_b64.len() + 1 + payload_b64.len())
            .ok_or(JwtError::Malformed)?;
        let keys = self.keys.load();
        let mut any_key = false;
        let mut verified = false;
        for key in keys.candidates(header.kid.as_deref(), alg) {
            any_key = true;
            if signature_verifies(key, alg, message.as_bytes(), signature) {
                verified = true;
                break;
            }
        }
        if !any_key {
            return Err(JwtError::UnknownKey);
        }
        if !verified {
            return Err(JwtError::BadSignature);
        }

        // Only now is the payload trusted: parse it once.
        let payload = b64(payload_b64).map_err(|()| JwtError::BadClaims)?;
        let text = std::str::from_utf8(&payload).map_err(|_| JwtError::BadClaims)?;
        let mut claims: Claims = serde_json::from_str(text).map_err(|_| JwtError::BadClaims)?;
        claims.set_raw(payload);
        self.check_times(&claims, now)?;
        self.check_claims(&claims)?;
        let revocation_id = match &claims.jti {
            Some(jti) => format!("jti:{jti}"),
            None => format!("sha256:{}", hex(&sha256(token.as_bytes()))),
        };
        let header = VerifiedHeader {
            alg,
            kid: header.kid.map(Cow::into_owned),
            typ: header.typ.map(Cow::into_owned),
        };
        Ok(VerifiedToken {
            header,
            claims,
            revocation_id,
        })
    }

    fn check_times(&self, claims: &Claims, now: u64) -> Result<(), JwtError> {
        let leeway = self.settings.leeway.as_secs();
        if self.settings.validate_exp {
            let exp = claims.exp.ok_or(JwtError::MissingClaim)?;
            if exp.saturating_add(leeway) < now {
                return Err(JwtError::Expired);
            }
        }
        if self.settings.validate_nbf {
            if let Some(nbf) = claims.nbf {
                if nbf > now.saturating_add(leeway) {
                    return Err(JwtError::NotYetValid);
                }
            }
        }
        Ok(())
    }

    fn check_typ(&self, typ: Option<&str>) -> Result<(), JwtError> {
        let ok = match typ {
            None => !self.settings.require_at_jwt,
            Some(t) => {
                // RFC 7515 §4.1.9: `application/` may be omitted; compare
                // case-insensitively.
                let t = t.strip_prefix("application/").unwrap_or(t);
                t.eq_ignore_ascii_case("at+jwt")
                    || (!self.settings.require_at_jwt && t.eq_ignore_ascii_case("jwt"))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(JwtError::WrongType)
        }
    }

    fn check_claims(&self, claims: &Claims) -> Result<(), JwtError> {
        let s = &self.settings;
        if s.validate_iss {
            let ok = claims
                .iss
                .as_deref()
                .is_some_and(|iss| s.issuers.iter().any(|i| i == iss));
            if !ok {
                return Err(JwtError::WrongIssuer);
            }
        }
        if s.validate_aud {
            let ok = claims.aud.as_ref().is_some_and(|aud| {
                aud.iter().any(|a| {
                    s.audiences.iter().any(|x| x == a)
                        || (s.logto_organization_audience
                            && a.strip_prefix(LOGTO_ORGANIZATION_AUDIENCE)
                                .is_some_and(|id| !id.is_empty()))
                })
            });
            if !ok {
                return Err(JwtError::WrongAudience);
            }
        }
        if s.required_claims.iter().any(|c| !claims.has(c)) {
            return Err(JwtError::MissingClaim);
        }
        Ok(())
    }
}
