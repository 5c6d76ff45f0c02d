//! Adapter tests over real HTTP: an actix-web `HttpServer` on a loopback
//! port, one request per reason code, and the guarantees of the middleware
//! (handlers and body extractors never run on denial, panics are 500,
//! faults are never 401/403, guards run before routing). The same scripted
//! gate behind the axum adapter gives the same answers, byte for byte.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::{web, App, HttpResponse, HttpServer};
use async_trait::async_trait;
use bouncer_actix::{
    Bouncer, MaybePrincipal, Principal, ProtectedResourceMetadata,
    ProtectedResourceMetadataExt as _, RouteRequirement,
};
use bouncer_core::*;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use proptest::prelude::*;

// ---------------------------------------------------------------- stages

/// The test kit's scripted stages: `X-Outcome: <code>` makes the stages
/// produce exactly that outcome.
fn scripted_gate() -> Gate {
    bouncer_test::scripted::gate()
}

// ---------------------------------------------------------------- the app

static HANDLER_RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(serde::Deserialize)]
struct Payload {
    #[allow(dead_code)]
    n: u32,
}

async fn handler(Principal(who): Principal, _: web::Json<Payload>) -> String {
    HANDLER_RUNS.fetch_add(1, Ordering::SeqCst);
    who.subject().to_owned()
}

fn routes(cfg: &mut web::ServiceConfig, b: &Bouncer) {
    let doc_write = RouteRequirement::authenticated().permission("doc:write");
    let in_org = RouteRequirement::authenticated()
        .organization_from("org")
        .resource_from("id");
    // A resource (not `cfg.route`, whose method guard would make other
    // methods a 404): other methods are actix-web's 405.
    cfg.service(web::resource("/doc").route(web::post().to(handler).wrap(b.require(doc_write))))
        .service(
            web::resource("/maybe")
                .wrap(b.require(RouteRequirement::optional()))
                .route(
                    web::get().to(|MaybePrincipal(p): MaybePrincipal| async move {
                        p.map_or("anonymous".to_owned(), |a| a.subject().to_owned())
                    }),
                ),
        )
        .service(
            web::resource("/option")
                .wrap(b.require(RouteRequirement::optional()))
                .route(web::get().to(|p: Option<Principal>| async move {
                    p.map_or("anonymous".to_owned(), |a| a.subject().to_owned())
                })),
        )
        .route(
            "/unguarded",
            web::get().to(|Principal(p): Principal| async move { p.subject().to_owned() }),
        )
        .route(
            "/unguarded-option",
            web::get().to(|p: Option<Principal>| async move {
                p.map_or("none".to_owned(), |a| a.subject().to_owned())
            }),
        )
        .route(
            "/orgs/{org}/docs/{id}",
            web::get()
                .to(|p: web::Path<(String, String)>| async move { format!("{}/{}", p.0, p.1) })
                .wrap(b.require(in_org)),
        )
        .service(
            web::scope("/scoped/{org}")
                .wrap(b.require(RouteRequirement::authenticated().organization_from("org")))
                .route(
                    "/items/{id}",
                    web::get().to(|p: web::Path<(String, String)>| async move {
                        format!("{}/{}", p.0, p.1)
                    }),
                ),
        )
        .route(
            "/misconfigured/{x}",
            web::get()
                .to(HttpResponse::Ok)
                .wrap(b.require(RouteRequirement::authenticated().organization_from("org"))),
        )
        .service(
            ProtectedResourceMetadata::new("https://api.example")
                .authorization_server("https://auth.example")
                .scopes(["a:read"])
                .resource(),
        );
}

/// An actix-web server on a loopback port, in a thread of its own with
/// its own actix system; stopped when dropped.
struct Server {
    base: String,
    handle: actix_web::dev::ServerHandle,
    client: Client<HttpConnector, Full<bytes::Bytes>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        // Sends the stop command now; completion is not awaited.
        drop(self.handle.stop(false));
    }
}

fn serve(bouncer: Bouncer, guards: bool) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let b = bouncer.clone();
                App::new()
                    .configure(|cfg| routes(cfg, &b))
                    .wrap(actix_web::middleware::Condition::new(guards, b.guards()))
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .unwrap();
            let addr: SocketAddr = server.addrs()[0];
            let server = server.run();
            tx.send((addr, server.handle())).unwrap();
            server.await.unwrap();
        });
    });
    let (addr, handle) = rx.recv().unwrap();
    Server {
        base: format!("http://{addr}"),
        handle,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

fn app() -> Server {
    serve(Bouncer::new(scripted_gate()), true)
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    bytes: bytes::Bytes,
    body: serde_json::Value,
}

impl Server {
    async fn send(&self, req: Request<Full<bytes::Bytes>>) -> Reply {
        let (mut parts, body) = req.into_parts();
        parts.uri = format!("{}{}", self.base, parts.uri).parse().unwrap();
        let res = self
            .client
            .request(Request::from_parts(parts, body))
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            bytes,
        }
    }
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Full<bytes::Bytes>> {
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::default()).unwrap()
}

fn post_doc(outcome: Option<&str>) -> Request<Full<bytes::Bytes>> {
    let mut b = Request::post("/doc")
        .header("authorization", "Bearer alice")
        .header("content-type", "application/json");
    if let Some(o) = outcome {
        b = b.header("x-outcome", o);
    }
    b.body(Full::from(r#"{"n":1}"#)).unwrap()
}

fn code(r: &Reply) -> (u16, Option<&str>) {
    (r.status.as_u16(), r.body["code"].as_str())
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn every_reason_code_has_its_status_challenge_and_body() {
    let s = app();
    let codes = AuthnReason::ALL
        .iter()
        .map(|r| (r.code(), 401))
        .chain(ForbiddenReason::ALL.iter().map(|r| (r.code(), 403)));
    for (code, status) in codes {
        let before = HANDLER_RUNS.load(Ordering::SeqCst);
        let r = s.send(post_doc(Some(code))).await;
        assert_eq!(self::code(&r), (status, Some(code)), "{code}");
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert_eq!(r.headers["cache-control"], "no-store");
        assert_eq!(r.body["status"], status);
        let challenges = Challenge::parse_headers(&r.headers).unwrap();
        if status == 401 {
            assert!(!challenges.is_empty(), "{code}");
        }
        if code == "insufficient_scope" {
            assert_eq!(challenges[0].get("error"), Some("insufficient_scope"));
            assert_eq!(challenges[0].get("scope"), Some("doc:write"));
        }
        assert_eq!(
            HANDLER_RUNS.load(Ordering::SeqCst),
            before,
            "the handler ran for {code}"
        );
    }
}

#[tokio::test]
async fn allowed_requests_reach_the_handler_with_the_principal() {
    let s = app();
    let r = s.send(post_doc(None)).await;
    assert_eq!(r.status, 200);
    assert_eq!(&r.bytes[..], b"alice");
}

#[tokio::test]
async fn a_denied_request_never_reaches_the_body_extractor() {
    // The body is not JSON: if the extractor ran, the answer would be 400
    // from actix-web's Json error, not the 401.
    let s = app();
    let req = Request::post("/doc")
        .header("content-type", "application/json")
        .body(Full::from("not json"))
        .unwrap();
    assert_eq!(code(&s.send(req).await), (401, Some("missing_credentials")));
}

#[tokio::test]
async fn faults_are_500_and_503_never_401_or_403() {
    let s = app();
    let r = s.send(post_doc(Some("service_unavailable"))).await;
    assert_eq!(code(&r), (503, Some("service_unavailable")));
    assert_eq!(r.headers["retry-after"], "2");
    assert!(!r.headers.contains_key("www-authenticate"));
    let r = s.send(post_doc(Some("internal_error"))).await;
    assert_eq!(code(&r), (500, Some("internal_error")));
    assert!(!r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_panicking_authenticator_is_a_500() {
    let s = app();
    let r = s.send(post_doc(Some("panic"))).await;
    assert_eq!(code(&r), (500, Some("internal_error")));
    // The worker survived: the next request is answered.
    assert_eq!(s.send(post_doc(None)).await.status, 200);
}

#[tokio::test]
async fn a_panicking_guard_is_a_500() {
    let s = app();
    let r = s
        .send(get("/no-such-route", &[("x-outcome", "guard_panic")]))
        .await;
    assert_eq!(code(&r), (500, Some("internal_error")));
    assert_eq!(s.send(get("/maybe", &[])).await.status, 200);
}

#[tokio::test]
async fn not_found_resources_are_404() {
    let s = app();
    let r = s.send(post_doc(Some("not_found"))).await;
    assert_eq!(code(&r), (404, Some("not_found")));
}

#[tokio::test]
async fn optional_routes_and_extractors() {
    let s = app();
    for path in ["/maybe", "/option"] {
        let r = s.send(get(path, &[])).await;
        assert_eq!((r.status.as_u16(), &r.bytes[..]), (200, &b"anonymous"[..]));
        let r = s.send(get(path, &[("authorization", "Bearer zoe")])).await;
        assert_eq!((r.status.as_u16(), &r.bytes[..]), (200, &b"zoe"[..]));
        // Credentials on an optional route must still be valid.
        let r = s
            .send(get(
                path,
                &[
                    ("authorization", "Bearer x"),
                    ("x-outcome", "invalid_token"),
                ],
            ))
            .await;
        assert_eq!(code(&r), (401, Some("invalid_token")));
    }
    // A Principal on a route without the middleware is a server bug: 500.
    let r = s
        .send(get("/unguarded", &[("authorization", "Bearer x")]))
        .await;
    assert_eq!(code(&r), (500, Some("internal_error")));
    // actix-web's blanket Option<T> cannot tell it apart: None.
    let r = s
        .send(get("/unguarded-option", &[("authorization", "Bearer x")]))
        .await;
    assert_eq!(&r.bytes[..], b"none");
}

#[tokio::test]
async fn guards_run_before_routing() {
    let s = app();
    let r = s
        .send(get("/no-such-route", &[("x-outcome", "blocked_path")]))
        .await;
    assert_eq!(code(&r), (403, Some("blocked_path")));
    let r = s
        .send(get("/no-such-route", &[("authorization", "Bearer x")]))
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn the_route_middleware_works_without_the_guards() {
    let s = serve(Bouncer::new(scripted_gate()).expose_detail(false), false);
    let r = s.send(get("/maybe", &[("x-outcome", "ip_blocked")])).await;
    assert_eq!(code(&r), (403, Some("ip_blocked")));
    assert!(
        r.body.get("detail").is_none(),
        "detail hidden when configured"
    );
    // Without the guard middleware an unknown route is not guarded at all.
    let r = s
        .send(get("/no-such-route", &[("x-outcome", "blocked_path")]))
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn the_client_address_is_the_tcp_peer() {
    let s = app();
    let r = s.send(get("/maybe", &[("x-echo-peer", "1")])).await;
    assert_eq!(&r.bytes[..], b"127.0.0.1");
}

#[tokio::test]
async fn repeated_fields_reach_the_stages_in_order() {
    let s = app();
    let r = s
        .send(get(
            "/maybe",
            &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
        ))
        .await;
    assert_eq!(&r.bytes[..], b"a+b");
}

#[tokio::test]
async fn organization_and_resource_come_from_path_parameters() {
    let s = app();
    let auth = ("authorization", "Bearer alice");
    let r = s
        .send(get("/orgs/acme/docs/1", &[auth, ("x-member-of", "acme")]))
        .await;
    assert_eq!((r.status.as_u16(), &r.bytes[..]), (200, &b"acme/1"[..]));
    let r = s
        .send(get("/orgs/acme/docs/1", &[auth, ("x-member-of", "globex")]))
        .await;
    assert_eq!(code(&r), (403, Some("tenant_mismatch")));
    let r = s
        .send(get(
            "/orgs/acme/docs/missing",
            &[auth, ("x-member-of", "acme")],
        ))
        .await;
    assert_eq!(code(&r), (404, Some("not_found")));
    // Anonymous is 401 before any authorization.
    let r = s.send(get("/orgs/acme/docs/1", &[])).await;
    assert_eq!(code(&r), (401, Some("missing_credentials")));
    // A scope's middleware sees the scope's parameters.
    let r = s
        .send(get(
            "/scoped/acme/items/7",
            &[auth, ("x-member-of", "acme")],
        ))
        .await;
    assert_eq!((r.status.as_u16(), &r.bytes[..]), (200, &b"acme/7"[..]));
    let r = s
        .send(get(
            "/scoped/globex/items/7",
            &[auth, ("x-member-of", "acme")],
        ))
        .await;
    assert_eq!(code(&r), (403, Some("tenant_mismatch")));
}

#[tokio::test]
async fn a_requirement_naming_a_missing_parameter_is_a_500() {
    let s = app();
    let r = s
        .send(get(
            "/misconfigured/1",
            &[("authorization", "Bearer alice")],
        ))
        .await;
    assert_eq!(code(&r), (500, Some("internal_error")));
}

#[tokio::test]
async fn protected_resource_metadata_is_served() {
    let s = app();
    let r = s.send(get(bouncer_actix::WELL_KNOWN_PATH, &[])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body["resource"], "https://api.example");
    assert_eq!(r.body["authorization_servers"][0], "https://auth.example");
    assert_eq!(r.body["scopes_supported"][0], "a:read");
    assert_eq!(r.body["bearer_methods_supported"][0], "header");
}

#[actix_web::test]
async fn handlers_can_return_the_rejection() {
    // `BouncerRejection` is a `ResponseError`: `?` in a handler answers
    // exactly as the middleware would.
    async fn h() -> Result<&'static str, bouncer_actix::BouncerRejection> {
        Err(ForbiddenReason::ReadOnly.into())
    }
    let app = actix_web::test::init_service(App::new().route("/", web::get().to(h))).await;
    let res =
        actix_web::test::call_service(&app, actix_web::test::TestRequest::get().to_request()).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = actix_web::test::read_body_json(res).await;
    assert_eq!(body["code"], "read_only");
}

// ------------------------------------------------- parity with bouncer-axum

/// The same scripted gate behind the axum adapter.
fn axum_app() -> axum::Router {
    use axum::handler::Handler as _;
    let b = bouncer_axum::Bouncer::new(scripted_gate());
    let doc = |axum::Json(_): axum::Json<serde_json::Value>| async { "" };
    axum::Router::new()
        .route(
            "/doc",
            axum::routing::post(doc.layer(
                b.require(bouncer_axum::RouteRequirement::authenticated().permission("doc:write")),
            )),
        )
        .route(
            "/orgs/{org}/docs/{id}",
            axum::routing::get(|| async { "" }).route_layer(
                b.require(
                    bouncer_axum::RouteRequirement::authenticated()
                        .organization_from("org")
                        .resource_from("id"),
                ),
            ),
        )
        .layer(b.guards())
}

async fn axum_reply(req: Request<Full<bytes::Bytes>>) -> Reply {
    use tower::ServiceExt as _;
    let (parts, body) = req.into_parts();
    let mut req = Request::from_parts(parts, axum::body::Body::new(body));
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "127.0.0.1:4000".parse::<SocketAddr>().unwrap(),
    ));
    let res = axum_app().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        bytes,
    }
}

/// The header fields core's renderer sets, each with all its values in
/// order.
fn rendered_fields(h: &HeaderMap) -> Vec<(&'static str, Vec<String>)> {
    [
        "content-type",
        "cache-control",
        "www-authenticate",
        "retry-after",
    ]
    .into_iter()
    .map(|n| {
        let values = h
            .get_all(n)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        (n, values)
    })
    .collect()
}

#[tokio::test]
async fn the_axum_adapter_gives_the_same_bytes() {
    let s = app();
    let mut requests: Vec<(String, Request<Full<bytes::Bytes>>)> = AuthnReason::ALL
        .iter()
        .map(|r| r.code())
        .chain(ForbiddenReason::ALL.iter().map(|r| r.code()))
        .chain([
            "service_unavailable",
            "internal_error",
            "panic",
            "not_found",
        ])
        .map(|c| (c.to_owned(), post_doc(Some(c))))
        .collect();
    requests.push(("anonymous".into(), get("/orgs/acme/docs/1", &[])));
    requests.push((
        "guard before routing".into(),
        get("/nowhere", &[("x-outcome", "geo_blocked")]),
    ));
    requests.push((
        "tenant from the path".into(),
        get(
            "/orgs/acme/docs/1",
            &[("authorization", "Bearer a"), ("x-member-of", "globex")],
        ),
    ));
    requests.push((
        "two authorization fields".into(),
        get(
            "/orgs/acme/docs/1",
            &[("authorization", "Bearer a"), ("authorization", "Basic b")],
        ),
    ));
    for (label, req) in requests {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let again = |b: bytes::Bytes| Request::from_parts(parts.clone(), Full::from(b));
        let actix = s.send(again(body.clone())).await;
        let axum = axum_reply(again(body)).await;
        assert_eq!(actix.status, axum.status, "{label}");
        assert_eq!(
            rendered_fields(&actix.headers),
            rendered_fields(&axum.headers),
            "{label}"
        );
        assert_eq!(same_bytes(&actix.bytes), same_bytes(&axum.bytes), "{label}");
    }
}

/// A body without its decision id (`instance`), which names one decision
/// and so differs between adapters; a denial's body must have one.
fn same_bytes(body: &[u8]) -> Vec<u8> {
    if body.starts_with(b"{") {
        let (_, rest) = bouncer_core::render::split_instance(body)
            .unwrap_or_else(|| panic!("no decision id in {}", String::from_utf8_lossy(body)));
        rest
    } else {
        body.to_vec()
    }
}

/// An authenticator that authenticates one fixed identity.
struct Fixed(Identity);

#[async_trait]
impl Authenticator for Fixed {
    fn scheme(&self) -> SchemeName {
        self.0.scheme().clone()
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("x-fixed")
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        Ok(self.recognizes(r).then(|| self.0.clone()))
    }
    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        None
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// For any identity (bouncer-test's strategy), the actix adapter hands
    /// the handler that caller, and answers an MFA route exactly as the axum
    /// adapter does (allowed, or the same 401 `mfa_required` bytes).
    #[test]
    fn any_identity_gets_the_same_answer_on_both_adapters(
        identity in bouncer_test::strategy::identity()
    ) {
        let mfa = || RouteRequirement::authenticated().step_up(StepUp::new().amr(["mfa"]));
        let actix = actix_web::rt::System::new().block_on({
            let identity = identity.clone();
            async move {
                let b = Bouncer::new(Gate::builder().realm("p").authenticator(Fixed(identity)).build());
                let app = actix_web::test::init_service(
                    App::new()
                        .route("/me", web::get().to(|Principal(p): Principal| async move {
                            format!("{}|{}|{:?}|{:?}", p.subject(), p.scheme(), p.organization(), p.scopes())
                        }).wrap(b.require(RouteRequirement::authenticated())))
                        .route("/mfa", web::get().to(HttpResponse::Ok).wrap(b.require(mfa())))
                        .wrap(b.guards()),
                )
                .await;
                let call = |path: &str| actix_web::test::TestRequest::get()
                    .uri(path)
                    .insert_header(("x-fixed", "1"))
                    .to_request();
                let me = actix_web::test::call_and_read_body(&app, call("/me")).await;
                let res = actix_web::test::call_service(&app, call("/mfa")).await;
                let status = res.status().as_u16();
                let challenges: Vec<String> = res
                    .headers()
                    .get_all("www-authenticate")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                let body = actix_web::test::read_body(res).await;
                (me, status, challenges, body)
            }
        });
        let id = &identity;
        prop_assert_eq!(
            String::from_utf8(actix.0.to_vec()).unwrap(),
            format!("{}|{}|{:?}|{:?}", id.subject(), id.scheme(), id.organization(), id.scopes())
        );
        let axum = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
            use tower::ServiceExt as _;
            let b = bouncer_axum::Bouncer::new(
                Gate::builder().realm("p").authenticator(Fixed(identity.clone())).build(),
            );
            let router = axum::Router::new().route(
                "/mfa",
                axum::routing::get(|| async { "" }).route_layer(b.require(mfa())),
            );
            let res = router
                .oneshot(Request::get("/mfa").header("x-fixed", "1").body(axum::body::Body::empty()).unwrap())
                .await
                .unwrap();
            let status = res.status().as_u16();
            let challenges: Vec<String> = res
                .headers()
                .get_all("www-authenticate")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, challenges, body)
        });
        prop_assert_eq!(actix.1, axum.0);
        prop_assert_eq!(actix.2, axum.1);
        if axum.0 != 200 {
            prop_assert_eq!(same_bytes(&actix.3), same_bytes(&axum.2));
        }
    }
}

#[test]
fn methods_other_than_the_routes_are_the_frameworks_405() {
    // Per-method requirements sit on the route: a method the resource does
    // not serve never reaches bouncer, as with axum's per-method layers.
    let s = app();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for method in [Method::GET, Method::DELETE] {
        let r = rt.block_on(s.send({
            let mut r = get("/doc", &[]);
            *r.method_mut() = method;
            r
        }));
        assert_eq!(r.status, 405);
    }
}

/// Knows the permissions `doc:read` and `doc:write`; allows everything.
struct Vocabulary;

#[async_trait]
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

#[actix_web::test]
async fn a_misspelt_permission_fails_when_the_app_is_built() {
    let gate = Gate::builder()
        .authenticator(bouncer_test::scripted::ScriptedAuthenticator)
        .authorizer(Vocabulary)
        .build();
    let bouncer = Bouncer::new(gate);
    let typo = RouteRequirement::authenticated()
        .permission("doc:wirte")
        .organization_from("org");
    let e = bouncer.try_require(typo).unwrap_err();
    assert_eq!((e.kind(), e.name()), (NameKind::Permission, "doc:wirte"));

    let require = bouncer
        .try_require(RouteRequirement::authenticated().permission("doc:write"))
        .unwrap();
    let app = actix_web::test::init_service(
        App::new().route("/doc", web::get().to(|| async { "ok" }).wrap(require)),
    )
    .await;
    let req = actix_web::test::TestRequest::get()
        .uri("/doc")
        .insert_header(("authorization", "Bearer alice"))
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 200);
}
