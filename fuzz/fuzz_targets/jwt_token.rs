//! Arbitrary bearer tokens: the verifier never panics and never accepts
//! anything it did not sign.
#![no_main]
use bouncer_authn::jwt::{Algorithm, JwtValidation, JwtVerifier, KeySet, VerifyKey};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static JwtVerifier {
    static V: std::sync::OnceLock<JwtVerifier> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let key =
            VerifyKey::hmac(Algorithm::HS256, b"fuzz-secret-fuzz-secret-fuzz-secret!").unwrap();
        JwtVerifier::new(
            KeySet::new().with(key).unwrap(),
            JwtValidation::new("iss", "aud"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let v = verifier();
    assert!(v.verify(token).is_err());
    let _ = bouncer_authn::jwt::bearer_token(&{
        let mut h = http::HeaderMap::new();
        if let Ok(hv) = http::HeaderValue::from_bytes(data) {
            h.insert(http::header::AUTHORIZATION, hv);
        }
        h
    });
});
