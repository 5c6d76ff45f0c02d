//! The JWT comparisons: bouncer's HS256 authenticator against
//! jsonwebtoken's `decode` with the same validation, the token cache with
//! repeating and never-repeating tokens, and RS256/ES256 verification on
//! every key-set path against raw aws-lc-rs with the key parsed once.

use std::hint::black_box;
use std::sync::Arc;

use aws_lc_rs::signature::{
    ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED,
    RSA_PKCS1_2048_8192_SHA256,
};
use bouncer_authn::jwt::{
    Algorithm, JwtAuthenticator, JwtValidation, JwtVerifier, KeySet, SharedKeys, VerifyKey,
};
use bouncer_authn::revocation::MemoryRevocationStore;
use bouncer_core::{Authenticator, RequestContext};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;

use crate::measure::{now_or_never, Case};

pub const ISS: &str = "https://auth.bouncer.test";
pub const AUD: &str = "https://api.bouncer.test";
const SECRET: &[u8] = b"bench-secret-of-at-least-thirty-two-bytes";
const RSA_PEM: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/rsa.pem");
const RSA_PUB: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/rsa.pub.pem");
const EC_PEM: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/ec256.pem");
const EC_PUB: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/ec256.pub.pem");
const JWKS: &str = include_str!("../../crates/bouncer-authn/tests/fixtures/jwks.json");

/// Tokens in the never-repeating ring, and the cache it runs through (the
/// ring is 16 times the cache: every lookup misses).
pub const RING: usize = 16_384;
pub const MISS_CACHE: usize = 1_024;

/// What a typical middleware deserializes.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TypicalClaims {
    sub: String,
    exp: u64,
    iss: String,
    aud: String,
    scope: String,
    jti: String,
}

fn claims(jti: &str) -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    serde_json::json!({ "iss": ISS, "aud": AUD, "sub": "alice", "exp": now + 3600, "iat": now,
                        "jti": jti, "scope": "documents:read documents:write", "organization_id": "acme" })
}

fn token(header: &Header, key: &EncodingKey, jti: &str) -> String {
    jsonwebtoken::encode(header, &claims(jti), key).unwrap()
}

fn parts(token: &str) -> http::request::Parts {
    http::Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn hs_keys() -> KeySet {
    KeySet::new()
        .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .unwrap()
}

/// jsonwebtoken's validation set as bouncer's default: iss, aud, exp and
/// nbf with a 30 s leeway.
fn jsonwebtoken_validation() -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISS]);
    v.set_audience(&[AUD]);
    v.leeway = 30;
    v.validate_nbf = true;
    v
}

/// Everything the HS256 cases read.
pub struct Hs256 {
    token: String,
    parts: http::request::Parts,
    ring: Vec<http::request::Parts>,
    key: DecodingKey,
    validation: Validation,
    verifier: JwtVerifier,
    plain: JwtAuthenticator,
    cached: JwtAuthenticator,
    miss_cached: JwtAuthenticator,
    /// The ring's tokens, for jsonwebtoken on the same never-repeating
    /// input.
    ring_tokens: Vec<String>,
}

impl Hs256 {
    pub fn new(ring: usize) -> Self {
        // A verifier first: it installs jsonwebtoken's crypto backend, which
        // signing needs too.
        let verifier = JwtVerifier::new(hs_keys(), JwtValidation::new(ISS, AUD));
        let enc = EncodingKey::from_secret(SECRET);
        let header = Header::new(Algorithm::HS256);
        let token = token(&header, &enc, "3b8c7a1e-bench");
        let revocations = Arc::new(MemoryRevocationStore::new());
        let plain = JwtAuthenticator::new("b", hs_keys(), JwtValidation::new(ISS, AUD))
            .revocation(revocations.clone());
        let cached = JwtAuthenticator::new("b", hs_keys(), JwtValidation::new(ISS, AUD))
            .revocation(revocations.clone())
            .token_cache(10_000);
        let miss_cached = JwtAuthenticator::new("b", hs_keys(), JwtValidation::new(ISS, AUD))
            .revocation(revocations)
            .token_cache(MISS_CACHE);
        let ring_tokens: Vec<String> = (0..ring).map(|i| token_for(&header, &enc, i)).collect();
        let ring = ring_tokens.iter().map(|t| parts(t)).collect();
        Self {
            parts: parts(&token),
            token,
            ring,
            ring_tokens,
            key: DecodingKey::from_secret(SECRET),
            validation: jsonwebtoken_validation(),
            verifier,
            plain,
            cached,
            miss_cached,
        }
    }

    /// jsonwebtoken's `decode` against bouncer's authenticator (no cache:
    /// parse, verify, validate, map to an identity, revocation check) and
    /// its verifier alone.
    pub fn authenticate(&self) -> Vec<Case<'_>> {
        let ctx = RequestContext::from_parts(&self.parts);
        vec![
            Case::each("jsonwebtoken_decode", move || {
                black_box(
                    jsonwebtoken::decode::<TypicalClaims>(
                        black_box(&self.token),
                        &self.key,
                        &self.validation,
                    )
                    .unwrap(),
                );
            }),
            Case::each("bouncer_authenticate", move || {
                black_box(now_or_never(self.plain.authenticate(black_box(&ctx))).unwrap());
            }),
            Case::each("bouncer_verify", move || {
                black_box(self.verifier.verify(black_box(&self.token)).unwrap());
            }),
        ]
    }

    /// Never-repeating tokens: without a cache, and through a cache every
    /// one of them misses.
    pub fn cache_miss(&self) -> Vec<Case<'_>> {
        let ring = |a: &'static str, auth: &JwtAuthenticator| -> Case<'_> {
            let parts = &self.ring;
            let auth = auth.clone();
            let mut i = 0usize;
            Case::each(a, move || {
                let p = &parts[i % parts.len()];
                i = i.wrapping_add(1);
                let ctx = RequestContext::from_parts(p);
                black_box(now_or_never(auth.authenticate(black_box(&ctx))).unwrap());
            })
        };
        let mut j = 0usize;
        let tokens = &self.ring_tokens;
        vec![
            ring("no_cache", &self.plain),
            ring("cache_miss", &self.miss_cached),
            // The peer on the same tokens: its typical case, not only the
            // one hot token of `authenticate`.
            Case::each("jsonwebtoken_decode", move || {
                let t = &tokens[j % tokens.len()];
                j = j.wrapping_add(1);
                black_box(
                    jsonwebtoken::decode::<TypicalClaims>(
                        black_box(t),
                        &self.key,
                        &self.validation,
                    )
                    .unwrap(),
                );
            }),
        ]
    }

    /// One token repeated: every lookup after the first hits.
    pub fn cache_hit(&self) -> Vec<Case<'_>> {
        let ctx = RequestContext::from_parts(&self.parts);
        vec![Case::each("cache_hit", move || {
            black_box(now_or_never(self.cached.authenticate(black_box(&ctx))).unwrap());
        })]
    }
}

fn token_for(header: &Header, enc: &EncodingKey, i: usize) -> String {
    token(header, enc, &format!("ring-{i:08}"))
}

/// One asymmetric algorithm's cases.
pub struct Asymmetric {
    name: &'static str,
    token: String,
    rotated_token: String,
    message: String,
    signature: Vec<u8>,
    der: Vec<u8>,
    algorithm: &'static dyn VerificationAlgorithm,
    parsed: ParsedPublicKey,
    static_set: JwtVerifier,
    jwks: JwtVerifier,
    rotation: JwtVerifier,
}

impl Asymmetric {
    pub fn rs256() -> Self {
        Self::new(
            "rs256",
            Algorithm::RS256,
            "test-rsa",
            EncodingKey::from_rsa_pem(RSA_PEM).unwrap(),
            VerifyKey::rsa_pem(Algorithm::RS256, RSA_PUB).unwrap(),
            DecodingKey::from_rsa_pem(RSA_PUB).unwrap(),
            &RSA_PKCS1_2048_8192_SHA256,
        )
    }

    pub fn es256() -> Self {
        Self::new(
            "es256",
            Algorithm::ES256,
            "test-ec",
            EncodingKey::from_ec_pem(EC_PEM).unwrap(),
            VerifyKey::ec_pem(Algorithm::ES256, EC_PUB).unwrap(),
            DecodingKey::from_ec_pem(EC_PUB).unwrap(),
            &ECDSA_P256_SHA256_FIXED,
        )
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    fn new(
        name: &'static str,
        alg: Algorithm,
        kid: &str,
        enc: EncodingKey,
        public: VerifyKey,
        raw: DecodingKey,
        algorithm: &'static dyn VerificationAlgorithm,
    ) -> Self {
        let static_set = JwtVerifier::new(
            KeySet::new().with(public.clone()).unwrap(),
            JwtValidation::new(ISS, AUD),
        );
        let token = token(&Header::new(alg), &enc, "3b8c7a1e-bench");
        let mut with_kid = Header::new(alg);
        with_kid.kid = Some(kid.to_owned());
        let rotated_token = token_for(&with_kid, &enc, 1);
        let (message, sig) = token.rsplit_once('.').unwrap();
        let signature = base64_url(sig);
        let der = raw.try_get_as_bytes().unwrap().to_vec();
        let parsed = ParsedPublicKey::new(algorithm, &der).unwrap();
        // The JWKS fixture holds the same public keys under their kids.
        let jwks = JwtVerifier::new(
            KeySet::from_jwks_str(JWKS).unwrap(),
            JwtValidation::new(ISS, AUD),
        );
        // Rotation: a set swapped in at run time (the old key and the JWKS's
        // keys, the token naming its key by kid), as a JWKS source does.
        let shared = SharedKeys::new(KeySet::new().with(public.with_kid("old")).unwrap());
        let rotation = JwtVerifier::with_shared_keys(shared.clone(), JwtValidation::new(ISS, AUD));
        let mut next = KeySet::from_jwks_str(JWKS).unwrap();
        next.extend(shared.current().as_ref().clone()).unwrap();
        shared.replace(next);
        for (v, t) in [
            (&static_set, &token),
            (&jwks, &rotated_token),
            (&rotation, &rotated_token),
        ] {
            v.verify(t).unwrap();
        }
        Self {
            name,
            message: message.to_owned(),
            token,
            rotated_token,
            signature,
            der,
            algorithm,
            parsed,
            static_set,
            jwks,
            rotation,
        }
    }

    /// Raw aws-lc-rs with the key parsed once first (the baseline), then
    /// parsing it on every call (jsonwebtoken's way), then bouncer's
    /// verifier (size, header, kid, signature, claims, validation) on a
    /// static set, a set from a JWKS document, and a set swapped in by a
    /// rotation.
    pub fn cases(&self) -> Vec<Case<'_>> {
        vec![
            Case::each("aws_lc_rs_parsed_once", move || {
                self.parsed
                    .verify_sig(
                        black_box(self.message.as_bytes()),
                        black_box(&self.signature),
                    )
                    .unwrap();
            }),
            Case::each("aws_lc_rs_parsed_each_call", move || {
                UnparsedPublicKey::new(self.algorithm, &self.der)
                    .verify(
                        black_box(self.message.as_bytes()),
                        black_box(&self.signature),
                    )
                    .unwrap();
            }),
            Case::each("bouncer_static", move || {
                black_box(self.static_set.verify(black_box(&self.token)).unwrap());
            }),
            Case::each("bouncer_jwks", move || {
                black_box(self.jwks.verify(black_box(&self.rotated_token)).unwrap());
            }),
            Case::each("bouncer_rotation", move || {
                black_box(
                    self.rotation
                        .verify(black_box(&self.rotated_token))
                        .unwrap(),
                );
            }),
        ]
    }
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}
