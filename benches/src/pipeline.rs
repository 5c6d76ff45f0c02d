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

/// The gate of the pipeline.
pub fn gate() -> Gate {
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
    let keys = KeySet::new()
        .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
        .unwrap();
    let bearer = JwtAuthenticator::new(
        "load",
        keys,
        JwtValidation::new("https://auth.load", "https://api.load"),
    )
    .revocation(std::sync::Arc::new(MemoryRevocationStore::new()))
    .token_cache(10_000);
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": "https://auth.load", "aud": "https://api.load", "sub": "alice",
        "exp": now + 3600, "jti": "load-1", "scope": "documents:read"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}
