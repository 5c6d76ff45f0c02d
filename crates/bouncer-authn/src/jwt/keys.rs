//! Verification keys, each bound to exactly one algorithm and selected by
//! `kid`. An HMAC secret can never verify an RS/ES/EdDSA token (and the
//! reverse), and `none` has no key at all.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Shortest HMAC secret accepted without the dangerous door, in bytes
/// (RFC 7518 §3.2: at least the hash size; 32 bytes for HS256).
pub const MIN_HMAC_SECRET_LEN: usize = 32;

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
    /// An HMAC secret shorter than [`MIN_HMAC_SECRET_LEN`].
    #[error("HMAC secret of {0} bytes is too short (at least {MIN_HMAC_SECRET_LEN})")]
    WeakSecret(usize),
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

fn family_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => "HMAC",
        Algorithm::ES256 | Algorithm::ES384 => "EC",
        Algorithm::EdDSA => "OKP",
        _ => "RSA",
    }
}

/// One verification key bound to one algorithm.
#[derive(Clone)]
pub struct VerifyKey {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
    /// Unique per key material, never reused: names the key's prepared
    /// verifier.
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
    /// An HMAC secret for `alg` (HS256/384/512), at least 32 bytes.
    pub fn hmac(alg: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(KeyError::WeakSecret(secret.len()));
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
        Ok(Self {
            kid: None,
            alg,
            key: DecodingKey::from_secret(secret),
            id: next_id(),
        })
    }

    /// An RSA public key (PEM) for RS256/384/512 or PS256/384/512.
    pub fn rsa_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        if family_name(alg) != "RSA" {
            return Err(KeyError::AlgorithmMismatch { alg, family: "RSA" });
        }
        let key =
            DecodingKey::from_rsa_pem(pem).map_err(|source| KeyError::Invalid { alg, source })?;
        Ok(Self {
            kid: None,
            alg,
            key,
            id: next_id(),
        })
    }

    /// An EC public key (PEM) for ES256 (P-256) or ES384 (P-384).
    pub fn ec_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        if family_name(alg) != "EC" {
            return Err(KeyError::AlgorithmMismatch { alg, family: "EC" });
        }
        let key =
            DecodingKey::from_ec_pem(pem).map_err(|source| KeyError::Invalid { alg, source })?;
        Ok(Self {
            kid: None,
            alg,
            key,
            id: next_id(),
        })
    }

    /// An Ed25519 public key (PEM) for EdDSA.
    pub fn ed_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let alg = Algorithm::EdDSA;
        let key =
            DecodingKey::from_ed_pem(pem).map_err(|source| KeyError::Invalid { alg, source })?;
        Ok(Self {
            kid: None,
            alg,
            key,
            id: next_id(),
        })
    }

    /// A key from a JWK. The algorithm is the JWK's `alg`, or inferred from
    /// its type and curve (RSA → RS256, P-256 → ES256, P-384 → ES384,
    /// Ed25519 → EdDSA); an `oct` key must name its `alg`. `Ok(None)` for
    /// keys that cannot verify signatures here (`use: enc`, unsupported
    /// curves or algorithms), which a JWKS may legitimately hold.
    pub fn from_jwk(jwk: &Jwk) -> Result<Option<Self>, KeyError> {
        Self::from_jwk_inner(jwk, None)
    }

    /// A key from a JWK bound to `alg`, for JWKS documents that do not name
    /// the algorithm (an RSA key used for PS256, say). A JWK that names a
    /// different `alg` is an error.
    pub fn from_jwk_as(jwk: &Jwk, alg: Algorithm) -> Result<Self, KeyError> {
        Self::from_jwk_inner(jwk, Some(alg))?.ok_or(KeyError::AlgorithmMismatch {
            alg,
            family: family_name(alg),
        })
    }

    fn from_jwk_inner(jwk: &Jwk, forced: Option<Algorithm>) -> Result<Option<Self>, KeyError> {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return Ok(None);
        }
        let named = match jwk.common.key_algorithm {
            Some(ka) => match key_algorithm(ka) {
                Some(a) => Some(a),
                None => return Ok(None),
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
                    _ => return Ok(None),
                },
                AlgorithmParameters::OctetKeyPair(p) => match p.curve {
                    EllipticCurve::Ed25519 => Algorithm::EdDSA,
                    _ => return Ok(None),
                },
                // A bare `oct` key names no algorithm: refusing to guess
                // keeps an HMAC secret from being used with the wrong hash.
                _ => return Ok(None),
            },
        };
        let fits = matches!(
            (&jwk.algorithm, family_name(alg)),
            (AlgorithmParameters::RSA(_), "RSA")
                | (AlgorithmParameters::EllipticCurve(_), "EC")
                | (AlgorithmParameters::OctetKeyPair(_), "OKP")
                | (AlgorithmParameters::OctetKey(_), "HMAC")
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
        Ok(Some(Self {
            kid: jwk.common.key_id.clone(),
            alg,
            key,
            id: next_id(),
        }))
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

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
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

/// A set of verification keys. A token naming a known `kid` is verified
/// only by that key, and only if the key's algorithm is the token's `alg`;
/// other tokens are tried against the keys of their `alg` (unnamed keys
/// only, when the token names an unknown `kid`).
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyKey>,
    by_kid: HashMap<String, usize>,
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

    /// Parses a JWKS document (RFC 7517). Keys that cannot verify here
    /// (encryption keys, unsupported curves) are skipped; malformed keys
    /// are errors.
    pub fn from_jwks_str(json: &str) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(json)?;
        let mut out = Self::new();
        for jwk in &set.keys {
            if let Some(key) = VerifyKey::from_jwk(jwk)? {
                out.insert(key)?;
            }
        }
        Ok(out)
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

    /// Adds every key of `other`.
    pub fn extend(&mut self, other: KeySet) -> Result<(), KeyError> {
        for k in other.keys {
            self.insert(k)?;
        }
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
