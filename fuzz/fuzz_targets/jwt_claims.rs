//! Arbitrary headers and payloads, correctly signed: claim parsing and
//! validation never panic, and only well-formed claims pass.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

mod common;
use common::{verifier, SECRET};

fuzz_target!(|data: &[u8]| {
    let (header, payload) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&br#"{"alg":"HS256"}"#[..], data),
    };
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let message = format!("{}.{}", b64(header), b64(payload));
    let sig = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    let token = format!("{message}.{sig}");
    let v = verifier();
    if let Ok(t) = v.verify(&token) {
        // Accepted tokens name the issuer and audience and have a usable exp.
        assert_eq!(t.claims.iss.as_deref(), Some("iss"));
        assert!(t.claims.exp.is_some());
        let _ = bouncer_authn::jwt::into_identity(t.claims, t.revocation_id);
    }
});
