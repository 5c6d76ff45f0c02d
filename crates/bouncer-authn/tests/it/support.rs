//! Helpers: signing test tokens, building requests, running a gate.

use std::time::{SystemTime, UNIX_EPOCH};

use bouncer_core::{Gate, RequestContext, Requirement, Verdict};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

pub(crate) const ISS: &str = "https://auth.bouncer.test";
pub(crate) const AUD: &str = "https://api.bouncer.test";
/// Long enough for HS512 (64 bytes, RFC 7518 §3.2).
pub(crate) const HS_SECRET: &[u8] =
    b"test-secret-that-is-long-enough-for-hs512-which-needs-64-bytes!!";

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The private key (and its kid in fixtures/jwks.json) for an algorithm.
pub(crate) fn signing_key(alg: Algorithm) -> (EncodingKey, Option<&'static str>) {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            (EncodingKey::from_secret(HS_SECRET), Some("hs"))
        }
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => (
            EncodingKey::from_rsa_pem(&fixture("rsa.pem")).unwrap(),
            Some("test-rsa"),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(&fixture("ec256.pem")).unwrap(),
            Some("test-ec"),
        ),
        Algorithm::ES384 => (
            EncodingKey::from_ec_pem(&fixture("ec384.pem")).unwrap(),
            Some("test-ec384"),
        ),
        Algorithm::EdDSA => (
            EncodingKey::from_ed_pem(&fixture("ed25519.pem")).unwrap(),
            Some("test-ed"),
        ),
        _ => unreachable!(),
    }
}

pub(crate) fn sign_with(
    alg: Algorithm,
    kid: Option<&str>,
    typ: Option<&str>,
    claims: &Value,
) -> String {
    let (key, _) = signing_key(alg);
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    h.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, &key).unwrap()
}

pub(crate) fn claims(sub: &str) -> Value {
    serde_json::json!({ "iss": ISS, "aud": AUD, "sub": sub, "exp": now() + 300, "iat": now() })
}

pub(crate) fn parts(headers: &[(&str, &str)]) -> http::request::Parts {
    let mut b = http::Request::get("/resource");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

pub(crate) async fn decide(gate: &Gate, headers: &[(&str, &str)]) -> Verdict {
    let p = parts(headers);
    gate.decide(
        &RequestContext::from_parts(&p),
        &Requirement::authenticated(),
    )
    .await
}

pub(crate) fn code(v: &Verdict) -> &'static str {
    v.decision().denial().map_or("allow", |d| d.code().as_str())
}
