//! Arbitrary bearer tokens: the verifier never panics and never accepts
//! anything it did not sign.
#![no_main]
use libfuzzer_sys::fuzz_target;

mod common;
use common::verifier;

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
