//! DPoP proof validation (RFC 9449 §4.3), without the replay and nonce
//! checks, which need state: see [`DpopAuthenticator`](super::DpopAuthenticator).

use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::htu::normalize_htu;
use super::thumbprint::{b64url, jwk_thumbprint};
use crate::jwt::VerifyKey;
use crate::secret::sha256;

/// The default longest proof accepted (an RSA-4096 proof is about 2.3 KiB).
pub const DEFAULT_MAX_PROOF_LEN: usize = 4 * 1024;

/// The longest `jti` accepted.
pub const MAX_JTI_LEN: usize = 256;

/// The `typ` of a proof.
pub const PROOF_TYP: &str = "dpop+jwt";

/// JWK members that hold private or symmetric key material: a proof that
/// carries any of them is refused (RFC 9449 §4.3 step 7).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Why a proof was refused. Each is `invalid_dpop_proof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// No `DPoP` header field.
    #[error("the request has no DPoP proof")]
    Missing,
    /// More than one `DPoP` field (§4.3 step 1).
    #[error("the request has more than one DPoP proof")]
    Several,
    /// Longer than allowed.
    #[error("the DPoP proof is too long")]
    TooLong,
    /// Not a JWS compact serialization with a JSON header and payload.
    #[error("the DPoP proof is not a well-formed JWT")]
    Malformed,
    /// `typ` is not `dpop+jwt`.
    #[error("the DPoP proof type is not dpop+jwt")]
    WrongType,
    /// `alg` is absent, `none`, symmetric or not allowed.
    #[error("the DPoP proof algorithm is not allowed")]
    Algorithm,
    /// The header has `crit` extensions (none are understood).
    #[error("the DPoP proof has critical header extensions")]
    Critical,
    /// No `jwk`, or one that is not a usable public key for `alg`.
    #[error("the DPoP proof key is missing or not usable")]
    BadKey,
    /// The `jwk` holds private or symmetric key material.
    #[error("the DPoP proof key holds private key material")]
    PrivateKey,
    /// The signature does not verify with the `jwk`.
    #[error("the DPoP proof signature does not verify")]
    BadSignature,
    /// `jti`, `htm`, `htu` or `iat` is missing or has the wrong type.
    #[error("the DPoP proof lacks a required claim")]
    MissingClaim,
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another method")]
    WrongMethod,
    /// `htu` is not the request's URI.
    #[error("the DPoP proof is for another URI")]
    WrongUri,
    /// `iat` is outside the accepted window.
    #[error("the DPoP proof is too old or from the future")]
    Stale,
    /// `ath` is missing or not the access token's hash.
    #[error("the DPoP proof is not for this access token")]
    WrongAth,
    /// The proof's key is not the one the token is bound to (`cnf.jkt`).
    #[error("the DPoP proof key is not the one the access token is bound to")]
    WrongKey,
    /// The proof was used before.
    #[error("the DPoP proof was already used")]
    Replayed,
}

impl ProofError {
    /// A fixed description for `error_description`.
    pub fn description(self) -> &'static str {
        match self {
            Self::Missing => "a DPoP proof is required",
            Self::Replayed => "the DPoP proof was already used",
            Self::Stale => "the DPoP proof is too old",
            Self::WrongKey => "the DPoP proof key is not the access token's",
            _ => "the DPoP proof is not valid",
        }
    }
}

/// What the proof must match.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The request's URI as [`normalize_htu`] makes it.
    pub htu: &'a str,
    /// The access token the proof must hash in `ath`.
    pub access_token: &'a str,
    /// The time, in seconds since the epoch.
    pub now: u64,
}

/// A proof whose signature and claims were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    /// The proof's id.
    pub jti: String,
    /// When it was made (seconds since the epoch).
    pub iat: u64,
    /// The server nonce it carries.
    pub nonce: Option<String>,
}

/// Checks proofs with fixed settings: allowed algorithms, the `iat`
/// window and a size bound.
#[derive(Debug, Clone)]
pub struct ProofValidator {
    algs: Vec<Algorithm>,
    max_age: Duration,
    leeway: Duration,
    max_len: usize,
}

/// The asymmetric algorithms a proof may use, in the order the challenge
/// lists them.
pub const DEFAULT_PROOF_ALGS: &[Algorithm] = &[
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::EdDSA,
];

fn asymmetric(alg: Algorithm) -> bool {
    !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

impl Default for ProofValidator {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    #[serde(default, deserialize_with = "numeric_date")]
    iat: Option<u64>,
    ath: Option<String>,
    nonce: Option<String>,
}

fn numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

fn b64(part: &str) -> Result<Vec<u8>, ProofError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| ProofError::Malformed)
}

impl ProofValidator {
    /// [`DEFAULT_PROOF_ALGS`], proofs at most 60 s old (5 s leeway for a
    /// client clock ahead), at most [`DEFAULT_MAX_PROOF_LEN`] long.
    pub fn new() -> Self {
        crate::jwt::install_crypto_provider();
        Self {
            algs: DEFAULT_PROOF_ALGS.to_vec(),
            max_age: Duration::from_secs(60),
            leeway: Duration::from_secs(5),
            max_len: DEFAULT_MAX_PROOF_LEN,
        }
    }

    /// Allows only these algorithms; symmetric ones are dropped (a proof is
    /// signed with a private key whose public half it carries).
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algs = algs.into_iter().filter(|a| asymmetric(*a)).collect();
        self.algs.dedup();
        self
    }

    /// How old a proof may be (`iat`), at most 10 minutes.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.min(Duration::from_secs(600));
        self
    }

    /// Clock-skew allowance for `iat`, at most 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(crate::jwt::MAX_LEEWAY);
        self
    }

    /// The longest proof accepted.
    pub fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len;
        self
    }

    /// The longest proof accepted.
    pub fn max_proof_len(&self) -> usize {
        self.max_len
    }

    /// The allowed algorithms.
    pub fn allowed_algorithms(&self) -> &[Algorithm] {
        &self.algs
    }

    /// How long after its `iat` a proof may still be accepted: how long
    /// its `jti` must be remembered.
    pub fn window(&self) -> Duration {
        self.max_age + self.leeway
    }

    /// Checks `proof` against `request`: RFC 9449 §4.3 steps 2 to 9, 11
    /// and 12 (the caller does the binding, the nonce and the replay).
    pub fn validate(
        &self,
        proof: &str,
        request: &ProofRequest<'_>,
    ) -> Result<VerifiedProof, ProofError> {
        if proof.len() > self.max_len {
            return Err(ProofError::TooLong);
        }
        let mut parts = proof.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ProofError::Malformed);
        };
        let header: Map<String, Value> =
            serde_json::from_slice(&b64(header_b64)?).map_err(|_| ProofError::Malformed)?;
        let typ = header.get("typ").and_then(Value::as_str);
        let typ_ok = typ.is_some_and(|t| {
            let t = t.strip_prefix("application/").unwrap_or(t);
            t.eq_ignore_ascii_case(PROOF_TYP)
        });
        if !typ_ok {
            return Err(ProofError::WrongType);
        }
        let alg: Algorithm = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|a| a.parse().ok())
            .ok_or(ProofError::Algorithm)?;
        if !asymmetric(alg) || !self.algs.contains(&alg) {
            return Err(ProofError::Algorithm);
        }
        if header.contains_key("crit") {
            return Err(ProofError::Critical);
        }
        let Some(Value::Object(jwk)) = header.get("jwk") else {
            return Err(ProofError::BadKey);
        };
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(ProofError::PrivateKey);
        }
        let jkt = jwk_thumbprint(jwk).ok_or(ProofError::BadKey)?;
        let parsed: Jwk =
            serde_json::from_value(Value::Object(jwk.clone())).map_err(|_| ProofError::BadKey)?;
        let key = VerifyKey::from_jwk_as(&parsed, alg).map_err(|_| ProofError::BadKey)?;

        let message = proof
            .get(..header_b64.len() + 1 + payload_b64.len())
            .ok_or(ProofError::Malformed)?;
        let verified =
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), key.decoding_key(), alg)
                .unwrap_or(false);
        if !verified {
            return Err(ProofError::BadSignature);
        }

        let claims: ProofClaims =
            serde_json::from_slice(&b64(payload_b64)?).map_err(|_| ProofError::Malformed)?;
        let (Some(jti), Some(htm), Some(htu), Some(iat)) =
            (claims.jti, claims.htm, claims.htu, claims.iat)
        else {
            return Err(ProofError::MissingClaim);
        };
        if jti.is_empty() || jti.len() > MAX_JTI_LEN {
            return Err(ProofError::MissingClaim);
        }
        // RFC 9110 §9.1: the method is case-sensitive.
        if htm != request.method {
            return Err(ProofError::WrongMethod);
        }
        if normalize_htu(&htu).as_deref() != Some(request.htu) {
            return Err(ProofError::WrongUri);
        }
        let oldest = request.now.saturating_sub(self.window().as_secs());
        let newest = request.now.saturating_add(self.leeway.as_secs());
        if iat < oldest || iat > newest {
            return Err(ProofError::Stale);
        }
        let ath = b64url(&sha256(request.access_token.as_bytes()));
        if claims.ath.as_deref() != Some(ath.as_str()) {
            return Err(ProofError::WrongAth);
        }
        Ok(VerifiedProof {
            jkt,
            jti,
            iat,
            nonce: claims.nonce,
        })
    }
}

/// `ath` for an access token: base64url(SHA-256(token)) (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    b64url(&sha256(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ath_is_the_rfc_example() {
        // RFC 9449 §7.1.
        assert_eq!(
            access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }

    #[test]
    fn symmetric_algorithms_cannot_be_allowed() {
        let v = ProofValidator::new().algorithms([Algorithm::HS256, Algorithm::ES256]);
        assert_eq!(v.allowed_algorithms(), &[Algorithm::ES256]);
    }
}
