//! Bearer JWT authentication: bouncer against jsonwebtoken's own `decode`
//! of the same tokens, RS256/ES256 against a raw aws-lc-rs verify, and
//! DPoP-bound tokens with their proofs beside the plain bearer path.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use aws_lc_rs::signature::{
    UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
};
use bouncer_authn::jwt::{Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::MemoryRevocationStore;
use bouncer_core::{Authenticator, RequestContext};
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;

const ISS: &str = "https://auth.bouncer.test";
const AUD: &str = "https://api.bouncer.test";
const SECRET: &[u8] = b"bench-secret-of-at-least-thirty-two-bytes";
const RSA_PEM: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/rsa.pem");
const RSA_PUB: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/rsa.pub.pem");
const EC_PEM: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/ec256.pem");
const EC_PUB: &[u8] = include_bytes!("../../crates/bouncer-authn/tests/fixtures/ec256.pub.pem");

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

fn claims() -> serde_json::Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    serde_json::json!({ "iss": ISS, "aud": AUD, "sub": "alice", "exp": now + 3600, "iat": now,
                        "jti": "3b8c7a1e-bench", "scope": "documents:read documents:write", "organization_id": "acme" })
}

fn token(alg: Algorithm, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims(), key).unwrap()
}

/// Polls a future that never waits (everything here is in memory).
fn now_or_never<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

fn parts(token: &str) -> http::request::Parts {
    http::Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn hs256(c: &mut Criterion) {
    let t = token(Algorithm::HS256, &EncodingKey::from_secret(SECRET));
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    let key = DecodingKey::from_secret(SECRET);
    let keys = || {
        KeySet::new()
            .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .unwrap()
    };
    let revocations = Arc::new(MemoryRevocationStore::new());
    let plain = JwtAuthenticator::new("b", keys(), JwtValidation::new(ISS, AUD))
        .revocation(revocations.clone());
    let cached = JwtAuthenticator::new("b", keys(), JwtValidation::new(ISS, AUD))
        .revocation(revocations)
        .token_cache(10_000);
    let p = parts(&t);
    let ctx = RequestContext::from_parts(&p);

    let mut group = c.benchmark_group("jwt_hs256");
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            black_box(
                jsonwebtoken::decode::<TypicalClaims>(black_box(&t), &key, &validation).unwrap(),
            )
        })
    });
    let verifier = bouncer_authn::jwt::JwtVerifier::new(keys(), JwtValidation::new(ISS, AUD));
    group.bench_function("bouncer_verify", |b| {
        b.iter(|| black_box(verifier.verify(black_box(&t)).unwrap()))
    });
    group.bench_function("bouncer_authenticate", |b| {
        b.iter(|| {
            black_box(
                now_or_never(plain.authenticate(black_box(&ctx)))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.bench_function("bouncer_authenticate_cached", |b| {
        b.iter(|| {
            black_box(
                now_or_never(cached.authenticate(black_box(&ctx)))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.finish();
}

fn asymmetric(c: &mut Criterion) {
    for (name, alg, enc, public) in [
        (
            "rs256",
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(RSA_PEM).unwrap(),
            VerifyKey::rsa_pem(Algorithm::RS256, RSA_PUB).unwrap(),
        ),
        (
            "es256",
            Algorithm::ES256,
            EncodingKey::from_ec_pem(EC_PEM).unwrap(),
            VerifyKey::ec_pem(Algorithm::ES256, EC_PUB).unwrap(),
        ),
    ] {
        let t = token(alg, &enc);
        let (message, sig) = t.rsplit_once('.').unwrap();
        let sig = base64_url(sig);
        let raw = match alg {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(RSA_PUB).unwrap(),
            _ => DecodingKey::from_ec_pem(EC_PUB).unwrap(),
        };
        let der = raw.try_get_as_bytes().unwrap().to_vec();
        let verifier = bouncer_authn::jwt::JwtVerifier::new(
            KeySet::new().with(public).unwrap(),
            JwtValidation::new(ISS, AUD),
        );
        let mut group = c.benchmark_group(format!("jwt_{name}"));
        group.bench_function("aws_lc_rs_raw_verify", |b| {
            let key = match alg {
                Algorithm::RS256 => {
                    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.clone())
                }
                _ => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, der.clone()),
            };
            b.iter(|| {
                key.verify(black_box(message.as_bytes()), black_box(&sig))
                    .unwrap()
            })
        });
        group.bench_function("bouncer_verify", |b| {
            b.iter(|| black_box(verifier.verify(black_box(&t)).unwrap()))
        });
        group.finish();
    }
}

/// DPoP (RFC 9449): an HS256 token bound to an ES256 key, with a fresh
/// proof per request (signed outside the measurement), through the whole
/// scheme: token, proof signature and claims, binding, replay store.
/// Beside it the same token's plain bearer path, and the proof check alone.
fn dpop(c: &mut Criterion) {
    use bouncer_authn::dpop::{normalize_htu, DpopAuthenticator, ProofRequest, ProofSigner};
    use bouncer_store::MemoryReplayStore;

    let signer = ProofSigner::from_pem(Algorithm::ES256, EC_PEM).unwrap();
    let keys = || {
        KeySet::new()
            .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .unwrap()
    };
    let mut bound = claims();
    bound["cnf"] = serde_json::json!({"jkt": signer.jkt()});
    let key = EncodingKey::from_secret(SECRET);
    let bound = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &bound, &key).unwrap();
    let plain_token = token(Algorithm::HS256, &key);
    let revocations = Arc::new(MemoryRevocationStore::new());
    let bearer = JwtAuthenticator::new("b", keys(), JwtValidation::new(ISS, AUD))
        .revocation(revocations.clone());
    let jwt =
        JwtAuthenticator::new("b", keys(), JwtValidation::new(ISS, AUD)).revocation(revocations);
    let replays = Arc::new(MemoryReplayStore::new().capacity(usize::MAX));
    let scheme = DpopAuthenticator::new(jwt, replays)
        .origin("https://api.bouncer.test")
        .unwrap();
    let htu = "https://api.bouncer.test/docs";
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let counter = std::cell::Cell::new(0u64);
    let fresh = || {
        counter.set(counter.get() + 1);
        let proof = signer
            .proof(
                "GET",
                htu,
                now(),
                &format!("bench-{}", counter.get()),
                Some(&bound),
                None,
            )
            .unwrap();
        http::Request::get("/docs")
            .header("authorization", format!("DPoP {bound}"))
            .header("dpop", proof)
            .body(())
            .unwrap()
            .into_parts()
            .0
    };

    let mut group = c.benchmark_group("jwt_dpop");
    let p = parts(&plain_token);
    let ctx = RequestContext::from_parts(&p);
    group.bench_function("bearer_hs256", |b| {
        b.iter(|| {
            black_box(
                now_or_never(bearer.authenticate(black_box(&ctx)))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.bench_function("dpop_hs256_es256_proof", |b| {
        b.iter_batched(
            fresh,
            |p| {
                let ctx = RequestContext::from_parts(&p);
                black_box(now_or_never(scheme.authenticate(&ctx)).unwrap().unwrap())
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let normalized = normalize_htu(htu).unwrap();
    let proof = signer
        .proof("GET", htu, now(), "one", Some(&bound), None)
        .unwrap();
    let validator = bouncer_authn::dpop::ProofValidator::new();
    group.bench_function("proof_validate_es256", |b| {
        b.iter(|| {
            let req = ProofRequest {
                method: "GET",
                htu: &normalized,
                access_token: &bound,
                now: now(),
            };
            black_box(validator.validate(black_box(&proof), &req).unwrap())
        })
    });
    group.finish();
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

criterion_group!(benches, hs256, asymmetric, dpop);
criterion_main!(benches);
