//! Adapter tests: `Router` + `oneshot`, one request per reason code, and
//! the guarantees of the layer (handlers and body extractors never run on
//! denial, panics are 500, faults are never 401/403).
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::handler::Handler;
use axum::routing::{get, post};
use axum::{Json, Router};
use bouncer_axum::{Bouncer, Principal, ProtectedResourceMetadataExt as _, RouteRequirement};
use bouncer_core::*;
use bouncer_test::scripted::{ScriptedAuthenticator, ScriptedAuthorizer, ScriptedGuard};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// How often the handler ran, per router (a global counter would race
/// with the other tests running at the same time).
#[derive(Clone, Default)]
struct Runs(std::sync::Arc<AtomicUsize>);

impl Runs {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(serde::Deserialize)]
struct Payload {
    #[allow(dead_code)]
    n: u32,
}

async fn handler(
    axum::extract::State(runs): axum::extract::State<Runs>,
    Principal(who): Principal,
    Json(_): Json<Payload>,
) -> String {
    runs.0.fetch_add(1, Ordering::SeqCst);
    who.subject().to_owned()
}

fn app() -> Router {
    app_counting(Runs::default())
}

fn app_counting(runs: Runs) -> Router {
    let gate = Gate::builder()
        .guard(ScriptedGuard)
        .authenticator(ScriptedAuthenticator)
        .authorizer(ScriptedAuthorizer)
        .build();
    let bouncer = Bouncer::new(gate);
    Router::new()
        .route(
            "/doc",
            post(
                handler.layer(
                    bouncer.require(RouteRequirement::authenticated().permission("doc:write")),
                ),
            ),
        )
        .route(
            "/maybe",
            get(|p: Option<Principal>| async move {
                p.map_or("anonymous".to_owned(), |a| a.subject().to_owned())
            })
            .route_layer(bouncer.require(RouteRequirement::optional())),
        )
        .route(
            "/unguarded",
            get(|Principal(p): Principal| async move { p.subject().to_owned() }),
        )
        .layer(bouncer.guards())
        .with_state(runs)
}

async fn call(
    router: Router,
    req: Request<Body>,
) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let mut req = req;
    req.extensions_mut()
        .insert(ConnectInfo("127.0.0.1:4000".parse::<SocketAddr>().unwrap()));
    let res = router.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn post_doc(outcome: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/doc")
        .header("authorization", "Bearer alice")
        .header("content-type", "application/json");
    if let Some(o) = outcome {
        b = b.header("x-outcome", o);
    }
    b.body(Body::from(r#"{"n":1}"#)).unwrap()
}

#[tokio::test]
async fn every_reason_code_has_its_status_challenge_and_body() {
    let codes = AuthnReason::ALL
        .iter()
        .map(|r| (r.code(), 401))
        .chain(ForbiddenReason::ALL.iter().map(|r| (r.code(), 403)));
    let runs = Runs::default();
    for (code, status) in codes {
        let (s, headers, body) = call(app_counting(runs.clone()), post_doc(Some(code))).await;
        assert_eq!(
            (s.as_u16(), body["code"].as_str()),
            (status, Some(code)),
            "{code}"
        );
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(body["status"], status);
        let challenges = Challenge::parse_headers(&headers).unwrap();
        if status == 401 {
            assert!(!challenges.is_empty(), "{code}");
        }
        if code == "insufficient_scope" {
            assert_eq!(challenges[0].get("error"), Some("insufficient_scope"));
            assert_eq!(challenges[0].get("scope"), Some("doc:write"));
        }
        assert_eq!(runs.get(), 0, "the handler ran for {code}");
    }
}

#[tokio::test]
async fn allowed_requests_reach_the_handler_with_the_principal() {
    let (s, _, _) = call(app(), post_doc(None)).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn a_denied_request_never_reaches_the_body_extractor() {
    // The body is not JSON: if the extractor ran, the answer would be 4xx
    // from axum's Json rejection, not the 401.
    let req = Request::post("/doc")
        .header("content-type", "application/json")
        .body(Body::from("not json"))
        .unwrap();
    let (s, _, body) = call(app(), req).await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (401, Some("missing_credentials"))
    );
}

#[tokio::test]
async fn faults_are_500_and_503_never_401_or_403() {
    let (s, headers, body) = call(app(), post_doc(Some("service_unavailable"))).await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (503, Some("service_unavailable"))
    );
    assert_eq!(headers["retry-after"], "2");
    assert!(!headers.contains_key("www-authenticate"));
    let (s, _, body) = call(app(), post_doc(Some("internal_error"))).await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (500, Some("internal_error"))
    );
}

#[tokio::test]
async fn a_panicking_authenticator_is_a_500() {
    let (s, _, body) = call(app(), post_doc(Some("panic"))).await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (500, Some("internal_error"))
    );
}

#[tokio::test]
async fn not_found_resources_are_404() {
    let (s, _, body) = call(app(), post_doc(Some("not_found"))).await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn optional_routes_and_extractors() {
    let (s, _, _) = call(app(), Request::get("/maybe").body(Body::empty()).unwrap()).await;
    assert_eq!(s, 200);
    let res = app()
        .oneshot(
            Request::get("/maybe")
                .header("authorization", "Bearer zoe")
                .extension(ConnectInfo("127.0.0.1:1".parse::<SocketAddr>().unwrap()))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        &res.into_body().collect().await.unwrap().to_bytes()[..],
        b"zoe"
    );
    let (s, _, body) = call(
        app(),
        Request::get("/maybe")
            .header("authorization", "Bearer x")
            .header("x-outcome", "invalid_token")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    // A Principal on a route without a bouncer layer is a server bug: 500.
    let (s, _, _) = call(
        app(),
        Request::get("/unguarded")
            .header("authorization", "Bearer x")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, 500);
}

#[tokio::test]
async fn guards_run_before_routing() {
    let (s, _, body) = call(
        app(),
        Request::get("/no-such-route")
            .header("x-outcome", "blocked_path")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (403, Some("blocked_path"))
    );
    let (s, _, _) = call(
        app(),
        Request::get("/no-such-route")
            .header("authorization", "Bearer x")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn the_layer_works_without_the_guard_layer() {
    let gate = Gate::builder()
        .guard(ScriptedGuard)
        .authenticator(ScriptedAuthenticator)
        .build();
    let bouncer = Bouncer::new(gate).expose_detail(false);
    let router = Router::new().route(
        "/x",
        get(|| async { "ok" }).route_layer(bouncer.require(RouteRequirement::authenticated())),
    );
    let (s, _, body) = call(
        router.clone(),
        Request::get("/x")
            .header("x-outcome", "ip_blocked")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (s.as_u16(), body["code"].as_str()),
        (403, Some("ip_blocked"))
    );
    assert!(
        body.get("detail").is_none(),
        "detail hidden when configured"
    );
}

/// The layer decides at once when every stage answers at once, and
/// otherwise polls the same decision on: both paths give the same answers,
/// and no stage runs twice for one request.
#[tokio::test]
async fn a_stage_that_waits_gives_the_same_answers_and_runs_once() {
    use bouncer_test::fakes::FakeAuthenticator;
    for turns in [0, 1, 3] {
        let bearer = FakeAuthenticator::bearer("api")
            .accept("alice", Identity::user("alice", SchemeName::BEARER))
            .reject("old", AuthnReason::TokenExpired)
            .unavailable("down")
            .panic_on("boom")
            .waiting(turns);
        let calls = bearer.calls();
        let bouncer = Bouncer::new(Gate::builder().authenticator(bearer).build());
        let router = Router::new()
            .route(
                "/x",
                get(|Principal(p): Principal| async move { p.subject().to_owned() })
                    .route_layer(bouncer.require(RouteRequirement::authenticated())),
            )
            .layer(bouncer.guards());
        let ask = |token: &str| {
            Request::get("/x")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap()
        };
        let res = router.clone().oneshot(ask("alice")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "waits {turns}");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"alice", "waits {turns}");
        for (token, status, code) in [
            ("old", 401, "token_expired"),
            ("down", 503, "service_unavailable"),
            ("boom", 500, "internal_error"),
        ] {
            let (s, headers, body) = call(router.clone(), ask(token)).await;
            assert_eq!(
                (s.as_u16(), body["code"].as_str()),
                (status, Some(code)),
                "{token}, waits {turns}"
            );
            if status == 401 {
                assert!(headers.contains_key("www-authenticate"), "waits {turns}");
            }
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "one authentication per request, waits {turns}"
        );
    }
}

#[tokio::test]
async fn protected_resource_metadata_is_served() {
    let router: Router = bouncer_axum::ProtectedResourceMetadata::new("https://api.example")
        .authorization_server("https://auth.example")
        .scopes(["a:read"])
        .router();
    let (s, _, body) = call(
        router,
        Request::get(bouncer_axum::WELL_KNOWN_PATH)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body["resource"], "https://api.example");
    assert_eq!(body["authorization_servers"][0], "https://auth.example");
    assert_eq!(body["scopes_supported"][0], "a:read");
    assert_eq!(body["bearer_methods_supported"][0], "header");
}

/// Knows the permissions `doc:read` and `doc:write`; allows everything.
struct Vocabulary;

#[async_trait::async_trait]
impl Authorizer for Vocabulary {
    async fn authorize(
        &self,
        _: &Authenticated,
        _: &RequestContext<'_>,
        _: &Requirement,
    ) -> Result<(), AccessError> {
        Ok(())
    }

    fn validate(&self, requirement: &Requirement) -> Result<(), UnknownName> {
        match requirement.required_permission() {
            Some(p) if !["doc:read", "doc:write"].contains(&p) => Err(UnknownName::permission(p)),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_misspelt_permission_fails_when_the_router_is_built() {
    let gate = Gate::builder()
        .authenticator(ScriptedAuthenticator)
        .authorizer(Vocabulary)
        .build();
    let bouncer = Bouncer::new(gate);
    let typo = RouteRequirement::authenticated()
        .permission("doc:wirte")
        .organization_from("org");
    let e = bouncer.try_require(typo).unwrap_err();
    assert_eq!((e.kind(), e.name()), (NameKind::Permission, "doc:wirte"));

    let layer = bouncer
        .try_require(RouteRequirement::authenticated().permission("doc:write"))
        .unwrap();
    let router = Router::new().route("/doc", get(|| async { "ok" }).route_layer(layer));
    let req = Request::get("/doc")
        .header("authorization", "Bearer alice")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = call(router, req).await;
    assert_eq!(status, StatusCode::OK);
}
