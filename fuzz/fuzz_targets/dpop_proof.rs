//! Arbitrary DPoP proofs and `htu`s: the validator never panics and never
//! accepts a proof it cannot verify, and `htu` normalization is idempotent.
#![no_main]
use libfuzzer_sys::fuzz_target;

use bouncer_authn::dpop::{normalize_htu, ProofRequest, ProofValidator};

fn validator() -> &'static ProofValidator {
    static V: std::sync::OnceLock<ProofValidator> = std::sync::OnceLock::new();
    V.get_or_init(ProofValidator::new)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let req = ProofRequest {
        method: "GET",
        htu: "https://api.example/docs",
        access_token: "token",
        now: 1_700_000_000,
    };
    // Made without a key of ours, an accepted proof would need an ECDSA or
    // RSA signature the fuzzer forged for the key it carries.
    if let Ok(v) = validator().validate(text, &req) {
        assert!(!v.jti.is_empty());
    }
    if let Some(n) = normalize_htu(text) {
        assert_eq!(normalize_htu(&n).as_deref(), Some(n.as_str()), "not idempotent: {text:?}");
    }
});
