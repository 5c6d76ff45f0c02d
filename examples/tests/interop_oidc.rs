//! Interop with a real OpenID provider: `oidc-provider` from npm (the
//! engine Logto is built on), started on loopback, issuing JWT access
//! tokens through the client-credentials grant with resource indicators.
//! bouncer finds its keys by OIDC discovery, follows a key rotation through
//! the unknown-`kid` refresh without a restart, and answers 401/403 as the
//! contract says.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::handler::Handler;
use axum::routing::get;
use axum::Router;
use bouncer_authn::jwt::{discover, JwksConfig, JwksSource, JwtAuthenticator, JwtValidation};
use bouncer_authz::{Policy, PolicyAuthorizer, SnapshotBuilder};
use bouncer_axum::{
    Bouncer, Principal, ProtectedResourceMetadata, ProtectedResourceMetadataExt as _,
    RouteRequirement,
};
use bouncer_core::{Challenge, Gate};
use http::{Method, Request};
use http_body_util::Full;

#[path = "common/http.rs"]
mod http_client;
#[path = "common/oidc_provider.rs"]
mod oidc_provider;

use http_client::{call, HttpClient};

const API: &str = "https://api.bouncer.test";

use oidc_provider::{free_port, Provider};

fn start_provider(port: u16, kid: &str) -> Provider {
    oidc_provider::start(port, &[kid])
}

async fn token(client: &HttpClient, issuer: &str, resource: &str, scope: &str) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id=svc-reporter&client_secret=interop-secret&resource={}&scope={}",
        resource.replace(':', "%3A").replace('/', "%2F"),
        scope.replace(' ', "%20").replace(':', "%3A")
    );
    let req = Request::post(format!("{issuer}/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::from(form))
        .unwrap();
    let (status, _, body) = call(client, req).await;
    assert_eq!(status, 200, "token endpoint: {body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn api(issuer: &str) -> String {
    let config = JwksConfig::default().with_unknown_kid_interval(Duration::from_millis(200));
    let meta = discover(issuer, &config).await.unwrap();
    let source = JwksSource::connect(&meta.jwks_uri, config).await.unwrap();
    source.spawn_refresher();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let bearer = JwtAuthenticator::from_jwks(
        "interop",
        source,
        JwtValidation::new(meta.issuer.clone(), API).require_at_jwt(),
    )
    .resource_metadata(format!("{base}{}", bouncer_axum::WELL_KNOWN_PATH));
    let policy = Policy::from_snapshot(
        SnapshotBuilder::new()
            .grant(None, "svc-reporter", &["documents:read", "documents:write"])
            .build()
            .unwrap(),
    );
    let gate = Gate::builder()
        .authenticator(bearer)
        .accounts(policy.clone())
        .authorizer(PolicyAuthorizer::new(policy))
        .build();
    let bouncer = Bouncer::new(gate);
    let who = |Principal(p): Principal| async move { p.subject().to_owned() };
    let router = Router::new()
        .route(
            "/docs",
            get(who.layer(
                bouncer.require(RouteRequirement::authenticated().permission("documents:read")),
            ))
            .post(who.layer(
                bouncer.require(RouteRequirement::authenticated().permission("documents:write")),
            )),
        )
        .merge(
            ProtectedResourceMetadata::new(API)
                .authorization_server(meta.issuer)
                .scopes(["documents:read", "documents:write"])
                .router(),
        )
        .layer(bouncer.guards());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    base
}

fn req(method: Method, url: &str, token: &str) -> Request<Full<bytes::Bytes>> {
    Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Full::default())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_a_real_provider() {
    let port = free_port();
    let mut provider = start_provider(port, "interop-key-1");
    let client: HttpClient = http_client::client();
    let base = api(&provider.issuer).await;
    let docs = format!("{base}/docs");

    // A valid token is allowed, and its scopes limit it.
    let rw = token(
        &client,
        &provider.issuer,
        API,
        "documents:read documents:write",
    )
    .await;
    assert_eq!(call(&client, req(Method::GET, &docs, &rw)).await.0, 200);
    let (status, _, body) = call(&client, req(Method::POST, &docs, &rw)).await;
    assert_eq!(status, 200, "{body}");
    let read_only = token(&client, &provider.issuer, API, "documents:read").await;
    let (status, headers, body) = call(&client, req(Method::POST, &docs, &read_only)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("insufficient_scope"))
    );
    let c = &Challenge::parse_headers(&headers).unwrap()[0];
    assert_eq!(
        (c.get("error"), c.get("scope")),
        (Some("insufficient_scope"), Some("documents:write"))
    );

    // A token for another resource is not for us.
    let other = token(
        &client,
        &provider.issuer,
        "https://other.bouncer.test",
        "documents:read",
    )
    .await;
    let (status, headers, body) = call(&client, req(Method::GET, &docs, &other)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let c = &Challenge::parse_headers(&headers).unwrap()[0];
    assert!(c
        .get("resource_metadata")
        .is_some_and(|u| u.ends_with("/.well-known/oauth-protected-resource")));

    // RFC 9728 metadata.
    let meta_req = Request::get(format!("{base}/.well-known/oauth-protected-resource"))
        .body(Full::default())
        .unwrap();
    let (status, _, meta) = call(&client, meta_req).await;
    assert_eq!(status, 200);
    assert_eq!(meta["resource"], API);
    assert_eq!(meta["authorization_servers"][0], provider.issuer.as_str());
    assert_eq!(meta["bearer_methods_supported"][0], "header");

    // Key rotation: the provider restarts with a new key; the API, not
    // restarted, follows through the unknown-kid refresh.
    drop(provider);
    provider = start_provider(port, "interop-key-2");
    let rotated = token(&client, &provider.issuer, API, "documents:read").await;
    let (status, _, body) = call(&client, req(Method::GET, &docs, &rotated)).await;
    assert_eq!(status, 200, "{body}");
    // The old key is gone from the provider's set: tokens signed with it are refused.
    let (status, _, body) = call(&client, req(Method::GET, &docs, &rw)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
}
