//! JWKS parsing never panics, every key it keeps is bound to one
//! asymmetric algorithm, and no symmetric key ever comes out of a JWKS.
#![no_main]
use bouncer_authn::jwt::KeySet;
use jsonwebtoken::Algorithm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = KeySet::from_jwks_str(text) {
        for k in set.keys() {
            assert!(
                !matches!(
                    k.algorithm(),
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
                ),
                "a JWKS yielded a symmetric key"
            );
        }
    }
});
