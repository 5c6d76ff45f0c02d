//! Secrets never appear in `Debug` output.

use bouncer_authn::api_key::{ApiKeyAuthenticator, MemoryApiKeyStore, StoredApiKey};
use bouncer_authn::basic::{
    decode_user_pass, BasicAuthenticator, MemoryCredentialStore, PasswordHash,
};
use bouncer_authn::jwt::{JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_core::{CredentialInfo, Credentials};
use jsonwebtoken::Algorithm;

const SECRET: &str = "hunter2-hunter2-hunter2-hunter2-hunter2";

#[test]
fn debug_output_holds_no_secret() {
    let hash = PasswordHash::hash(SECRET).unwrap();
    let mut users = MemoryCredentialStore::new();
    users.insert("alice", hash.clone());
    let mut keys = MemoryApiKeyStore::new();
    let stored = StoredApiKey::from_plaintext("svc", SECRET);
    keys.insert(stored.clone());
    let vk = VerifyKey::hmac(Algorithm::HS256, SECRET.as_bytes()).unwrap();
    let jwt = JwtAuthenticator::new(
        "api",
        KeySet::new().with(vk.clone()).unwrap(),
        JwtValidation::new("i", "a"),
    );
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("alice:{SECRET}"),
    );
    let outputs = [
        format!("{hash:?}"),
        format!("{users:?}"),
        format!("{stored:?}"),
        format!("{keys:?}"),
        format!("{vk:?}"),
        format!("{jwt:?}"),
        format!(
            "{:?}",
            BasicAuthenticator::new("api", MemoryCredentialStore::new())
        ),
        format!(
            "{:?}",
            ApiKeyAuthenticator::header("x-api-key", keys.clone())
        ),
        format!("{:?}", decode_user_pass(&b64).unwrap()),
        format!("{:?}", Credentials::parse(&format!("Basic {b64}")).unwrap()),
        format!("{:?}", CredentialInfo::new(Some(SECRET.into()), None)),
    ];
    let digest = stored.digest_hex();
    for out in outputs {
        assert!(!out.contains(SECRET), "{out}");
        assert!(!out.contains(&b64), "{out}");
        assert!(!out.contains(&digest), "{out}");
        assert!(!out.contains(hash.as_phc()), "{out}");
    }
}
