//! Shared by the JWT targets.
use bouncer_authn::jwt::{Algorithm, JwtValidation, JwtVerifier, KeySet, VerifyKey};

pub const SECRET: &[u8] = b"fuzz-secret-fuzz-secret-fuzz-secret!";

/// One verifier for the whole run (building it per input would dominate).
pub fn verifier() -> &'static JwtVerifier {
    static V: std::sync::OnceLock<JwtVerifier> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let key = VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap();
        JwtVerifier::new(
            KeySet::new().with(key).unwrap(),
            JwtValidation::new("iss", "aud"),
        )
    })
}
