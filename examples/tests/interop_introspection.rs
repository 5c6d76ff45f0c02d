//! Opaque tokens through RFC 7662 introspection, against the real
//! `oidc-provider` of the interop test (its `introspection` and
//! `revocation` features, opaque access tokens for
//! `https://opaque.bouncer.test`): an axum route behind the gate allows a
//! client-credentials token, refuses it within the cache TTL once it is
//! revoked at the provider, answers 503 with `Retry-After` while the
//! provider is down (serving a cached answer until its TTL ends), and
//! refuses an inactive token with 401 `invalid_token` and a Bearer
//! challenge. Then two instances share answers through a real Redis.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::handler::Handler;
use axum::routing::{get, post};
use axum::Router;
use bouncer_authn::introspection::{ClientAuth, IntrospectionAuthenticator, IntrospectionConfig};
use bouncer_authz::{Policy, PolicyAuthorizer, SnapshotBuilder};
use bouncer_axum::{Bouncer, Principal, RouteRequirement};
use bouncer_core::{Challenge, Decision, Gate, RequestContext, Requirement};
use bouncer_redis::RedisStore;
use bouncer_test::RedisServer;
use http::Request;
use http_body_util::Full;
use serde_json::Value;

#[path = "common/http.rs"]
mod http_client;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use http_client::{call, HttpClient};

const OPAQUE: &str = "https://opaque.bouncer.test";

use oidc_provider::{free_port, Provider};

fn start_provider(port: u16) -> Provider {
    oidc_provider::start(port, &[])
}

fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn post_form(client: &HttpClient, url: String, body: String) -> (u16, Value) {
    let req = Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::from(body))
        .unwrap();
    let (status, _, body) = call(client, req).await;
    (status, body)
}

/// A client-credentials access token of `svc-reporter` for `resource`.
async fn token(client: &HttpClient, issuer: &str, resource: &str) -> String {
    let (status, body) = post_form(
        client,
        format!("{issuer}/token"),
        form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "svc-reporter"),
            ("client_secret", "interop-secret"),
            ("resource", resource),
            ("scope", "documents:read"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "token endpoint: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// RFC 7009 revocation at the provider, by the client the token is for.
async fn revoke_at_provider(client: &HttpClient, issuer: &str, token: &str) {
    let (status, body) = post_form(
        client,
        format!("{issuer}/token/revocation"),
        form(&[
            ("token", token),
            ("client_id", "svc-reporter"),
            ("client_secret", "interop-secret"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "revocation endpoint: {body}");
}

fn config(issuer: &str, ttl: Duration) -> IntrospectionConfig {
    IntrospectionConfig::new(
        format!("{issuer}/token/introspection"),
        ClientAuth::secret_basic("introspector", "introspector-secret"),
    )
    .with_allow_loopback_http(true)
    .with_audience(OPAQUE)
    .with_issuer(issuer)
    .with_ttl(ttl)
    .with_retry_after(Duration::from_secs(3))
    .with_timeout(Duration::from_millis(800))
}

fn gate(bearer: IntrospectionAuthenticator) -> Gate {
    let policy = Policy::from_snapshot(
        SnapshotBuilder::new()
            .grant(None, "svc-reporter", &["documents:read"])
            .build()
            .unwrap(),
    );
    Gate::builder()
        .authenticator(bearer)
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy))
        .build()
}

/// The API on loopback: `GET /docs` needs `documents:read`.
async fn api(bearer: IntrospectionAuthenticator) -> bouncer_test::matrix::LoopbackServer {
    let bouncer = Bouncer::new(gate(bearer));
    let who = |Principal(p): Principal| async move { p.subject().to_owned() };
    let router = Router::new()
        .route(
            "/docs",
            get(who.layer(
                bouncer.require(RouteRequirement::authenticated().permission("documents:read")),
            )),
        )
        .layer(bouncer.guards());
    bouncer_test::matrix::serve_loopback(router).await.unwrap()
}

async fn get_docs(client: &HttpClient, base: &str, token: &str) -> (u16, http::HeaderMap, Value) {
    let req = Request::get(format!("{base}/docs"))
        .header("authorization", format!("Bearer {token}"))
        .body(Full::default())
        .unwrap();
    call(client, req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_from_a_real_provider() {
    const TTL: Duration = Duration::from_secs(2);
    let mut provider = start_provider(free_port());
    let issuer = provider.issuer.clone();
    let client: HttpClient = http_client::client();
    let bearer = IntrospectionAuthenticator::new("interop", config(&issuer, TTL)).unwrap();
    let server = api(bearer).await;
    let base = server.url("");

    // A client-credentials token: allowed, as the client (a service).
    let t = token(&client, &issuer, OPAQUE).await;
    assert!(!t.contains('.'), "an opaque token, not a JWT: {t}");
    let (status, _, _) = get_docs(&client, &base, &t).await;
    assert_eq!(status, 200);

    // A token the provider does not know: active false.
    let (status, headers, body) = get_docs(&client, &base, "no-such-token-at-all").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let c = &Challenge::parse_headers(&headers).unwrap()[0];
    assert_eq!(c.scheme(), "Bearer");
    assert_eq!(
        (c.get("realm"), c.get("error")),
        (Some("interop"), Some("invalid_token"))
    );

    // A JWT is not for this route: the provider will not introspect it.
    let jwt = token(&client, &issuer, "https://api.bouncer.test").await;
    let (status, _, body) = get_docs(&client, &base, &jwt).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );

    // Revoked at the provider: refused once the cached answer ends, within
    // the TTL (plus a margin for a slow machine).
    revoke_at_provider(&client, &issuer, &t).await;
    let revoked_at = Instant::now();
    loop {
        let (status, _, body) = get_docs(&client, &base, &t).await;
        if status == 401 {
            assert_eq!(body["code"], "invalid_token");
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            revoked_at.elapsed() < TTL + Duration::from_millis(2500),
            "still allowed {:?} after the revocation",
            revoked_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The provider goes down. A token whose answer is cached still serves
    // until its TTL ends; one never seen is 503 with Retry-After, never 401.
    let cached = token(&client, &issuer, OPAQUE).await;
    let unseen = token(&client, &issuer, OPAQUE).await;
    assert_eq!(get_docs(&client, &base, &cached).await.0, 200);
    let cached_at = Instant::now();
    provider.stop();
    let (status, headers, body) = get_docs(&client, &base, &unseen).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("service_unavailable"))
    );
    assert_eq!(headers["retry-after"], "3");
    let (status, _, _) = get_docs(&client, &base, &cached).await;
    if cached_at.elapsed() < TTL {
        assert_eq!(
            status, 200,
            "a cached answer serves while the provider is down"
        );
    }
    tokio::time::sleep(TTL.saturating_sub(cached_at.elapsed()) + Duration::from_millis(100)).await;
    let (status, headers, _) = get_docs(&client, &base, &cached).await;
    assert_eq!(status, 503, "past its TTL the cached answer is gone");
    assert_eq!(headers["retry-after"], "3");
}

/// The gate's decision for `GET /docs` with `token`.
async fn ask(gate: &Gate, token: &str) -> Result<bouncer_core::Identity, &'static str> {
    let (parts, ()) = Request::get("/docs")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts();
    let v = gate
        .decide(
            &RequestContext::from_parts(&parts),
            &Requirement::authenticated().permission("documents:read"),
        )
        .await;
    match v.decision() {
        Decision::Allow(c) => Ok(c.authenticated().unwrap().identity().clone()),
        Decision::Deny(d) => Err(d.code().as_str()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_answers_through_redis() {
    // A loopback endpoint that counts the calls (the provider does not).
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let endpoint = bouncer_test::matrix::serve_loopback(Router::new().route(
        "/introspect",
        post(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {
                (
                    [("content-type", "application/json")],
                    r#"{"active":true,"client_id":"svc-reporter","scope":"documents:read","jti":"op-1"}"#,
                )
            }
        }),
    ))
    .await
    .unwrap();
    let redis = RedisServer::start().unwrap();
    let instance = || {
        // Each instance its own store (its own connection), as two
        // processes would have.
        let store = Arc::new(RedisStore::open(&redis.url()).unwrap());
        let config = IntrospectionConfig::new(
            endpoint.url("/introspect"),
            ClientAuth::secret_basic("introspector", "introspector-secret"),
        )
        .with_allow_loopback_http(true);
        let bearer = IntrospectionAuthenticator::new("api", config)
            .unwrap()
            .cache(store.clone())
            .revocation(store.clone());
        (gate(bearer), store)
    };
    let (one, store_one) = instance();
    let (two, _) = instance();

    let identity = ask(&one, "shared-opaque-token").await.unwrap();
    assert_eq!(identity.subject(), "svc-reporter");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The other instance finds the first one's answer in Redis.
    assert!(ask(&two, "shared-opaque-token").await.is_ok());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "served from the shared cache"
    );
    // Under a hash of the token, never the token.
    {
        use bouncer_store::CacheStore;
        use sha2::Digest;
        let key = format!(
            "introspection:{}",
            hex::encode(sha2::Sha256::digest(b"shared-opaque-token"))
        );
        assert!(CacheStore::get(store_one.as_ref(), &key)
            .await
            .unwrap()
            .is_some());
        assert!(
            CacheStore::get(store_one.as_ref(), "introspection:shared-opaque-token")
                .await
                .unwrap()
                .is_none()
        );
    }
    // A logout on one instance is seen by the other at once, cached
    // answer or not.
    assert!(bouncer_authn::jwt::revoke(store_one.as_ref(), &identity)
        .await
        .unwrap());
    assert_eq!(
        ask(&two, "shared-opaque-token").await.unwrap_err(),
        "token_revoked"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
