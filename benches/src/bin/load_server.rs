//! Two servers for the load benchmark, on loopback: a plain axum hello
//! handler, and the same handler behind bouncer's full pipeline (guards,
//! HS256 bearer with the token cache, organization, role and access list).
//! Prints `plain=<addr> bouncer=<addr> token=<jwt>` and serves until killed.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::net::SocketAddr;

use async_trait::async_trait;
use axum::routing::get;
use axum::Router;
use bouncer_authn::jwt::{Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::MemoryRevocationStore;
use bouncer_authz::{AccessList, Policy, PolicyAuthorizer, Resource, ResourceResolver};
use bouncer_axum::{Bouncer, RouteRequirement};
use bouncer_core::{Fault, Gate};

const SECRET: &[u8] = b"load-bench-secret-of-at-least-32-bytes";

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

async fn hello() -> &'static str {
    "hello"
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

#[tokio::main]
async fn main() {
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
    let gate = Gate::builder()
        .guard(guards.path_guard().unwrap())
        .guard(guards.network_guard())
        .authenticator(bearer)
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy).resources(Docs))
        .build();
    let bouncer = Bouncer::new(gate);
    let plain = serve(Router::new().route("/orgs/{org}/documents/{id}", get(hello))).await;
    let guarded = serve(
        Router::new()
            .route(
                "/orgs/{org}/documents/{id}",
                get(hello).route_layer(
                    bouncer.require(
                        RouteRequirement::authenticated()
                            .permission("documents:read")
                            .organization_from("org")
                            .resource_from("id"),
                    ),
                ),
            )
            .layer(bouncer.guards()),
    )
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({"iss": "https://auth.load", "aud": "https://api.load", "sub": "alice",
        "exp": now + 3600, "jti": "load-1", "scope": "documents:read"});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    println!("plain={plain} bouncer={guarded} token={token}");
    std::future::pending::<()>().await;
}
