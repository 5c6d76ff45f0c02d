//! Signature verification (jsonwebtoken) and claim validation.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};

use super::claims::{Claims, LOGTO_ORGANIZATION_AUDIENCE};
use super::keys::KeySet;
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

/// A token whose signature and claims were verified.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// The JOSE header.
    pub header: Header,
    /// The claims.
    pub claims: Claims,
    /// A stable id for revocation: `jti`, or a hash of the token.
    pub revocation_id: String,
}

/// Every algorithm a key can be bound to.
const ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verifies tokens against a key set with fixed settings. Build once and
/// share; the per-algorithm jsonwebtoken settings are prepared up front.
/// The key set is an atomically swapped snapshot: a key source can replace
/// it while requests read it without a lock.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    keys: Arc<ArcSwap<KeySet>>,
    settings: JwtValidation,
    prepared: HashMap<Algorithm, Validation>,
}

/// Selects jsonwebtoken's crypto backend once per process, so that enabling
/// both backend features (as `--all-features` does) cannot leave it
/// undecided. aws-lc-rs wins when present: it is several times faster for
/// RSA and ECDSA.
fn install_crypto_provider() {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

impl JwtVerifier {
    /// A verifier for `keys` with `settings`.
    pub fn new(keys: KeySet, settings: JwtValidation) -> Self {
        Self::with_shared_keys(Arc::new(ArcSwap::from_pointee(keys)), settings)
    }

    /// A verifier reading a key set that something else swaps (a JWKS
    /// source refreshing from the network).
    pub fn with_shared_keys(keys: Arc<ArcSwap<KeySet>>, settings: JwtValidation) -> Self {
        install_crypto_provider();
        let prepared = ALGORITHMS
            .iter()
            .map(|alg| (*alg, jwt_validation(*alg, &settings)))
            .collect();
        Self {
            keys,
            settings,
            prepared,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &JwtValidation {
        &self.settings
    }

    /// The current keys.
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// Replaces the keys (atomically; requests in flight keep the old set).
    pub fn replace_keys(&self, keys: KeySet) {
        self.keys.store(Arc::new(keys));
    }

    /// Verifies `token`: size, header, `typ`, `crit`, key by `kid` and
    /// `alg`, signature, then `exp`/`nbf`, `iss`, `aud` and required claims.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, JwtError> {
        if token.len() > self.settings.max_token_len {
            return Err(JwtError::TooLong);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
            ErrorKind::InvalidAlgorithmName => JwtError::UnknownKey,
            _ => JwtError::Malformed,
        })?;
        if header.crit.is_some() {
            return Err(JwtError::Critical);
        }
        self.check_typ(header.typ.as_deref())?;
        let validation = self.prepared.get(&header.alg).ok_or(JwtError::UnknownKey)?;

        let keys = self.keys.load();
        let mut last = JwtError::UnknownKey;
        for key in keys.candidates(header.kid.as_deref(), header.alg) {
            match jsonwebtoken::decode::<Claims>(token, key.decoding_key(), validation) {
                Ok(data) => {
                    self.check_claims(&data.claims)?;
                    let revocation_id = match &data.claims.jti {
                        Some(jti) => format!("jti:{jti}"),
                        None => format!("sha256:{}", hex(&sha256(token.as_bytes()))),
                    };
                    return Ok(VerifiedToken {
                        header: data.header,
                        claims: data.claims,
                        revocation_id,
                    });
                }
                Err(e) => {
                    last = map_error(e.kind());
                    // Only a bad signature is worth trying the next key.
                    if last != JwtError::BadSignature {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
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

fn jwt_validation(alg: Algorithm, s: &JwtValidation) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = s.leeway.as_secs();
    v.validate_exp = s.validate_exp;
    v.validate_nbf = s.validate_nbf;
    // `iss` and `aud` are checked by bouncer (several audiences, Logto's
    // organization audience); jsonwebtoken checks signature, exp and nbf.
    v.validate_aud = false;
    let required: &[&str] = if s.validate_exp { &["exp"] } else { &[] };
    v.set_required_spec_claims(required);
    v
}

fn map_error(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::MissingRequiredClaim(_) => JwtError::MissingClaim,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => JwtError::UnknownKey,
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            JwtError::BadClaims
        }
        _ => JwtError::Malformed,
    }
}
