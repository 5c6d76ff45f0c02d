//! The `Authorization` parser never panics, on any bytes, in one field or two.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = bouncer_core::Credentials::parse(s) {
            // What parsed has a token scheme.
            assert!(!c.scheme().is_empty());
        }
    }
    if let Ok(v) = http::HeaderValue::from_bytes(data) {
        let mut h = http::HeaderMap::new();
        h.append(http::header::AUTHORIZATION, v.clone());
        let _ = bouncer_core::Credentials::from_headers(&h);
        let _ = bouncer_core::authorization::scheme_of(&h);
        h.append(http::header::AUTHORIZATION, v);
        assert!(
            bouncer_core::Credentials::from_headers(&h).is_err(),
            "two fields are always refused"
        );
    }
});
