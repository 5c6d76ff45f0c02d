//! Verification keys, each bound to exactly one algorithm and selected by
//! `kid`. An HMAC secret can never verify an RS/ES/EdDSA token (and the
//! reverse), and `none` has no key at all.
//!
//! What a key must be before it verifies anything:
//!
//! - **HMAC secrets** come only from [`VerifyKey::hmac`], at least the hash
//!   size of their algorithm (RFC 7518 §3.2): 32 bytes for HS256, 48 for
//!   HS384, 64 for HS512 ([`min_hmac_secret_len`]). Shorter ones only
//!   through the explicit [`VerifyKey::dangerous_short_hmac`] door.
//! - **A JWKS holds public keys only.** A key set is published for anyone
//!   to read (OpenID Connect: a `jwks_uri` document "MUST NOT contain
//!   private or symmetric key values"), so a symmetric (`kty: "oct"`) key in
//!   a JWKS — from a file, a string or the network — is refused, named by
//!   its `kid` in [`KeySet::skipped`] and a `tracing` warning, and the rest
//!   of the set stays usable. [`VerifyKey::from_jwk`] refuses it outright.
//! - **RSA keys have at least 2048 bits** (RFC 7518 §3.3), from PEM and
//!   from JWK alike. PS256/384/512 signatures must use a salt as long as the
//!   hash (RFC 7518 §3.5); signers that use the maximum salt length produce
//!   signatures that do not verify.
//! - **A JWK is used only to verify signatures:** one whose `use` is not
//!   `sig`, or whose `key_ops` (RFC 7517 §4.3) does not include `verify`,
//!   is skipped.

use std::fmt;
use std::path::Path;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};

/// Shortest HMAC secret for HS256 (RFC 7518 §3.2: at least the hash size).
/// HS384 and HS512 need more: see [`min_hmac_secret_len`].
pub const MIN_HMAC_SECRET_LEN: usize = 32;

/// Fewest bits of an RSA modulus (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;

/// Shortest HMAC secret accepted for `alg` without the dangerous door: the
/// size of its hash (RFC 7518 §3.2). `None` for algorithms that are not HMAC.
pub const fn min_hmac_secret_len(alg: Algorithm) -> Option<usize> {
    match alg {
        Algorithm::HS256 => Some(32),
        Algorithm::HS384 => Some(48),
        Algorithm::HS512 => Some(64),
        _ => None,
    }
}

/// Why a key or key set could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key material is not valid for its algorithm.
    #[error("invalid {alg:?} key: {source}")]
    Invalid {
        /// The algorithm the key was meant for.
        alg: Algorithm,
        /// What jsonwebtoken said.
        source: jsonwebtoken::errors::Error,
    },
    /// The algorithm does not fit the key type (e.g. HS256 for an RSA key).
    #[error("algorithm {alg:?} does not fit a {family} key")]
    AlgorithmMismatch {
        /// The algorithm asked for.
        alg: Algorithm,
        /// The key's family.
        family: &'static str,
    },
    /// An HMAC secret shorter than the hash of its algorithm.
    #[error("HMAC secret of {len} bytes is too short for {alg:?} (at least {min}, RFC 7518 §3.2)")]
    WeakSecret {
        /// The algorithm.
        alg: Algorithm,
        /// The secret's length in bytes.
        len: usize,
        /// The least this algorithm accepts.
        min: usize,
    },
    /// A JWK refused by policy (symmetric, or an RSA key under 2048 bits).
    #[error("JWK {}: {reason}", kid_text(.kid.as_deref()))]
    Refused {
        /// The key's `kid`, if it has one.
        kid: Option<String>,
        /// Why.
        reason: SkipReason,
    },
    /// An RSA key with fewer than [`MIN_RSA_BITS`] bits.
    #[error("RSA key of {0} bits is too short (at least {MIN_RSA_BITS}, RFC 7518 §3.3)")]
    WeakRsa(usize),
    /// A JWKS document that is not valid JSON of the right shape.
    #[error("invalid JWKS: {0}")]
    Jwks(#[from] serde_json::Error),
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Two keys with the same `kid`.
    #[error("duplicate kid `{0}`")]
    DuplicateKid(String),
}

fn kid_text(kid: Option<&str>) -> String {
    kid.map_or_else(|| "without kid".to_owned(), |k| format!("`{k}`"))
}

/// Why a key of a JWKS is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// A symmetric (`oct`) key: a JWKS is public, so whoever reads it could
    /// sign tokens. HMAC secrets come only from [`VerifyKey::hmac`].
    #[error("a symmetric (oct) key is never trusted from a JWKS, which is public; configure HMAC secrets with VerifyKey::hmac")]
    Symmetric,
    /// An RSA modulus under [`MIN_RSA_BITS`] bits.
    #[error("RSA key of {0} bits is too short (at least {MIN_RSA_BITS}, RFC 7518 §3.3)")]
    WeakRsa(usize),
    /// `use` names something other than `sig`.
    #[error("`use` is not `sig`")]
    NotForSignatures,
    /// `key_ops` is present and lacks `verify` (RFC 7517 §4.3).
    #[error("`key_ops` does not include `verify`")]
    NotForVerify,
    /// An algorithm or curve bouncer does not verify.
    #[error("unsupported algorithm or curve")]
    Unsupported,
}

impl SkipReason {
    /// Whether this says something is wrong with the key set (a symmetric
    /// or weak key), as opposed to a key legitimately meant for other uses.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Symmetric | Self::WeakRsa(_))
    }
}

/// A key of a JWKS that is not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    kid: Option<String>,
    reason: SkipReason,
}

impl SkippedKey {
    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Why it is not used.
    pub fn reason(&self) -> &SkipReason {
        &self.reason
    }
}

impl fmt::Display for SkippedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JWK {}: {}", kid_text(self.kid()), self.reason)
    }
}

fn family_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => "HMAC",
        Algorithm::ES256 | Algorithm::ES384 => "EC",
        Algorithm::EdDSA => "OKP",
        _ => "RSA",
    }
}

/// Bits of a big-endian unsigned integer.
fn bit_len(be: &[u8]) -> usize {
    let mut digits = be.iter().skip_while(|b| **b == 0);
    match digits.next() {
        None => 0,
        Some(first) => {
            let rest = digits.count();
            rest * 8 + (8 - first.leading_zeros() as usize)
        }
    }
}

/// The modulus size of an RSA decoding key, `None` when it cannot be read
/// (which then is an invalid key).
fn rsa_bits(key: &DecodingKey) -> Option<usize> {
    use pkcs1::der::Decode;
    match key.kind() {
        DecodingKeyKind::RsaModulusExponent { n, .. } => Some(bit_len(n)),
        // jsonwebtoken keeps PEM keys as PKCS#1 `RSAPublicKey` DER.
        DecodingKeyKind::SecretOrDer(der) => pkcs1::RsaPublicKey::from_der(der)
            .ok()
            .map(|k| bit_len(k.modulus.as_bytes())),
    }
}

fn check_rsa(alg: Algorithm, key: &DecodingKey) -> Result<(), KeyError> {
    match rsa_bits(key) {
        Some(bits) if bits >= MIN_RSA_BITS => Ok(()),
        Some(bits) => Err(KeyError::WeakRsa(bits)),
        None => Err(KeyError::Invalid {
            alg,
            source: jsonwebtoken::errors::ErrorKind::InvalidRsaKey(
                "not a PKCS#1 RSAPublicKey".to_owned(),
            )
            .into(),
        }),
    }
}

/// One verification key bound to one algorithm.
#[derive(Clone)]
pub struct VerifyKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
    /// The key in the crypto library's own form, parsed once when the key
    /// is built, so that no verification parses it again.
    #[cfg(feature = "aws-lc-rs")]
    parsed: std::sync::Arc<parsed::ParsedKey>,
    /// Unique per key material, never reused: names the key's prepared
    /// verifier (the pure-Rust backend's per-thread cache).
    #[cfg_attr(feature = "aws-lc-rs", allow(dead_code))]
    id: u64,
}

fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key material (an HMAC secret in particular) is never printed.
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

impl VerifyKey {
    /// An HMAC secret for `alg` (HS256/384/512), at least as long as its
    /// hash: 32, 48 or 64 bytes ([`min_hmac_secret_len`]).
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let Some(min) = min_hmac_secret_len(alg) else {
            return Err(KeyError::AlgorithmMismatch {
                alg,
                family: "HMAC",
            });
        };
        if secret.len() < min {
            return Err(KeyError::WeakSecret {
                alg,
                len: secret.len(),
                min,
            });
        }
        Self::hmac_unchecked(alg, secret)
    }

    /// An HMAC secret of any length. Short secrets can be brute-forced
    /// from a single token: use this only for demos and migrations.
    pub fn dangerous_short_hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        Self::hmac_unchecked(alg, secret)
    }

    fn hmac_unchecked(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        if family_name(alg) != "HMAC" {
            return Err(KeyError::AlgorithmMismatch {
                alg,
                family: "HMAC",
            });
        }
        Self::build(None, alg, DecodingKey::from_secret(secret))
    }

    /// An RSA public key (PEM, PKCS#1 or SPKI) for RS256/384/512 or
    /// PS256/384/512, of at least [`MIN_RSA_BITS`] bits. PSS signatures must
    /// use a salt as long as the hash (RFC 7518 §3.5).
    pub fn rsa_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        if family_name(alg) != "RSA" {
            return Err(KeyError::AlgorithmMismatch { alg, family: "RSA" });
        }
        let key =
            DecodingKey::from_rsa_pem(pem).map_err(|source| KeyError::Invalid { alg, source })?;
        check_rsa(alg, &key)?;
        Self::build(None, alg, key)
    }

    /// An EC public key (PEM) for ES256 (P-256) or ES384 (P-384).
    pub fn ec_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        if family_name(alg) != "EC" {
            return Err(KeyError::AlgorithmMismatch { alg, family: "EC" });
        }
        let key =
            DecodingKey::from_ec_pem(pem).map_err(|source| KeyError::Invalid { alg, source })?;
        Self::build(None, alg, key)
    }

    /// An Ed25519 public key (PEM) for EdDSA.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let alg = Algorithm::EdDSA;
        let key =
            DecodingKey::from_ed_pem(pem).map_err(|source| KeyError::Invalid { alg, source })?;
        Self::build(None, alg, key)
    }

    /// A key from a JWK. The algorithm is the JWK's `alg`, or inferred from
    /// its type and curve (RSA → RS256, P-256 → ES256, P-384 → ES384,
    /// Ed25519 → EdDSA). `Ok(None)` for keys that cannot verify signatures
    /// here (`use` other than `sig`, `key_ops` without `verify`,
    /// unsupported curves or algorithms), which a JWKS may legitimately
    /// hold. A symmetric (`oct`) key or an RSA key under 2048 bits is an
    /// error ([`KeyError::Refused`]): HMAC secrets come only from
    /// [`VerifyKey::hmac`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Option<Self>, KeyError> {
        Self::from_jwk_inner(jwk, None).and_then(|r| refused_or_skipped(jwk, r))
    }

    /// A key from a JWK bound to `alg`, for JWKS documents that do not name
    /// the algorithm (an RSA key used for PS256, say). A JWK that names a
    /// different `alg`, or that [`from_jwk`](Self::from_jwk) would skip or
    /// refuse, is an error.
    pub fn from_jwk_as(jwk: &Jwk, alg: Algorithm) -> Result<Self, KeyError> {
        match Self::from_jwk_inner(jwk, Some(alg))? {
            Ok(key) => Ok(key),
            Err(SkipReason::Unsupported) => Err(KeyError::AlgorithmMismatch {
                alg,
                family: family_name(alg),
            }),
            Err(reason) => Err(KeyError::Refused {
                kid: jwk.common.key_id.clone(),
                reason,
            }),
        }
    }

    /// The key, or why it is not used; `Err` for malformed keys.
    fn from_jwk_inner(
        jwk: &Jwk,
        forced: Option<Algorithm>,
    ) -> Result<Result<Self, SkipReason>, KeyError> {
        // Checked first, whatever else the JWK says: a JWKS is public.
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Ok(Err(SkipReason::Symmetric));
        }
        if !matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        ) {
            return Ok(Err(SkipReason::NotForSignatures));
        }
        if let Some(ops) = &jwk.common.key_operations {
            if !ops.iter().any(|op| matches!(op, KeyOperations::Verify)) {
                return Ok(Err(SkipReason::NotForVerify));
            }
        }
        let named = match jwk.common.key_algorithm {
            Some(ka) => match key_algorithm(ka) {
                // Only asymmetric algorithms: a JWK never carries an HMAC key.
                Some(a) if family_name(a) != "HMAC" => Some(a),
                _ => return Ok(Err(SkipReason::Unsupported)),
            },
            None => None,
        };
        if let (Some(f), Some(n)) = (forced, named) {
            if f != n {
                return Err(KeyError::AlgorithmMismatch {
                    alg: f,
                    family: family_name(n),
                });
            }
        }
        let alg = match forced.or(named) {
            Some(a) => a,
            None => match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(p) => match p.curve {
                    EllipticCurve::P256 => Algorithm::ES256,
                    EllipticCurve::P384 => Algorithm::ES384,
                    _ => return Ok(Err(SkipReason::Unsupported)),
                },
                AlgorithmParameters::OctetKeyPair(p) => match p.curve {
                    EllipticCurve::Ed25519 => Algorithm::EdDSA,
                    _ => return Ok(Err(SkipReason::Unsupported)),
                },
                _ => return Ok(Err(SkipReason::Unsupported)),
            },
        };
        let fits = matches!(
            (&jwk.algorithm, family_name(alg)),
            (AlgorithmParameters::RSA(_), "RSA")
                | (AlgorithmParameters::EllipticCurve(_), "EC")
                | (AlgorithmParameters::OctetKeyPair(_), "OKP")
        );
        if !fits {
            return Err(KeyError::AlgorithmMismatch {
                alg,
                family: family_name(alg),
            });
        }
        if let (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256 | Algorithm::ES384) =
            (&jwk.algorithm, alg)
        {
            let curve_ok = matches!(
                (p.curve.clone(), alg),
                (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
            );
            if !curve_ok {
                return Err(KeyError::AlgorithmMismatch { alg, family: "EC" });
            }
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|source| KeyError::Invalid { alg, source })?;
        if family_name(alg) == "RSA" {
            match check_rsa(alg, &key) {
                Ok(()) => {}
                Err(KeyError::WeakRsa(bits)) => return Ok(Err(SkipReason::WeakRsa(bits))),
                Err(e) => return Err(e),
            }
        }
        Self::build(jwk.common.key_id.clone(), alg, key).map(Ok)
    }

    /// The key with its material parsed for the crypto library (once, here).
    fn build(kid: Option<String>, alg: Algorithm, key: DecodingKey) -> Result<Self, KeyError> {
        #[cfg(feature = "aws-lc-rs")]
        let parsed = std::sync::Arc::new(parsed::ParsedKey::new(alg, &key)?);
        Ok(Self {
            kid,
            alg,
            key,
            #[cfg(feature = "aws-lc-rs")]
            parsed,
            id: next_id(),
        })
    }

    /// Whether `signature` is this key's signature of `message` (with the
    /// key parsed once, when it was built).
    #[cfg(feature = "aws-lc-rs")]
    pub(crate) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.parsed.verifies(message, signature)
    }

    /// Names the key (`kid`).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    #[cfg_attr(feature = "aws-lc-rs", allow(dead_code))]
    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }

    #[cfg_attr(feature = "aws-lc-rs", allow(dead_code))]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }
}

/// Keys parsed into aws-lc-rs's own objects once, when a key (or a key
/// set, static or from a JWKS) is built: jsonwebtoken's verifiers keep the
/// encoded key and parse it on every call, which for RSA costs as much as
/// a fifth of the verification.
#[cfg(feature = "aws-lc-rs")]
mod parsed {
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
    use jsonwebtoken::errors::ErrorKind;
    use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};

    use super::KeyError;

    // Behind an `Arc`, one per key: the size of a variant does not matter.
    #[allow(clippy::large_enum_variant)]
    pub(super) enum ParsedKey {
        Hmac(hmac::Key),
        Public(ParsedPublicKey),
    }

    /// A big-endian integer without its leading zero bytes (a JWK's `n`
    /// may carry them; aws-lc-rs wants the minimal form).
    fn minimal(be: &[u8]) -> &[u8] {
        let zeros = be.iter().take_while(|b| **b == 0).count();
        be.get(zeros..).unwrap_or_default()
    }

    fn rsa_params(alg: Algorithm) -> Option<&'static sig::RsaParameters> {
        Some(match alg {
            Algorithm::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }

    impl ParsedKey {
        /// The same algorithms and parameters as jsonwebtoken's aws-lc-rs
        /// verifiers.
        pub(super) fn new(alg: Algorithm, key: &DecodingKey) -> Result<Self, KeyError> {
            let invalid = |kind: ErrorKind| KeyError::Invalid {
                alg,
                source: kind.into(),
            };
            let bytes = || {
                key.try_get_as_bytes()
                    .map_err(|source| KeyError::Invalid { alg, source })
            };
            let hmac = |a| bytes().map(|b| Self::Hmac(hmac::Key::new(a, b)));
            let public = |a: &'static dyn sig::VerificationAlgorithm, kind: ErrorKind| {
                bytes().and_then(|b| {
                    ParsedPublicKey::new(a, b)
                        .map(Self::Public)
                        .map_err(|e| invalid_with(alg, kind, e))
                })
            };
            match alg {
                Algorithm::HS256 => hmac(hmac::HMAC_SHA256),
                Algorithm::HS384 => hmac(hmac::HMAC_SHA384),
                Algorithm::HS512 => hmac(hmac::HMAC_SHA512),
                Algorithm::ES256 => {
                    public(&sig::ECDSA_P256_SHA256_FIXED, ErrorKind::InvalidEcdsaKey)
                }
                Algorithm::ES384 => {
                    public(&sig::ECDSA_P384_SHA384_FIXED, ErrorKind::InvalidEcdsaKey)
                }
                Algorithm::EdDSA => public(&sig::ED25519, ErrorKind::InvalidEddsaKey),
                rsa => {
                    let params =
                        rsa_params(rsa).ok_or_else(|| invalid(ErrorKind::InvalidAlgorithm))?;
                    let rsa_kind =
                        || ErrorKind::InvalidRsaKey("not a valid RSA public key".to_owned());
                    let parsed = match key.kind() {
                        DecodingKeyKind::SecretOrDer(der) => ParsedPublicKey::new(params, der),
                        DecodingKeyKind::RsaModulusExponent { n, e } => RsaPublicKeyComponents {
                            n: minimal(n),
                            e: minimal(e),
                        }
                        .to_parsed_public_key(params),
                    };
                    parsed
                        .map(Self::Public)
                        .map_err(|e| invalid_with(alg, rsa_kind(), e))
                }
            }
        }

        pub(super) fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
            match self {
                // Constant-time comparison of the tag.
                Self::Hmac(k) => hmac::verify(k, message, signature).is_ok(),
                Self::Public(k) => k.verify_sig(message, signature).is_ok(),
            }
        }
    }

    fn invalid_with(
        alg: Algorithm,
        kind: ErrorKind,
        why: aws_lc_rs::error::KeyRejected,
    ) -> KeyError {
        let kind = match kind {
            ErrorKind::InvalidRsaKey(_) => ErrorKind::InvalidRsaKey(why.to_string()),
            other => other,
        };
        KeyError::Invalid {
            alg,
            source: kind.into(),
        }
    }
}

fn key_algorithm(ka: KeyAlgorithm) -> Option<Algorithm> {
    Some(match ka {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// `from_jwk`'s answer: refusals are errors, other skips `None`.
fn refused_or_skipped(
    jwk: &Jwk,
    r: Result<VerifyKey, SkipReason>,
) -> Result<Option<VerifyKey>, KeyError> {
    match r {
        Ok(key) => Ok(Some(key)),
        Err(reason) if reason.is_refusal() => Err(KeyError::Refused {
            kid: jwk.common.key_id.clone(),
            reason,
        }),
        Err(_) => Ok(None),
    }
}

/// A set of verification keys. A token naming a known `kid` is verified
/// only by that key, and only if the key's algorithm is the token's `alg`;
/// other tokens are tried against the keys of their `alg` (unnamed keys
/// only, when the token names an unknown `kid`).
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyKey>,
    /// Fx: looked up on every token, filled only from configured keys.
    by_kid: rustc_hash::FxHashMap<String, usize>,
    skipped: Vec<SkippedKey>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; a second key with the same `kid` is an error.
    pub fn insert(&mut self, key: VerifyKey) -> Result<(), KeyError> {
        if let Some(kid) = &key.kid {
            if self.by_kid.contains_key(kid) {
                return Err(KeyError::DuplicateKid(kid.clone()));
            }
            self.by_kid.insert(kid.clone(), self.keys.len());
        }
        self.keys.push(key);
        Ok(())
    }

    /// Adds a key (builder form).
    pub fn with(mut self, key: VerifyKey) -> Result<Self, KeyError> {
        self.insert(key)?;
        Ok(self)
    }

    /// Parses a JWKS document (RFC 7517). Keys that are not for verifying
    /// signatures here (encryption keys, `key_ops` without `verify`,
    /// unsupported curves) are skipped; symmetric keys and RSA keys under
    /// 2048 bits are refused, with a `tracing` warning naming their `kid`.
    /// Either way the rest of the set stays usable, and
    /// [`skipped`](Self::skipped) says which keys were left out and why.
    /// Malformed keys, and two keys with one `kid`, make the whole
    /// document an error.
    pub fn from_jwks_str(json: &str) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(json)?;
        let mut out = Self::new();
        for jwk in &set.keys {
            match VerifyKey::from_jwk_inner(jwk, None)? {
                Ok(key) => out.insert(key)?,
                Err(reason) => {
                    let skipped = SkippedKey {
                        kid: jwk.common.key_id.clone(),
                        reason,
                    };
                    if skipped.reason.is_refusal() {
                        tracing::warn!(key = %skipped, "JWKS key refused");
                    }
                    out.skipped.push(skipped);
                }
            }
        }
        Ok(out)
    }

    /// The keys of the JWKS documents this set was made from that it does
    /// not use, and why (a symmetric key, a weak RSA key, an encryption
    /// key, …).
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Reads a JWKS file.
    pub fn from_jwks_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_jwks_str(&text)
    }

    /// Adds every key of `other` (and its record of skipped keys).
    pub fn extend(&mut self, other: KeySet) -> Result<(), KeyError> {
        for k in other.keys {
            self.insert(k)?;
        }
        self.skipped.extend(other.skipped);
        Ok(())
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys.
    pub fn keys(&self) -> &[VerifyKey] {
        &self.keys
    }

    /// The candidate keys for a token header, all bound to `alg`:
    /// - a `kid` naming a key: that key only (if its algorithm is `alg`);
    /// - a `kid` naming no key: the keys that have no `kid` (a single shared
    ///   secret is often configured without one, and `kid` is only a hint);
    ///   with none, nothing — an unknown `kid` is `invalid_token`;
    /// - no `kid`: every key of `alg`.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a VerifyKey> + 'a {
        let named = kid
            .and_then(|k| self.by_kid.get(k))
            .and_then(|i| self.keys.get(*i));
        let by_kid = named.filter(|k| k.alg == alg);
        let others = self.keys.iter().filter(move |k| {
            k.alg == alg
                && match kid {
                    None => true,
                    Some(_) => named.is_none() && k.kid.is_none(),
                }
        });
        by_kid.into_iter().chain(others)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    fn jwk(v: serde_json::Value) -> Jwk {
        serde_json::from_value(v).unwrap()
    }

    /// An RSA public JWK with a modulus of `bits` bits (the value need not
    /// be a real modulus: jsonwebtoken reads it lazily).
    fn rsa_jwk(bits: usize, extra: serde_json::Value) -> serde_json::Value {
        let mut n = vec![0xffu8; bits.div_ceil(8)];
        if !bits.is_multiple_of(8) {
            n[0] = 0xff >> (8 - bits % 8);
        }
        let mut v = serde_json::json!({"kty": "RSA", "n": b64(&n), "e": "AQAB"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    }

    #[test]
    fn hmac_secrets_are_at_least_the_hash_size() {
        for (alg, min) in [
            (Algorithm::HS256, 32),
            (Algorithm::HS384, 48),
            (Algorithm::HS512, 64),
        ] {
            assert!(matches!(
                VerifyKey::hmac(alg, &vec![7; min - 1]),
                Err(KeyError::WeakSecret { len, min: m, .. }) if len == min - 1 && m == min
            ));
            assert!(VerifyKey::hmac(alg, &vec![7; min]).is_ok());
            assert_eq!(min_hmac_secret_len(alg), Some(min));
        }
        assert!(VerifyKey::hmac(Algorithm::HS256, b"").is_err());
        assert!(VerifyKey::hmac(Algorithm::RS256, &[7; 64]).is_err());
        // The explicit door still opens.
        assert!(VerifyKey::dangerous_short_hmac(Algorithm::HS512, b"short").is_ok());
    }

    #[test]
    fn a_jwk_never_yields_a_symmetric_key() {
        for v in [
            serde_json::json!({"kty": "oct", "k": ""}),
            serde_json::json!({"kty": "oct", "k": "", "alg": "HS256", "kid": "e"}),
            serde_json::json!({"kty": "oct", "k": b64(&[1; 64]), "alg": "HS512", "use": "sig"}),
            serde_json::json!({"kty": "oct", "k": b64(&[1; 64]), "alg": "RS256"}),
        ] {
            let j = jwk(v.clone());
            assert!(
                matches!(
                    VerifyKey::from_jwk(&j),
                    Err(KeyError::Refused {
                        reason: SkipReason::Symmetric,
                        ..
                    })
                ),
                "{v}"
            );
            assert!(VerifyKey::from_jwk_as(&j, Algorithm::HS256).is_err(), "{v}");
        }
    }

    #[test]
    fn a_jwks_with_symmetric_keys_keeps_its_public_keys() {
        let rsa = rsa_jwk(2048, serde_json::json!({"kid": "rsa"}));
        let doc = serde_json::json!({"keys": [
            {"kty": "oct", "k": "", "alg": "HS256", "kid": "empty"},
            rsa,
            {"kty": "oct", "k": b64(&[9; 32]), "alg": "HS256"},
        ]})
        .to_string();
        let set = KeySet::from_jwks_str(&doc).unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(set.keys().first().and_then(VerifyKey::kid), Some("rsa"));
        let skipped: Vec<_> = set
            .skipped()
            .iter()
            .map(|s| (s.kid(), s.reason().clone()))
            .collect();
        assert_eq!(
            skipped,
            [
                (Some("empty"), SkipReason::Symmetric),
                (None, SkipReason::Symmetric)
            ]
        );
        // The message names the key.
        let text = set.skipped().first().unwrap().to_string();
        assert!(
            text.contains("`empty`") && text.contains("symmetric"),
            "{text}"
        );
        assert!(set
            .keys()
            .iter()
            .all(|k| family_name(k.algorithm()) != "HMAC"));
    }

    #[test]
    fn key_ops_and_use_limit_a_jwk_to_verifying() {
        let cases = [
            (serde_json::json!({"key_ops": ["verify"]}), true),
            (serde_json::json!({"key_ops": ["sign", "verify"]}), true),
            (serde_json::json!({"key_ops": ["sign"]}), false),
            (
                serde_json::json!({"key_ops": ["encrypt", "wrapKey"]}),
                false,
            ),
            (serde_json::json!({"key_ops": []}), false),
            (serde_json::json!({"use": "sig"}), true),
            (serde_json::json!({"use": "enc"}), false),
            (serde_json::json!({"use": "other"}), false),
        ];
        for (extra, usable) in cases {
            let j = jwk(rsa_jwk(2048, extra.clone()));
            let got = VerifyKey::from_jwk(&j).unwrap();
            assert_eq!(got.is_some(), usable, "{extra}");
            let doc = serde_json::json!({"keys": [rsa_jwk(2048, extra.clone())]}).to_string();
            assert_eq!(
                KeySet::from_jwks_str(&doc).unwrap().len(),
                usize::from(usable)
            );
        }
    }

    #[test]
    fn rsa_keys_have_at_least_2048_bits() {
        for (bits, ok) in [(1024, false), (2047, false), (2048, true), (4096, true)] {
            let j = jwk(rsa_jwk(bits, serde_json::json!({"kid": "r"})));
            let got = VerifyKey::from_jwk(&j);
            assert_eq!(got.is_ok(), ok, "{bits}: {got:?}");
            if !ok {
                assert!(matches!(
                    got,
                    Err(KeyError::Refused { reason: SkipReason::WeakRsa(b), .. }) if b == bits
                ));
                assert!(VerifyKey::from_jwk_as(&j, Algorithm::PS256).is_err());
            }
        }
        // Leading zero bytes of the modulus do not count.
        let mut n = vec![0u8; 4];
        n.extend(vec![0xff; 128]);
        let j = jwk(serde_json::json!({"kty": "RSA", "n": b64(&n), "e": "AQAB"}));
        assert!(VerifyKey::from_jwk(&j).is_err());

        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
        for f in ["rsa2047.pub.pem", "rsa1024.pkcs1.pub.pem"] {
            assert!(
                matches!(
                    VerifyKey::rsa_pem(Algorithm::RS256, &read(f)),
                    Err(KeyError::WeakRsa(_))
                ),
                "{f}"
            );
        }
        assert!(VerifyKey::rsa_pem(Algorithm::PS256, &read("rsa.pub.pem")).is_ok());
    }

    #[test]
    fn bit_length() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[0, 0]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0x7f, 0]), 15);
    }
}
