//! Making proofs (the client's side of RFC 9449 §4.2): for tests, tools
//! and Rust clients of a DPoP-protected API.

use std::fmt;

use base64::Engine as _;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Map, Value};

use super::proof::{access_token_hash, PROOF_TYP};
use super::thumbprint::jwk_thumbprint;

/// Why a signing key could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The key does not parse, or does not fit the algorithm.
    #[error("the DPoP signing key is not usable: {0}")]
    Key(#[from] jsonwebtoken::errors::Error),
    /// HMAC algorithms cannot sign proofs.
    #[error("a DPoP proof needs an asymmetric algorithm")]
    Symmetric,
}

/// A private key that signs proofs, with its public JWK and thumbprint.
#[derive(Clone)]
pub struct ProofSigner {
    alg: Algorithm,
    key: EncodingKey,
    jwk: Map<String, Value>,
    jkt: String,
}

impl fmt::Debug for ProofSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofSigner")
            .field("alg", &self.alg)
            .field("jkt", &self.jkt)
            .finish_non_exhaustive()
    }
}

impl ProofSigner {
    /// A signer for `alg` with a PKCS#8 PEM private key (EC for ES256/384,
    /// RSA for RS*/PS*, Ed25519 for EdDSA).
    pub fn from_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, SignerError> {
        crate::jwt::install_crypto_provider();
        let key = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem)?,
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem)?,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                return Err(SignerError::Symmetric)
            }
            _ => EncodingKey::from_rsa_pem(pem)?,
        };
        let jwk: Jwk = Jwk::from_encoding_key(&key, alg)?;
        let jwk = match serde_json::to_value(&jwk) {
            Ok(Value::Object(m)) => m,
            _ => return Err(SignerError::Symmetric),
        };
        let jkt = jwk_thumbprint(&jwk).ok_or(SignerError::Symmetric)?;
        Ok(Self { alg, key, jwk, jkt })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public JWK the proofs carry.
    pub fn public_jwk(&self) -> &Map<String, Value> {
        &self.jwk
    }

    /// The RFC 7638 thumbprint: what a token bound to this key holds in
    /// `cnf.jkt`.
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// A proof for `htm` `htu`, made at `iat` with id `jti`, with `ath`
    /// for `access_token` and the server `nonce` when given.
    pub fn proof(
        &self,
        htm: &str,
        htu: &str,
        iat: u64,
        jti: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, SignerError> {
        let mut claims = json!({"jti": jti, "htm": htm, "htu": htu, "iat": iat});
        if let Some(obj) = claims.as_object_mut() {
            if let Some(t) = access_token {
                obj.insert("ath".into(), Value::from(access_token_hash(t)));
            }
            if let Some(n) = nonce {
                obj.insert("nonce".into(), Value::from(n));
            }
        }
        self.sign_raw(&self.header(), &claims)
    }

    /// The header of a proof: `typ`, `alg` and the public `jwk`.
    pub fn header(&self) -> Map<String, Value> {
        let mut h = Map::new();
        h.insert("typ".into(), Value::from(PROOF_TYP));
        h.insert("alg".into(), Value::from(format!("{:?}", self.alg)));
        h.insert("jwk".into(), Value::Object(self.jwk.clone()));
        h
    }

    /// Signs any header and claims as given, with this key and algorithm
    /// (for tests that need a malformed proof with a valid signature).
    pub fn sign_raw(
        &self,
        header: &Map<String, Value>,
        claims: &Value,
    ) -> Result<String, SignerError> {
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let h = serde_json::to_vec(header).map_err(jsonwebtoken::errors::Error::from)?;
        let c = serde_json::to_vec(claims).map_err(jsonwebtoken::errors::Error::from)?;
        let message = format!("{}.{}", b64(&h), b64(&c));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.key, self.alg)?;
        Ok(format!("{message}.{signature}"))
    }
}
