//! The load benchmark's pipeline, built once for every adapter: guards,
//! HS256 bearer with the token cache, organization, role and access list —
//! so the axum and actix-web numbers measure the same work.

use async_trait::async_trait;
use bouncer_authn::jwt::{Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::MemoryRevocationStore;
use bouncer_authz::{AccessList, Policy, PolicyAuthorizer, Resource, ResourceResolver};
use bouncer_core::route::RouteRequirement;
use bouncer_core::{Fault, Gate};

const SECRET: &[u8] = b"load-bench-secret-of-at-least-32-bytes";

/// The path every load request asks for.
pub const PATH: &str = "/orgs/acme/documents/roadmap";

struct Docs;

#[async_trait]
impl ResourceResolver for Docs {
    async fn resolve(&self, org: Option<&str>, _id: &str) -> Result<Option<Resource>, Fault> {
        Ok(Some(Resource {
            organization: org.map(str::to_owned),
            private: Some(AccessList {
                users: vec!["alice".into()],
                roles: vec![],
            }),
            read_only: false,
        }))
    }
}

/// The gate of the pipeline, with the token cache.
pub fn gate() -> Gate {
    gate_with(true)
}

/// The gate of the pipeline without the token cache: every request
/// verifies its token.
pub fn gate_without_cache() -> Gate {
    gate_with(false)
}

fn validation() -> JwtValidation {
    JwtValidation::new("https://auth.load", "https://api.load")
}

fn keys() -> KeySet {
    KeySet::new()
        .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .unwrap()
}

/// Only the HS256 bearer check (no guards, no cache, no revocation store,
/// no authorization): the work the peer middleware does.
pub fn bearer_only_gate() -> Gate {
    Gate::builder()
        .authenticator(JwtAuthenticator::new("load", keys(), validation()))
        .build()
}

fn gate_with(cache: bool) -> Gate {
    let policy = Policy::from_toml(
        "load.toml",
        r#"
        [roles.viewer]
        permissions = ["documents:read"]
        [organizations.acme.members]
        alice = ["viewer"]
        [guards]
        trusted_proxies = ["127.0.0.0/8"]
        deny_ips = ["203.0.113.0/24"]
        "#,
    )
    .unwrap();
    let guards = policy.guards();
    let mut bearer = JwtAuthenticator::new("load", keys(), validation())
        .revocation(std::sync::Arc::new(MemoryRevocationStore::new()));
    if cache {
        bearer = bearer.token_cache(10_000);
    }
    Gate::builder()
        .guard(guards.path_guard().unwrap())
        .guard(guards.network_guard())
        .authenticator(bearer)
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy).resources(Docs))
        .build()
}

/// The route's requirement.
pub fn requirement() -> RouteRequirement {
    RouteRequirement::authenticated()
        .permission("documents:read")
        .organization_from("org")
        .resource_from("id")
}

/// A token the pipeline allows, valid for an hour.
pub fn token() -> String {
    token_numbered(1)
}

/// How many distinct tokens the many-token runs rotate through: more than
/// the pipeline's token cache holds (10,000), so most lookups miss.
pub const MANY_TOKENS: usize = 16_384;

/// [`MANY_TOKENS`] distinct allowed tokens (alice's, each with its own
/// `jti`), one per line, written to a file of the temporary directory;
/// its path.
pub fn write_many_tokens() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("bouncer-load-tokens-{}.txt", std::process::id()));
    let text: String = (1..=MANY_TOKENS).map(|n| token_numbered(n) + "\n").collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn token_numbered(n: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": "https://auth.load", "aud": "https://api.load", "sub": "alice",
        "exp": now + 3600, "jti": format!("load-{n}"), "scope": "documents:read"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

/// The peer middleware: axum-jwt-auth's `Claims` extractor in its usual
/// setup (`LocalDecoder`, jsonwebtoken 10 with its RustCrypto backend, as
/// its default features build it), validating the same HS256 tokens with
/// the same issuer, audience, expiry and leeway.
pub mod peer {
    use axum_jwt_auth::{Claims, Decoder, LocalDecoder};
    use jsonwebtoken10::{Algorithm, DecodingKey, Validation};

    /// The claims the handler reads.
    #[derive(Debug, Clone, serde::Deserialize)]
    pub struct LoadClaims {
        /// The subject.
        pub sub: String,
        /// The scopes.
        pub scope: String,
    }

    /// The decoder, as the router's state.
    pub fn decoder() -> Decoder<LoadClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["https://auth.load"]);
        validation.set_audience(&["https://api.load"]);
        validation.leeway = 30;
        let decoder = LocalDecoder::builder()
            .keys(vec![DecodingKey::from_secret(super::SECRET)])
            .validation(validation)
            .build()
            .unwrap();
        std::sync::Arc::new(decoder)
    }

    /// The hello handler behind the extractor.
    pub async fn hello(claims: Claims<LoadClaims>) -> &'static str {
        // Read, as a handler would.
        std::hint::black_box(&claims.claims.sub);
        "hello"
    }
}
