//! JWKS parsing never panics, and every key it keeps is bound to one
//! algorithm.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = bouncer_authn::jwt::KeySet::from_jwks_str(text) {
        for k in set.keys() {
            let _ = k.algorithm();
        }
    }
});
