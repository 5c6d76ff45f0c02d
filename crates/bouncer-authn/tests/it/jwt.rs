//! Tokens signed here with generated keys for every algorithm, through the
//! authenticator and the gate.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bouncer_authn::jwt::{JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::{MemoryRevocationStore, RevocationStore};
use bouncer_core::{Fault, Gate, SchemeName};
use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::support::*;

const ALL: [Algorithm; 12] = [
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

/// One key per algorithm: the HMAC secret under `hs-<alg>`, the RSA key
/// once per RSA algorithm, and the fixture JWKS for EC/EdDSA.
fn keys() -> KeySet {
    let mut set =
        KeySet::from_jwks_str(std::str::from_utf8(&fixture("jwks.json")).unwrap()).unwrap();
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        set.insert(
            VerifyKey::hmac(alg, HS_SECRET)
                .unwrap()
                .with_kid(format!("hs-{alg:?}")),
        )
        .unwrap();
    }
    for alg in [
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        set.insert(
            VerifyKey::rsa_pem(alg, &fixture("rsa.pub.pem"))
                .unwrap()
                .with_kid(format!("rsa-{alg:?}")),
        )
        .unwrap();
    }
    set
}

fn kid_for(alg: Algorithm) -> String {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => format!("hs-{alg:?}"),
        Algorithm::RS256 => "test-rsa".into(),
        Algorithm::ES256 => "test-ec".into(),
        Algorithm::ES384 => "test-ec384".into(),
        Algorithm::EdDSA => "test-ed".into(),
        _ => format!("rsa-{alg:?}"),
    }
}

fn validation() -> JwtValidation {
    JwtValidation::new(ISS, AUD).accept_logto_organization_audience()
}

fn gate_with(auth: JwtAuthenticator) -> Gate {
    Gate::builder().authenticator(auth).build()
}

fn gate() -> Gate {
    gate_with(JwtAuthenticator::new("api", keys(), validation()))
}

async fn bearer(gate: &Gate, token: &str) -> bouncer_core::Verdict {
    decide(gate, &[("authorization", &format!("Bearer {token}"))]).await
}

#[tokio::test]
async fn every_algorithm_verifies_with_its_own_key() {
    let g = gate();
    for alg in ALL {
        let t = sign_with(alg, Some(&kid_for(alg)), Some("at+jwt"), &claims("alice"));
        let v = bearer(&g, &t).await;
        assert!(v.decision().is_allowed(), "{alg:?}: {}", v.trace());
    }
}

#[tokio::test]
async fn a_kid_names_one_key_and_one_algorithm() {
    let g = gate();
    // An EC signature under the RSA key's kid.
    let t = sign_with(Algorithm::ES256, Some("test-rsa"), None, &claims("alice"));
    assert_eq!(code(&bearer(&g, &t).await), "invalid_token");
    // An unknown kid.
    let t = sign_with(Algorithm::ES256, Some("nope"), None, &claims("alice"));
    assert_eq!(code(&bearer(&g, &t).await), "invalid_token");
    // No kid at all: tried against the keys of its algorithm.
    let t = sign_with(Algorithm::ES256, None, None, &claims("alice"));
    assert_eq!(code(&bearer(&g, &t).await), "allow");
    // An unknown kid hint still finds a key configured without a kid.
    let unnamed = gate_with(JwtAuthenticator::new(
        "api",
        KeySet::new()
            .with(VerifyKey::hmac(Algorithm::HS256, HS_SECRET).unwrap())
            .unwrap(),
        validation(),
    ));
    let t = sign_with(Algorithm::HS256, Some("whatever"), None, &claims("alice"));
    assert_eq!(code(&bearer(&unnamed, &t).await), "allow");
    // ...but never one bound to another algorithm.
    let t = sign_with(Algorithm::HS384, Some("whatever"), None, &claims("alice"));
    assert_eq!(code(&bearer(&unnamed, &t).await), "invalid_token");
}

#[tokio::test]
async fn claim_failures_are_invalid_token_and_expiry_is_token_expired() {
    let g = gate();
    let hs = |c: serde_json::Value| sign_with(Algorithm::HS256, Some("hs-HS256"), None, &c);
    let mut c = claims("alice");
    c["iss"] = json!("https://evil.example");
    assert_eq!(code(&bearer(&g, &hs(c)).await), "invalid_token");
    let mut c = claims("alice");
    c["aud"] = json!(["https://other.example"]);
    assert_eq!(code(&bearer(&g, &hs(c)).await), "invalid_token");
    let mut c = claims("alice");
    c["aud"] = json!(["https://other.example", AUD]);
    assert_eq!(
        code(&bearer(&g, &hs(c)).await),
        "allow",
        "one of several audiences suffices"
    );
    let mut c = claims("alice");
    c["nbf"] = json!(now() + 3600);
    assert_eq!(code(&bearer(&g, &hs(c)).await), "invalid_token");
    let mut c = claims("alice");
    c.as_object_mut().unwrap().remove("sub");
    assert_eq!(code(&bearer(&g, &hs(c)).await), "invalid_token");
    let mut c = claims("alice");
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(code(&bearer(&g, &hs(c)).await), "invalid_token");
    let mut c = claims("alice");
    c["exp"] = json!(now() - 3600);
    let v = bearer(&g, &hs(c)).await;
    assert_eq!(code(&v), "token_expired");
    let ch = &v.decision().denial().unwrap().challenges()[0];
    assert_eq!(ch.get("error"), Some("invalid_token"));
    let mut c = claims("alice");
    c["exp"] = json!(now() - 10);
    assert_eq!(
        code(&bearer(&g, &hs(c)).await),
        "allow",
        "within the leeway"
    );
    let mut c = claims("alice");
    c["exp"] = json!("tomorrow");
    assert_eq!(code(&bearer(&g, &hs(c)).await), "invalid_token");
    let mut c = claims("alice");
    c["exp"] = json!(u64::MAX);
    assert_eq!(
        code(&bearer(&g, &hs(c)).await),
        "allow",
        "a far-future exp does not overflow"
    );
}

#[tokio::test]
async fn typ_allow_list() {
    let g = gate();
    for (typ, expected) in [
        (None, "allow"),
        (Some("JWT"), "allow"),
        (Some("at+jwt"), "allow"),
        (Some("application/at+JWT"), "allow"),
        (Some("id_token"), "invalid_token"),
    ] {
        let t = sign_with(Algorithm::HS256, Some("hs-HS256"), typ, &claims("alice"));
        assert_eq!(code(&bearer(&g, &t).await), expected, "{typ:?}");
    }
    let strict = gate_with(JwtAuthenticator::new(
        "api",
        keys(),
        validation().require_at_jwt(),
    ));
    let t = sign_with(
        Algorithm::HS256,
        Some("hs-HS256"),
        Some("JWT"),
        &claims("alice"),
    );
    assert_eq!(code(&bearer(&strict, &t).await), "invalid_token");
    let t = sign_with(
        Algorithm::HS256,
        Some("hs-HS256"),
        Some("at+jwt"),
        &claims("alice"),
    );
    assert_eq!(code(&bearer(&strict, &t).await), "allow");
}

#[tokio::test]
async fn malformed_bearer_headers_are_invalid_request() {
    let g = gate();
    for h in ["Bearer", "Bearer a b", "Bearer \"x\""] {
        let v = decide(&g, &[("authorization", h)]).await;
        assert_eq!(code(&v), "malformed_credentials", "{h}");
        assert_eq!(
            v.decision().denial().unwrap().challenges()[0].get("error"),
            Some("invalid_request")
        );
    }
    let long = format!("Bearer {}", "a".repeat(9000));
    assert_eq!(
        code(&decide(&g, &[("authorization", &long)]).await),
        "malformed_credentials"
    );
    let t = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &claims("alice"));
    let v = decide(
        &g,
        &[
            ("authorization", &format!("Bearer {t}")),
            ("authorization", &format!("Bearer {t}")),
        ],
    )
    .await;
    assert_eq!(code(&v), "malformed_credentials");
    // Not a JWT at all but valid bearer syntax: invalid_token.
    assert_eq!(
        code(&decide(&g, &[("authorization", "Bearer abc.def")]).await),
        "invalid_token"
    );
}

#[tokio::test]
async fn claims_map_to_identity() {
    let mut c = claims("alice");
    c["scope"] = json!("documents:read profile");
    c["organization_id"] = json!("acme");
    c["acr"] = json!("urn:logto:acr:mfa");
    c["amr"] = json!(["pwd", "mfa"]);
    c["auth_time"] = json!(now() - 5);
    c["jti"] = json!("t-1");
    c["realm_access"] = json!({"roles": ["editor"]});
    c["permissions"] = json!(["documents:write"]);
    let t = sign_with(Algorithm::ES256, Some("test-ec"), None, &c);
    let auth = JwtAuthenticator::new("api", keys(), validation());
    let id = auth.identify(&t).unwrap();
    assert_eq!(id.subject(), "alice");
    assert_eq!(id.scheme(), &SchemeName::BEARER);
    assert_eq!(id.organization(), Some("acme"));
    assert_eq!(id.scopes().unwrap(), ["documents:read", "profile"]);
    assert_eq!(id.auth_context().acr(), Some("urn:logto:acr:mfa"));
    assert_eq!(id.auth_context().amr(), ["pwd", "mfa"]);
    assert!(id.auth_context().auth_time().is_some());
    assert_eq!(id.credential().id(), Some("jti:t-1"));
    assert_eq!(id.roles(), ["editor"]);
    assert_eq!(id.permissions(), ["documents:write"]);
}

#[tokio::test]
async fn logto_organization_audience_binds_the_token() {
    let mut c = claims("alice");
    c["aud"] = json!("urn:logto:organization:acme");
    let t = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &c);
    let auth = JwtAuthenticator::new("api", keys(), validation());
    assert_eq!(auth.identify(&t).unwrap().organization(), Some("acme"));
    let plain = JwtAuthenticator::new("api", keys(), JwtValidation::new(ISS, AUD));
    assert!(
        plain.identify(&t).is_err(),
        "without the option the audience is wrong"
    );
}

#[tokio::test]
async fn revoked_tokens_are_token_revoked() {
    let store = Arc::new(MemoryRevocationStore::new());
    let auth = JwtAuthenticator::new("api", keys(), validation()).revocation(store.clone());
    let g = gate_with(auth.clone());
    let mut c = claims("alice");
    c["jti"] = json!("abc");
    let t = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &c);
    assert_eq!(code(&bearer(&g, &t).await), "allow");
    let id = auth.identify(&t).unwrap();
    assert!(bouncer_authn::jwt::revoke(store.as_ref(), &id)
        .await
        .unwrap());
    assert_eq!(code(&bearer(&g, &t).await), "token_revoked");
    // A token without jti is revocable too (by its hash).
    let t2 = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &claims("bob"));
    let id2 = auth.identify(&t2).unwrap();
    bouncer_authn::jwt::revoke(store.as_ref(), &id2)
        .await
        .unwrap();
    assert_eq!(code(&bearer(&g, &t2).await), "token_revoked");
}

struct DownStore;
#[async_trait]
impl RevocationStore for DownStore {
    async fn revoke(&self, _: &str, _: std::time::SystemTime) -> Result<(), Fault> {
        Err(Fault::unavailable(
            "revocation store",
            Duration::from_secs(2),
            "connection refused",
        ))
    }
    async fn is_revoked(&self, _: &str) -> Result<bool, Fault> {
        Err(Fault::unavailable(
            "revocation store",
            Duration::from_secs(2),
            "connection refused",
        ))
    }
}

#[tokio::test]
async fn a_failing_revocation_store_is_503_never_401_or_allow() {
    let g = gate_with(
        JwtAuthenticator::new("api", keys(), validation()).revocation(Arc::new(DownStore)),
    );
    let t = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &claims("alice"));
    let v = bearer(&g, &t).await;
    let d = v.decision().denial().unwrap();
    assert_eq!(d.status(), 503);
    assert_eq!(d.retry_after(), Some(Duration::from_secs(2)));
    // A bad token is still 401: the store is not consulted before verification.
    assert_eq!(code(&bearer(&g, "abc").await), "invalid_token");
}

#[tokio::test]
async fn weak_hmac_secrets_are_refused() {
    assert!(VerifyKey::hmac(Algorithm::HS256, b"short").is_err());
    // The hash size per algorithm, not 32 bytes for all.
    assert!(VerifyKey::hmac(Algorithm::HS384, &HS_SECRET[..47]).is_err());
    assert!(VerifyKey::hmac(Algorithm::HS512, &HS_SECRET[..63]).is_err());
    assert!(VerifyKey::hmac(Algorithm::HS512, &HS_SECRET[..64]).is_ok());
}

#[tokio::test]
async fn jwks_errors_are_reported() {
    assert!(KeySet::from_jwks_str("not json").is_err());
    assert!(KeySet::from_jwks_str(r#"{"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]}"#).is_err());
    let set = KeySet::from_jwks_str(
        r#"{"keys":[{"kty":"oct","k":"AAAA"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}"#,
    )
    .unwrap();
    assert!(set.is_empty(), "oct keys and encryption keys are skipped");
    assert_eq!(set.skipped().len(), 2);
}

#[tokio::test]
async fn the_token_cache_never_outlives_revocation_or_a_key_change() {
    let store = Arc::new(MemoryRevocationStore::new());
    let auth = JwtAuthenticator::new("api", keys(), validation())
        .revocation(store.clone())
        .token_cache(100);
    let g = gate_with(auth.clone());
    let mut c = claims("alice");
    c["jti"] = json!("cached-1");
    let t = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &c);
    assert_eq!(code(&bearer(&g, &t).await), "allow");
    assert_eq!(code(&bearer(&g, &t).await), "allow", "a cache hit");
    bouncer_authn::jwt::revoke(store.as_ref(), &auth.identify(&t).unwrap())
        .await
        .unwrap();
    assert_eq!(
        code(&bearer(&g, &t).await),
        "token_revoked",
        "revocation applies to cached tokens"
    );

    // Replacing the key set drops what the old keys verified.
    let t2 = sign_with(Algorithm::HS256, Some("hs-HS256"), None, &claims("bob"));
    assert_eq!(code(&bearer(&g, &t2).await), "allow");
    auth.verifier().replace_keys(KeySet::new());
    assert_eq!(code(&bearer(&g, &t2).await), "invalid_token");
    // Later sets, which the allocator may place where the first one lived,
    // never bring its cached tokens back.
    for _ in 0..64 {
        auth.verifier().replace_keys(KeySet::new());
        assert_eq!(code(&bearer(&g, &t2).await), "invalid_token");
    }
}
