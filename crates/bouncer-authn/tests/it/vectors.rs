//! The JWS vectors of ../shared/reference/jwt_vectors.json (RFC 7515,
//! 7520, 8037 and three derived negative cases), as a table.

use base64::Engine as _;
use bouncer_authn::jwt::{JwtError, JwtValidation, JwtVerifier, KeySet, VerifyKey};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::support::fixture;

fn vectors() -> Vec<Value> {
    serde_json::from_slice(&fixture("jwt_vectors.json")).unwrap()
}

fn vector(name: &str) -> Value {
    vectors()
        .into_iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// The public half of a vector's key as a key set.
fn key_set(v: &Value) -> KeySet {
    if v["key_jwk_or_pem"].is_null() {
        return KeySet::new();
    }
    let jwk_json = if v["public_jwk"].is_null() {
        &v["key_jwk_or_pem"]
    } else {
        &v["public_jwk"]
    };
    if jwk_json["kty"] == "oct" {
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk_json["k"].as_str().unwrap())
            .unwrap();
        let alg = match v["alg"].as_str().unwrap() {
            "HS256" => Algorithm::HS256,
            other => panic!("{other}"),
        };
        let mut key = VerifyKey::hmac(alg, &k).unwrap();
        if let Some(kid) = jwk_json["kid"].as_str() {
            key = key.with_kid(kid);
        }
        return KeySet::new().with(key).unwrap();
    }
    let jwk: Jwk = serde_json::from_value(jwk_json.clone()).unwrap();
    let mut set = KeySet::new();
    let key = if v["alg"] == "PS384" {
        // RFC 7520 §3.4's JWK names no algorithm: bind it explicitly.
        Some(VerifyKey::from_jwk_as(&jwk, Algorithm::PS384).unwrap())
    } else {
        VerifyKey::from_jwk(&jwk).unwrap()
    };
    if let Some(key) = key {
        set.insert(key).unwrap();
    }
    set
}

/// Settings for the RFC examples: issuer `joe`, and — only through the
/// dangerous door — no `exp` check and no audience.
fn vector_settings(check_exp: bool) -> JwtValidation {
    let d = JwtValidation::new("joe", "unused")
        .dangerous()
        .disable_aud_validation();
    if check_exp {
        d.done()
    } else {
        d.disable_exp_validation().done()
    }
}

fn verify(name: &str, check_exp: bool) -> Result<bouncer_authn::jwt::VerifiedToken, JwtError> {
    let v = vector(name);
    JwtVerifier::new(key_set(&v), vector_settings(check_exp)).verify(v["token"].as_str().unwrap())
}

#[test]
fn rfc7515_a1_is_expired_by_default_and_verifies_without_exp_check() {
    assert_eq!(
        verify("RFC7515-A.1-HS256", true).unwrap_err(),
        JwtError::Expired
    );
    let ok = verify("RFC7515-A.1-HS256", false).unwrap();
    assert_eq!(ok.claims.iss.as_deref(), Some("joe"));
    assert_eq!(ok.claims.exp, Some(1_300_819_380));
    assert_eq!(
        ok.claims.get("http://example.com/is_root"),
        Some(Value::Bool(true))
    );
}

#[test]
fn rfc7515_a1_with_default_settings_is_expired() {
    // Production settings: the token is expired (and has no aud): the
    // verifier says expired, and the signature really was checked first.
    let v = vector("RFC7515-A.1-HS256");
    let verifier = JwtVerifier::new(key_set(&v), JwtValidation::new("joe", "https://api"));
    assert_eq!(
        verifier.verify(v["token"].as_str().unwrap()).unwrap_err(),
        JwtError::Expired
    );
}

#[test]
fn asymmetric_rfc_vectors_verify() {
    for name in ["RFC7515-A.2-RS256", "RFC7515-A.3-ES256"] {
        assert_eq!(verify(name, true).unwrap_err(), JwtError::Expired, "{name}");
        let ok = verify(name, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ok.claims.iss.as_deref(), Some("joe"), "{name}");
    }
}

#[test]
fn valid_signatures_over_non_json_payloads_are_not_jwts() {
    // The signature verifies (it is checked before the payload is read), but
    // a JWT verifier must refuse a payload that is not a JSON object.
    for name in [
        "RFC8037-A.4-EdDSA-Ed25519",
        "RFC7520-4.1-RS256",
        "RFC7520-4.2-PS384",
        "RFC7520-4.4-HS256",
    ] {
        assert_eq!(
            verify(name, false).unwrap_err(),
            JwtError::BadClaims,
            "{name}"
        );
    }
}

#[test]
fn tampered_signatures_fail_as_signatures() {
    for name in [
        "RFC8037-A.4-EdDSA-Ed25519",
        "RFC7515-A.2-RS256",
        "RFC7515-A.3-ES256",
    ] {
        let v = vector(name);
        let token = v["token"].as_str().unwrap();
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig = sig.as_bytes().to_vec();
        sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{head}.{}", String::from_utf8(sig).unwrap());
        let err = JwtVerifier::new(key_set(&v), vector_settings(false))
            .verify(&tampered)
            .unwrap_err();
        assert_eq!(err, JwtError::BadSignature, "{name}");
    }
}

#[test]
fn es512_is_not_supported_and_says_so_as_invalid() {
    // P-521 keys are skipped when a JWKS is loaded; the token finds no key.
    for name in ["RFC7515-A.4-ES512", "RFC7520-4.3-ES512"] {
        let err = verify(name, false).unwrap_err();
        assert!(
            matches!(err, JwtError::UnknownKey | JwtError::Malformed),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn derived_negative_vectors() {
    // Tampered payload: a bad signature, not "expired".
    assert_eq!(
        verify("DERIVED-A.1-tampered-payload", true).unwrap_err(),
        JwtError::BadSignature
    );
    // alg confusion: HS256 MAC keyed with the RSA public key. The key set
    // holds only an RS256 key, which never verifies an HS256 token.
    assert_eq!(
        verify(
            "DERIVED-A.2-alg-confusion-HS256-keyed-with-RSA-public-PEM",
            false
        )
        .unwrap_err(),
        JwtError::UnknownKey
    );
    // alg none (A.5 and the downgrade): never verified.
    for name in ["RFC7515-A.5-none", "DERIVED-A.2-alg-none-downgrade"] {
        let err = verify(name, false).unwrap_err();
        assert!(
            matches!(err, JwtError::UnknownKey | JwtError::Malformed),
            "{name}: {err:?}"
        );
        // Even with an HMAC key present for the empty signature.
        let with_hmac = KeySet::new()
            .with(VerifyKey::hmac(Algorithm::HS256, &[7u8; 32]).unwrap())
            .unwrap();
        let token = vector(name)["token"].as_str().unwrap().to_owned();
        assert!(JwtVerifier::new(with_hmac, vector_settings(false))
            .verify(&token)
            .is_err());
    }
}

#[test]
fn an_hmac_key_named_like_the_rsa_key_does_not_help_confusion() {
    // Even a key set that holds the PEM as an HS256 secret *under the RS
    // key's algorithm binding* cannot be abused: each key verifies one alg.
    let v = vector("DERIVED-A.2-alg-confusion-HS256-keyed-with-RSA-public-PEM");
    let jwk: Jwk = serde_json::from_value(v["public_jwk"].clone()).unwrap();
    let rsa = VerifyKey::from_jwk(&jwk).unwrap().unwrap();
    assert_eq!(rsa.algorithm(), Algorithm::RS256);
    assert!(VerifyKey::hmac(Algorithm::RS256, &[0u8; 40]).is_err());
}
