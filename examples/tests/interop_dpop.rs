//! DPoP (RFC 9449) end to end: a real OpenID provider (`oidc-provider`,
//! started on loopback) issues a DPoP-bound access token through the
//! client-credentials grant for a proof made here; two API instances (two
//! gates, two axum servers) behind one public URL share one real Redis for
//! proof `jti`s and one nonce secret. A proof used on one instance is
//! refused on the other, the nonce one instance hands out is accepted by
//! the other, and with Redis stopped the answer is 503, never 401 or 200.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::handler::Handler;
use axum::routing::get;
use axum::Router;
use bouncer_authn::dpop::{DpopAuthenticator, NonceSource, ProofSigner};
use bouncer_authn::jwt::{
    discover, Algorithm, JwksConfig, JwksSource, JwtAuthenticator, JwtValidation,
};
use bouncer_axum::{Bouncer, Principal, RouteRequirement};
use bouncer_core::{Challenge, Gate};
use bouncer_redis::RedisStore;
use bouncer_test::RedisServer;
use http::{Method, Request};
use http_body_util::Full;
use serde_json::Value;

const API: &str = "https://api.bouncer.test";
/// The URL clients use; a load balancer sends each request to either
/// instance.
#[path = "common/http.rs"]
mod http_client;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use http_client::{call, HttpClient};

const PUBLIC: &str = "https://api.bouncer.test";
const NONCE_SECRET: &[u8] = b"a-dpop-nonce-secret-shared-by-instances";

use oidc_provider::Provider;

fn start_provider() -> Provider {
    oidc_provider::start(oidc_provider::free_port(), &["dpop-interop-key"])
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jti() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("interop-{}-{}", now(), N.fetch_add(1, Ordering::Relaxed))
}

fn signer() -> ProofSigner {
    let pem = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("quickstart/demo-keys/dpop-es256.pem"),
    )
    .unwrap();
    ProofSigner::from_pem(Algorithm::ES256, &pem).unwrap()
}

/// A DPoP-bound token from the provider's token endpoint.
async fn dpop_token(client: &HttpClient, issuer: &str, key: &ProofSigner) -> Value {
    let endpoint = format!("{issuer}/token");
    let proof = key
        .proof("POST", &endpoint, now(), &jti(), None, None)
        .unwrap();
    let form = format!(
        "grant_type=client_credentials&client_id=svc-reporter&client_secret=interop-secret&resource={}&scope=documents%3Aread",
        API.replace(':', "%3A").replace('/', "%2F"),
    );
    let req = Request::post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", proof)
        .body(Full::from(form))
        .unwrap();
    let (status, _, body) = call(client, req).await;
    assert_eq!(status, 200, "token endpoint: {body}");
    body
}

/// One API instance: Bearer and DPoP on every route, proofs' `jti`s in
/// `redis`, nonces from the shared secret.
async fn instance(issuer: &str, redis: Arc<RedisStore>) -> bouncer_test::matrix::LoopbackServer {
    let config = JwksConfig::default();
    let meta = discover(issuer, &config).await.unwrap();
    let source = JwksSource::connect(&meta.jwks_uri, config).await.unwrap();
    let jwt = JwtAuthenticator::from_jwks(
        "interop",
        source,
        JwtValidation::new(meta.issuer.clone(), API).require_at_jwt(),
    );
    let nonces = NonceSource::new(NONCE_SECRET, Duration::from_secs(60)).unwrap();
    let dpop = DpopAuthenticator::new(jwt.clone(), redis)
        .origin(PUBLIC)
        .unwrap()
        .nonces(nonces);
    let gate = Gate::builder()
        .authenticator(jwt)
        .authenticator(dpop)
        .build();
    let bouncer = Bouncer::new(gate);
    let who = |Principal(p): Principal| async move { p.subject().to_owned() };
    let router = Router::new()
        .route(
            "/me",
            get(who.layer(bouncer.require(RouteRequirement::authenticated()))),
        )
        .layer(bouncer.guards());
    bouncer_test::matrix::serve_loopback(router).await.unwrap()
}

fn me(base: &str, scheme: &str, token: &str, proof: Option<&str>) -> Request<Full<bytes::Bytes>> {
    let mut b = Request::builder()
        .method(Method::GET)
        .uri(format!("{base}/me"))
        .header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        b = b.header("dpop", p);
    }
    b.body(Full::default()).unwrap()
}

fn dpop_challenge(headers: &http::HeaderMap) -> Challenge {
    Challenge::parse_headers(headers)
        .unwrap()
        .into_iter()
        .find(|c| c.scheme().eq_ignore_ascii_case("DPoP"))
        .expect("a DPoP challenge")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_token_from_a_real_provider_across_two_instances_on_redis() {
    let provider = start_provider();
    let mut redis = RedisServer::start().unwrap();
    let client: HttpClient = http_client::client();
    let server_a = instance(
        &provider.issuer,
        Arc::new(RedisStore::open(&redis.url()).unwrap()),
    )
    .await;
    let server_b = instance(
        &provider.issuer,
        Arc::new(RedisStore::open(&redis.url()).unwrap()),
    )
    .await;
    let (a, b) = (server_a.url(""), server_b.url(""));
    let key = signer();

    let issued = dpop_token(&client, &provider.issuer, &key).await;
    assert_eq!(issued["token_type"], "DPoP");
    let token = issued["access_token"].as_str().unwrap().to_owned();
    let htu = format!("{PUBLIC}/me");

    // Without the server's nonce: 401 use_dpop_nonce, and the nonce to use.
    let p = key
        .proof("GET", &htu, now(), &jti(), Some(&token), None)
        .unwrap();
    let (status, headers, body) = call(&client, me(&a, "DPoP", &token, Some(&p))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    let c = dpop_challenge(&headers);
    assert_eq!(c.get("error"), Some("use_dpop_nonce"));
    assert!(c.get("algs").unwrap().split(' ').any(|a| a == "ES256"));
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();

    // With it, on the other instance (the nonce is the shared secret's).
    let p = key
        .proof("GET", &htu, now(), &jti(), Some(&token), Some(&nonce))
        .unwrap();
    let (status, _, body) = call(&client, me(&b, "DPoP", &token, Some(&p))).await;
    assert_eq!(status, 200, "{body}");

    // The same proof again, on the first instance: a replay, refused.
    let (status, headers, body) = call(&client, me(&a, "DPoP", &token, Some(&p))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    assert_eq!(
        dpop_challenge(&headers).get("error"),
        Some("invalid_dpop_proof")
    );
    // And on the instance that accepted it.
    let (status, _, _) = call(&client, me(&b, "DPoP", &token, Some(&p))).await;
    assert_eq!(status, 401);

    // A fresh proof is fine on either.
    for base in [&a, &b] {
        let p = key
            .proof("GET", &htu, now(), &jti(), Some(&token), Some(&nonce))
            .unwrap();
        let (status, _, body) = call(&client, me(base, "DPoP", &token, Some(&p))).await;
        assert_eq!(status, 200, "{body}");
    }

    // The bound token as a bearer token: 401 invalid_token, both challenges.
    let (status, headers, body) = call(&client, me(&a, "Bearer", &token, None)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let challenges = Challenge::parse_headers(&headers).unwrap();
    let schemes: Vec<&str> = challenges.iter().map(Challenge::scheme).collect();
    assert_eq!(schemes, ["Bearer", "DPoP"]);
    assert_eq!(challenges[0].get("error"), Some("invalid_token"));

    // A proof for another method, and one by another key.
    let p = key
        .proof("POST", &htu, now(), &jti(), Some(&token), Some(&nonce))
        .unwrap();
    let (status, headers, _) = call(&client, me(&a, "DPoP", &token, Some(&p))).await;
    assert_eq!(
        (status, dpop_challenge(&headers).get("error")),
        (401, Some("invalid_dpop_proof"))
    );

    // Redis stopped: a valid request is 503 with Retry-After, not 401, not 200.
    redis.stop();
    let p = key
        .proof("GET", &htu, now(), &jti(), Some(&token), Some(&nonce))
        .unwrap();
    let (status, headers, body) = call(&client, me(&b, "DPoP", &token, Some(&p))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("service_unavailable")),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    // A bad proof is still 401: nothing is stored for it.
    let (status, _, _) = call(&client, me(&b, "Bearer", &token, None)).await;
    assert_eq!(status, 401);

    // Back: the instance recovers by itself (the data is gone with the old server).
    redis.restart().unwrap();
    let mut last = 0;
    for _ in 0..40 {
        let p = key
            .proof("GET", &htu, now(), &jti(), Some(&token), Some(&nonce))
            .unwrap();
        last = call(&client, me(&b, "DPoP", &token, Some(&p))).await.0;
        if last == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last, 200, "instance b recovered");
}
