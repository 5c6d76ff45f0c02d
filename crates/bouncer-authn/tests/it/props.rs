//! Property tests: arbitrary credentials never panic and never
//! authenticate; the revocation store agrees with a model.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bouncer_authn::api_key::{ApiKeyAuthenticator, MemoryApiKeyStore, StoredApiKey};
use bouncer_authn::basic::{BasicAuthenticator, MemoryCredentialStore, PasswordHash};
use bouncer_authn::jwt::{JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::MemoryRevocationStore;
use bouncer_core::{Gate, RequestContext, Requirement};
use jsonwebtoken::Algorithm;
use proptest::prelude::*;

use crate::support::{AUD, HS_SECRET, ISS};

fn gate() -> Gate {
    let mut users = MemoryCredentialStore::new();
    users.insert("alice", PasswordHash::hash("alice-pass").unwrap());
    let mut keys = MemoryApiKeyStore::new();
    keys.insert(StoredApiKey::from_plaintext("svc", "demo-reporter-key"));
    let jwt_keys = KeySet::new()
        .with(VerifyKey::hmac(Algorithm::HS256, HS_SECRET).unwrap())
        .unwrap();
    Gate::builder()
        .authenticator(BasicAuthenticator::new("api", users))
        .authenticator(JwtAuthenticator::new(
            "api",
            jwt_keys,
            JwtValidation::new(ISS, AUD),
        ))
        .authenticator(ApiKeyAuthenticator::header("x-api-key", keys))
        .build()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_credentials_never_authenticate(
        scheme in prop_oneof![Just("Basic "), Just("Bearer "), Just("bearer "), Just(""), Just("X ")],
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        as_api_key in any::<bool>(),
    ) {
        let mut value = scheme.as_bytes().to_vec();
        value.extend_from_slice(&bytes);
        let Ok(hv) = http::HeaderValue::from_bytes(&value) else { return Ok(()) };
        let name = if as_api_key { "x-api-key" } else { "authorization" };
        let mut b = http::Request::get("/");
        b = b.header(name, hv);
        let (parts, ()) = b.body(()).unwrap().into_parts();
        let g = gate();
        let v = rt().block_on(g.decide(&RequestContext::from_parts(&parts), &Requirement::authenticated()));
        prop_assert!(!v.decision().is_allowed());
        let d = v.decision().denial().unwrap();
        prop_assert_eq!(d.status(), 401);
        prop_assert!(!d.challenges().is_empty());
    }

    #[test]
    fn jwt_like_garbage_is_invalid_token(parts in proptest::collection::vec("[A-Za-z0-9_-]{0,60}", 1..5)) {
        let token = parts.join(".");
        let g = gate();
        let header = format!("Bearer {token}");
        let (p, ()) = http::Request::get("/").header("authorization", header).body(()).unwrap().into_parts();
        let v = rt().block_on(g.decide(&RequestContext::from_parts(&p), &Requirement::authenticated()));
        let code = v.decision().denial().map(|d| d.code().as_str());
        prop_assert!(matches!(code, Some("invalid_token" | "malformed_credentials")), "{:?}", code);
    }

    #[test]
    fn revocation_store_agrees_with_a_model(
        ops in proptest::collection::vec((0u8..4, 0u64..50, 0u64..50), 1..60),
    ) {
        let store = MemoryRevocationStore::new();
        let mut model: HashMap<String, u64> = HashMap::new();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut now = 0u64;
        for (op, id, arg) in ops {
            let id = format!("t{}", id % 8);
            match op {
                0 | 1 => {
                    let until = now + arg;
                    store.revoke_now(&id, t0 + Duration::from_secs(until), t0 + Duration::from_secs(now));
                    model.retain(|_, exp| *exp > now);
                    if until > now { model.insert(id.clone(), until); }
                }
                2 => now += arg % 10,
                _ => {}
            }
            let expected = model.get(&id).is_some_and(|exp| *exp > now);
            prop_assert_eq!(store.is_revoked_at(&id, t0 + Duration::from_secs(now)), expected);
        }
    }
}

fn arbitrary_jwk() -> impl Strategy<Value = serde_json::Value> {
    use base64::Engine;
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let kty = prop::sample::select(vec!["oct", "RSA", "EC", "OKP", "OCT", "foo"]);
    let alg = prop::option::of(prop::sample::select(vec![
        "HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "EdDSA", "none", "A128KW",
    ]));
    let use_ = prop::option::of(prop::sample::select(vec!["sig", "enc", "x"]));
    let ops = prop::option::of(prop::collection::vec(
        prop::sample::select(vec!["sign", "verify", "encrypt", "deriveKey"]),
        0..3,
    ));
    let bytes = prop::collection::vec(any::<u8>(), 0..300).prop_map(b64);
    let crv = prop::sample::select(vec!["P-256", "P-384", "Ed25519", "X25519"]);
    (
        kty,
        alg,
        use_,
        ops,
        bytes.clone(),
        bytes,
        crv,
        prop::option::of("[a-z]{1,3}"),
    )
        .prop_map(|(kty, alg, use_, ops, a, b, crv, kid)| {
            let mut k = serde_json::json!({
                "kty": kty, "k": a, "n": a, "e": "AQAB", "x": a, "y": b, "crv": crv,
            });
            let o = k.as_object_mut().unwrap();
            if let Some(alg) = alg {
                o.insert("alg".into(), alg.into());
            }
            if let Some(u) = use_ {
                o.insert("use".into(), u.into());
            }
            if let Some(ops) = ops {
                o.insert("key_ops".into(), ops.into());
            }
            if let Some(kid) = kid {
                o.insert("kid".into(), kid.into());
            }
            k
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever a JWKS document holds, the set never has a symmetric key,
    /// never a key that is not for verifying, and every oct key it held is
    /// reported as refused.
    #[test]
    fn arbitrary_jwks_never_yield_a_symmetric_key(keys in prop::collection::vec(arbitrary_jwk(), 0..6)) {
        let doc = serde_json::json!({ "keys": keys }).to_string();
        if let Ok(set) = KeySet::from_jwks_str(&doc) {
            for k in set.keys() {
                prop_assert!(!matches!(
                    k.algorithm(),
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
                ));
            }
            let octs = keys.iter().filter(|k| k["kty"] == "oct").count();
            let refused = set
                .skipped()
                .iter()
                .filter(|s| *s.reason() == bouncer_authn::jwt::SkipReason::Symmetric)
                .count();
            prop_assert_eq!(octs, refused);
        }
        for k in &keys {
            if let Ok(jwk) = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(k.clone()) {
                if let Ok(Some(key)) = VerifyKey::from_jwk(&jwk) {
                    prop_assert!(!matches!(
                        key.algorithm(),
                        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
                    ));
                }
            }
        }
    }
}
