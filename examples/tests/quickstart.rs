//! End to end: the quickstart on a loopback port, real HTTP requests for
//! every row of the contract (§3) and every route and identity of §4 and
//! §5, checking status, `code` and the parsed challenges. Every table runs
//! against both quickstarts, axum's (`cargo run --example quickstart`) and
//! actix-web's (`cargo run --example quickstart-actix`): each test is a
//! module with an `axum` and an `actix` test (contract §6).
//!
//! Rows that only check status and `code` are tables (`s.check(vec![row(…),
//! …])`, kept one row per line) run by the test kit's
//! `StatusMatrix::run_http`, which also checks every row's challenges and
//! problem body; rows whose answer is inspected further use
//! `Server::expect`.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../quickstart/actix_routes.rs"]
mod actix_routes;
#[path = "../quickstart/app.rs"]
mod app;
#[path = "../quickstart/axum_routes.rs"]
mod axum_routes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bouncer_core::Challenge;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

struct Server {
    base: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>,
    /// Stops the actix-web server when the test is done.
    _actix: Option<ActixStop>,
}

/// Which quickstart serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Axum,
    Actix,
}

impl Flavor {
    fn other(self) -> Self {
        match self {
            Self::Axum => Self::Actix,
            Self::Actix => Self::Axum,
        }
    }
}

/// Runs `$name(Flavor)` once per quickstart, as `$name::axum` and
/// `$name::actix`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn axum() {
                super::$name(super::Flavor::Axum).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn actix() {
                super::$name(super::Flavor::Actix).await
            }
        }
    )*};
}

on_both!(
    contract_section_3_and_4_over_http,
    problem_bodies_never_echo_credentials,
    contract_section_5_sessions_and_mfa,
    two_instances_share_one_redis_and_survive_its_outage,
    attack_suite_is_always_refused,
    unrelated_cookies_are_not_session_credentials,
    a_demo_jwks_with_symmetric_keys_trusts_only_its_public_keys,
);

struct ActixStop(actix_web::dev::ServerHandle);

impl Drop for ActixStop {
    fn drop(&mut self) {
        // The command is sent now; its completion is not awaited.
        drop(self.0.stop(false));
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

/// An answer as it came: status, header fields, body bytes.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    bytes: bytes::Bytes,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    fn challenges(&self) -> Vec<Challenge> {
        Challenge::parse_headers(&self.headers).unwrap()
    }
    fn challenge(&self, scheme: &str) -> Challenge {
        self.challenges()
            .into_iter()
            .find(|c| c.scheme().eq_ignore_ascii_case(scheme))
            .unwrap_or_else(|| panic!("no {scheme} challenge in {:?}", self.headers))
    }
}

fn demo_keys() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("quickstart")
        .join("demo-keys")
}

async fn start(f: Flavor) -> Server {
    start_with(f, None).await
}

async fn start_with(f: Flavor, redis: Option<String>) -> Server {
    start_config(
        f,
        app::Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            secret: app::DEFAULT_DEMO_SECRET.into(),
            jwks: Some(demo_keys().join("jwks.json")),
            policy: app::default_policy_path(),
            redis,
        },
    )
    .await
}

async fn start_config(f: Flavor, config: app::Config) -> Server {
    let app = app::build(&config).unwrap();
    let (addr, actix) = match f {
        Flavor::Axum => {
            let router = axum_routes::router(app).unwrap();
            let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
                .unwrap();
            });
            (addr, None)
        }
        Flavor::Actix => {
            // actix-web runs its own system (one thread, two workers).
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let (server, addr) = actix_routes::server(app, config.addr, Some(2)).unwrap();
                    tx.send((addr, server.handle())).unwrap();
                    server.await.unwrap();
                });
            });
            let (addr, handle) = rx.recv().unwrap();
            (addr, Some(ActixStop(handle)))
        }
    };
    Server {
        base: format!("http://{addr}"),
        client: Client::builder(TokioExecutor::new()).build_http(),
        _actix: actix,
    }
}

impl Server {
    /// Sends a request and returns the answer as it came.
    async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Raw {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Full::from(serde_json::to_vec(&v).unwrap())
            }
            None => Full::default(),
        };
        let res = self.client.request(b.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Raw {
            status,
            headers,
            bytes,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let Raw {
            status,
            headers,
            bytes,
        } = self.raw(method, path, headers, body).await;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            assert_eq!(
                headers["content-type"], "application/problem+json",
                "{path}"
            );
            assert_eq!(body["status"], status.as_u16(), "{path}");
        }
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                !Challenge::parse_headers(&headers).unwrap().is_empty(),
                "401 without challenge on {path}"
            );
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers, None).await
    }

    /// Runs `rows` in order over HTTP through the test kit's status matrix,
    /// which also checks the challenge rules and the problem bodies.
    async fn check(&self, rows: Vec<Row>) {
        let mut matrix = bouncer_test::matrix::StatusMatrix::new();
        for (label, request, status, code) in rows {
            matrix = matrix.row(&label, request, status, code.as_deref());
        }
        if let Err(e) = matrix.run_http(&self.base).await {
            panic!("{e}");
        }
    }

    /// Asserts status and code.
    async fn expect(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        status: u16,
        code: &str,
    ) -> Reply {
        let body = matches!(method, Method::POST | Method::PUT)
            .then(|| json!({"title": "t", "content": "c"}));
        let r = self.send(method.clone(), path, headers, body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{method} {path} {headers:?}: {}",
            r.body
        );
        r
    }
}

/// One row of a status table: a request as [`Server::expect`] would send it
/// (POST and PUT carry a JSON document), the status and the `code` it must
/// get (`""`: no problem body to check).
type Row = (String, Request<axum::body::Body>, u16, Option<String>);

const GET: Method = Method::GET;

fn row(method: Method, path: &str, headers: &[(&str, &str)], status: u16, code: &str) -> Row {
    let label = format!("{method} {path} {headers:?}");
    let mut b = Request::builder().method(method.clone()).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let body = if matches!(method, Method::POST | Method::PUT) {
        b = b.header("content-type", "application/json");
        axum::body::Body::from(serde_json::to_vec(&json!({"title": "t", "content": "c"})).unwrap())
    } else {
        axum::body::Body::empty()
    };
    let code = (!code.is_empty()).then(|| code.to_owned());
    (label, b.body(body).unwrap(), status, code)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn claims(sub: &str) -> Value {
    json!({ "iss": app::ISSUER, "aud": app::AUDIENCE, "sub": sub, "exp": now() + 600, "iat": now(), "jti": format!("{sub}-{}", rand_id()) })
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) ^ now().rotate_left(20)
}

fn sign(alg: Algorithm, kid: Option<&str>, typ: Option<&str>, claims: &Value) -> String {
    let read = |n: &str| std::fs::read(demo_keys().join(n)).unwrap();
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(app::DEFAULT_DEMO_SECRET.as_bytes()),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&read("rsa.pem")).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&read("ec256.pem")).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&read("ed25519.pem")).unwrap(),
        _ => unreachable!(),
    };
    let mut h = Header::new(alg);
    h.kid = kid.map(str::to_owned);
    h.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, &key).unwrap()
}

fn hs(claims: &Value) -> String {
    format!(
        "Bearer {}",
        sign(Algorithm::HS256, None, Some("at+jwt"), claims)
    )
}

fn with(mut c: Value, k: &str, v: Value) -> Value {
    c[k] = v;
    c
}

fn mfa(sub: &str) -> Value {
    let c = with(claims(sub), "acr", json!(app::MFA_ACR));
    let c = with(c, "amr", json!(["pwd", "mfa"]));
    with(c, "auth_time", json!(now()))
}

const A: &str = "authorization";

async fn contract_section_3_and_4_over_http(f: Flavor) {
    let s = start(f).await;
    let g = Method::GET;

    // Start-up.
    let r = s.get("/health", &[]).await;
    assert_eq!(r.status, 200);

    // 401 missing_credentials, with every accepted scheme's challenge, no error.
    let r = s
        .expect(g.clone(), "/me", &[], 401, "missing_credentials")
        .await;
    let basic_ch = r.challenge("Basic");
    assert_eq!(basic_ch.get("realm"), Some(app::REALM));
    assert_eq!(basic_ch.get("charset"), Some("UTF-8"));
    let bearer_ch = r.challenge("Bearer");
    assert_eq!(bearer_ch.get("realm"), Some(app::REALM));
    assert_eq!(bearer_ch.get("error"), None);
    // Anonymous is 401 even where no authenticated user could be allowed.
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/orgs/globex/documents/plans", &[], 401, "missing_credentials"),
        row(GET, "/admin/keys/rotate", &[], 405, ""),
    ]).await;
    let r = s
        .expect(
            Method::POST,
            "/admin/keys/rotate",
            &[],
            401,
            "missing_credentials",
        )
        .await;
    assert_eq!(r.challenges().len(), 1, "Bearer only");

    // 401 malformed_credentials.
    let r = s
        .expect(
            g.clone(),
            "/me",
            &[(A, "Bearer")],
            401,
            "malformed_credentials",
        )
        .await;
    assert_eq!(r.challenge("Bearer").get("error"), Some("invalid_request"));
    let no_colon = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice")
    );
    let alice_basic = basic("alice", "alice-pass");
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[(A, "Bearer a b c")], 401, "malformed_credentials"),
        row(GET, "/me", &[(A, "Basic !!!")], 401, "malformed_credentials"),
        row(GET, "/me", &[(A, &no_colon)], 401, "malformed_credentials"),
        row(GET, "/me", &[(A, &alice_basic), (A, &alice_basic)], 401, "malformed_credentials"),
        // 401 unsupported_scheme.
        row(GET, "/me", &[(A, "Digest username=\"a\"")], 401, "unsupported_scheme"),
    ]).await;
    let r = s
        .expect(
            g.clone(),
            "/admin/audit",
            &[(A, &basic("erin", "erin-pass"))],
            401,
            "unsupported_scheme",
        )
        .await;
    assert_eq!(r.challenges().len(), 1);
    assert_eq!(r.challenge("Bearer").get("error"), None);
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/admin/audit", &[("x-api-key", "demo-reporter-key")], 401, "unsupported_scheme"),
    ]).await;

    // 401 invalid_credentials, indistinguishable.
    let wrong = s
        .expect(
            g.clone(),
            "/me",
            &[(A, &basic("alice", "nope"))],
            401,
            "invalid_credentials",
        )
        .await;
    let unknown = s
        .expect(
            g.clone(),
            "/me",
            &[(A, &basic("nobody", "nope"))],
            401,
            "invalid_credentials",
        )
        .await;
    // The same answer, apart from the decision each names.
    let unnamed = |v: &Value| {
        let mut v = v.clone();
        let id = v.as_object_mut().unwrap().remove("instance").unwrap();
        assert!(bouncer_core::DecisionId::from_urn(id.as_str().unwrap()).is_some());
        v
    };
    assert_eq!(unnamed(&wrong.body), unnamed(&unknown.body));
    assert_ne!(wrong.body["instance"], unknown.body["instance"]);
    assert_eq!(wrong.challenges(), unknown.challenges());
    let r = s
        .expect(
            g.clone(),
            "/me",
            &[("x-api-key", "not-a-key")],
            401,
            "invalid_credentials",
        )
        .await;
    assert!(
        r.challenges().iter().all(|c| c.get("error").is_none()),
        "API key failures carry no error params"
    );

    // Basic users, including a UTF-8 password with ':'.
    for (u, p) in [
        ("alice", "alice-pass"),
        ("bob", "bob-pass"),
        ("carol", "carol-pass"),
        ("erin", "erin-pass"),
        ("grace", "p@ss:wörd"),
    ] {
        let r = s
            .expect(g.clone(), "/me", &[(A, &basic(u, p))], 200, "")
            .await;
        assert_eq!(r.body["sub"], u);
    }

    // 401 invalid_token.
    let good = claims("alice");
    let mut tampered = sign(Algorithm::HS256, None, None, &good);
    tampered.push('x');
    let r = s
        .expect(
            g.clone(),
            "/me",
            &[(A, &format!("Bearer {tampered}"))],
            401,
            "invalid_token",
        )
        .await;
    assert_eq!(r.challenge("Bearer").get("error"), Some("invalid_token"));
    assert_eq!(r.challenge("Basic").get("error"), None);
    let other_secret = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &good,
        &EncodingKey::from_secret(b"some-other-secret-of-enough-length!!"),
    )
    .unwrap();
    let unknown_kid = sign(Algorithm::ES256, Some("no-such-key"), None, &good);
    let wrong_alg_for_kid = sign(Algorithm::ES256, Some("demo-rsa"), None, &good);
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let none = format!("Bearer {}.{}.", b64(&json!({"alg": "none"})), b64(&good));
    let mut no_sub = claims("alice");
    no_sub.as_object_mut().unwrap().remove("sub");
    let bad_typ = format!(
        "Bearer {}",
        sign(Algorithm::HS256, None, Some("id_token+jwt"), &good)
    );
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[(A, &format!("Bearer {other_secret}"))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &format!("Bearer {unknown_kid}"))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &format!("Bearer {wrong_alg_for_kid}"))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &none)], 401, "invalid_token"),
        row(GET, "/me", &[(A, &hs(&with(claims("alice"), "iss", json!("https://evil.example"))))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &hs(&with(claims("alice"), "aud", json!("https://other.example"))))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &hs(&with(claims("alice"), "nbf", json!(now() + 3600))))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &hs(&no_sub))], 401, "invalid_token"),
        row(GET, "/me", &[(A, &bad_typ)], 401, "invalid_token"),
        row(GET, "/me", &[(A, "Bearer not.a.jwt")], 401, "invalid_token"),
    ]).await;

    // 401 token_expired.
    let r = s
        .expect(
            g.clone(),
            "/me",
            &[(A, &hs(&with(claims("alice"), "exp", json!(now() - 3600))))],
            401,
            "token_expired",
        )
        .await;
    assert_eq!(r.challenge("Bearer").get("error"), Some("invalid_token"));

    // Typ variants and the JWKS keys (RS256, ES256, EdDSA), each only for its own algorithm.
    for typ in [None, Some("JWT"), Some("at+jwt")] {
        let t = format!(
            "Bearer {}",
            sign(Algorithm::HS256, None, typ, &claims("bob"))
        );
        #[rustfmt::skip]
        s.check(vec![
            row(GET, "/me", &[(A, &t)], 200, ""),
        ]).await;
    }
    for (alg, kid) in [
        (Algorithm::RS256, "demo-rsa"),
        (Algorithm::ES256, "demo-ec"),
        (Algorithm::EdDSA, "demo-ed"),
    ] {
        let t = format!(
            "Bearer {}",
            sign(alg, Some(kid), Some("at+jwt"), &claims("bob"))
        );
        let r = s.expect(g.clone(), "/me", &[(A, &t)], 200, "").await;
        assert_eq!(r.body["sub"], "bob");
    }

    // 401 token_revoked through /logout.
    let t = hs(&claims("alice"));
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[(A, &t)], 200, ""),
    ]).await;
    let r = s.send(Method::POST, "/logout", &[(A, &t)], None).await;
    assert_eq!(r.status, 204);
    let r = s
        .expect(g.clone(), "/me", &[(A, &t)], 401, "token_revoked")
        .await;
    assert_eq!(r.challenge("Bearer").get("error"), Some("invalid_token"));
    let mut no_jti = claims("bob");
    no_jti.as_object_mut().unwrap().remove("jti");
    let t = hs(&no_jti);
    assert_eq!(
        s.send(Method::POST, "/logout", &[(A, &t)], None)
            .await
            .status,
        204
    );
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[(A, &t)], 401, "token_revoked"),
    ]).await;

    // 401 mfa_required (RFC 9470), and 403 first when the role is missing.
    let r = s
        .expect(
            g.clone(),
            "/admin/audit",
            &[(A, &hs(&claims("erin")))],
            401,
            "mfa_required",
        )
        .await;
    let c = r.challenge("Bearer");
    assert_eq!(c.get("error"), Some("insufficient_user_authentication"));
    assert_eq!(c.get("acr_values"), Some(app::MFA_ACR));
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/admin/audit", &[(A, &hs(&mfa("erin")))], 200, ""),
        row(GET, "/admin/audit", &[(A, &hs(&with(claims("erin"), "amr", json!(["mfa"]))))], 200, ""),
        row(GET, "/admin/audit", &[(A, &hs(&with(claims("erin"), "acr", json!(app::MFA_ACR))))], 200, ""),
        row(GET, "/admin/audit", &[(A, &hs(&claims("alice")))], 403, "elevation_required"),
        row(GET, "/admin/audit", &[(A, &hs(&mfa("alice")))], 403, "elevation_required"),
    ]).await;
    let stale = with(mfa("erin"), "auth_time", json!(now() - 600));
    let r = s
        .expect(
            Method::POST,
            "/admin/keys/rotate",
            &[(A, &hs(&stale))],
            401,
            "mfa_required",
        )
        .await;
    assert_eq!(r.challenge("Bearer").get("max_age"), Some("300"));
    #[rustfmt::skip]
    s.check(vec![
        row(Method::POST, "/admin/keys/rotate", &[(A, &hs(&mfa("erin")))], 200, ""),
        row(GET, "/admin/audit", &[(A, &hs(&with(mfa("erin"), "scope", json!("documents:read"))))], 403, "insufficient_scope"),
    ]).await;

    // 403 blocked_path, before routing and credentials.
    for p in [
        "/.env",
        "/.git/config",
        "/static/.htaccess",
        "/static/..%2f.env",
        "/static/%2e%2e/.git/HEAD",
        "/%2eenv",
        "//.env",
        "/static/.%2e/.env",
    ] {
        #[rustfmt::skip]
        s.check(vec![
            row(GET, p, &[], 403, "blocked_path"),
            row(GET, p, &[(A, &alice_basic)], 403, "blocked_path"),
        ]).await;
    }
    assert_eq!(
        s.get("/.well-known/openid-configuration", &[]).await.status,
        404
    );
    assert_eq!(s.get("/static/readme.txt", &[]).await.status, 200);
    assert_eq!(s.get("/static/missing.txt", &[]).await.status, 404);

    // 403 ip_blocked through the trusted proxy (loopback), and spoofing.
    for xff in [
        "203.0.113.5",
        "2001:db8:bad::1",
        "::ffff:203.0.113.5",
        "198.51.100.1, 203.0.113.77",
    ] {
        #[rustfmt::skip]
        s.check(vec![
            row(GET, "/health", &[("x-forwarded-for", xff)], 403, "ip_blocked"),
            row(GET, "/me", &[("x-forwarded-for", xff)], 403, "ip_blocked"),
        ]).await;
    }
    assert_eq!(
        s.get(
            "/health",
            &[("x-forwarded-for", "203.0.113.5, 198.51.100.1")]
        )
        .await
        .status,
        200,
        "a left-most client value never wins"
    );
    assert_eq!(
        s.get("/health", &[("x-forwarded-for", "2001:db8:bae::1")])
            .await
            .status,
        200
    );

    // 403 geo_blocked.
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/health", &[("cf-ipcountry", "ZZ")], 403, "geo_blocked"),
        row(GET, "/me", &[("cf-ipcountry", "ZZ")], 403, "geo_blocked"),
    ]).await;
    assert_eq!(
        s.get("/health", &[("cf-ipcountry", "DE")]).await.status,
        200
    );

    // One forwarding source: the demo reads X-Forwarded-For only, so a
    // `Forwarded` field naming a denied address is ignored.
    assert_eq!(
        s.get("/health", &[("forwarded", "for=203.0.113.5")])
            .await
            .status,
        200,
        "Forwarded is not the configured source"
    );
    // Unreadable forwarding data fails closed: the address is unknown.
    let too_many = vec!["198.51.100.1"; 33].join(", ");
    for xff in ["", "garbage", "198.51.100.1, , 127.0.0.1", &too_many] {
        #[rustfmt::skip]
        s.check(vec![
            row(GET, "/health", &[("x-forwarded-for", xff)], 403, "ip_blocked"),
        ]).await;
    }
    // Two country values (two field lines), or one that is denied, are
    // geo_blocked; no country at all passes the deny list.
    for countries in [
        &[("cf-ipcountry", "DE"), ("cf-ipcountry", "DE")][..],
        &[("cf-ipcountry", "DE, FR")],
        &[("cf-ipcountry", "ZZ")],
    ] {
        #[rustfmt::skip]
        s.check(vec![
            row(GET, "/health", countries, 403, "geo_blocked"),
        ]).await;
    }
    assert_eq!(s.get("/health", &[]).await.status, 200);

    // 403 account_suspended.
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[(A, &basic("dave", "dave-pass"))], 403, "account_suspended"),
        row(GET, "/orgs/acme/documents", &[(A, &hs(&claims("dave")))], 403, "account_suspended"),
    ]).await;

    // 403 tenant_mismatch (membership and token binding, Logto forms too).
    let carol_acme = hs(&with(claims("carol"), "organization_id", json!("acme")));
    let logto = hs(&with(
        claims("carol"),
        "aud",
        json!("urn:logto:organization:globex"),
    ));
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/orgs/globex/documents", &[(A, &alice_basic)], 403, "tenant_mismatch"),
        row(GET, "/orgs/globex/documents", &[(A, &basic("carol", "carol-pass"))], 200, ""),
        row(GET, "/orgs/acme/documents", &[(A, &basic("carol", "carol-pass"))], 200, ""),
        row(GET, "/orgs/globex/documents", &[(A, &carol_acme)], 403, "tenant_mismatch"),
        row(GET, "/orgs/acme/documents", &[(A, &carol_acme)], 200, ""),
        row(GET, "/orgs/globex/documents", &[(A, &logto)], 200, ""),
        row(GET, "/orgs/acme/documents", &[(A, &logto)], 403, "tenant_mismatch"),
        row(GET, "/orgs/nowhere/documents", &[(A, &alice_basic)], 403, "tenant_mismatch"),
        // 403 insufficient_permission and insufficient_scope.
        row(Method::DELETE, "/orgs/acme/documents/welcome", &[(A, &basic("bob", "bob-pass"))], 403, "insufficient_permission"),
        row(Method::POST, "/orgs/acme/documents", &[(A, &basic("grace", "p@ss:wörd"))], 403, "insufficient_permission"),
    ]).await;
    let scoped = hs(&with(claims("alice"), "scope", json!("documents:read")));
    let r = s
        .expect(
            Method::POST,
            "/orgs/acme/documents",
            &[(A, &scoped)],
            403,
            "insufficient_scope",
        )
        .await;
    let c = r.challenge("Bearer");
    assert_eq!(c.get("error"), Some("insufficient_scope"));
    assert_eq!(c.get("scope"), Some("documents:write"));
    let bob_scoped = hs(&with(
        claims("bob"),
        "scope",
        json!("documents:read documents:delete"),
    ));
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/orgs/acme/documents", &[(A, &scoped)], 200, ""),
        row(Method::DELETE, "/orgs/acme/documents/welcome", &[(A, &bob_scoped)], 403, "insufficient_permission"),
        // 403 not_shared; 403 read_only; 404 after membership is known.
        row(GET, "/orgs/acme/documents/roadmap", &[(A, &basic("bob", "bob-pass"))], 403, "not_shared"),
        row(GET, "/orgs/acme/documents/roadmap", &[(A, &basic("carol", "carol-pass"))], 403, "not_shared"),
        row(GET, "/orgs/acme/documents/roadmap", &[(A, &alice_basic)], 200, ""),
        row(Method::PUT, "/orgs/acme/documents/handbook-2019", &[(A, &alice_basic)], 403, "read_only"),
        row(Method::DELETE, "/orgs/acme/documents/handbook-2019", &[(A, &alice_basic)], 403, "read_only"),
        row(GET, "/orgs/acme/documents/handbook-2019", &[(A, &alice_basic)], 200, ""),
    ]).await;
    assert_eq!(
        s.get("/orgs/acme/documents/nope", &[(A, &alice_basic)])
            .await
            .status,
        404
    );
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/orgs/globex/documents/nope", &[(A, &alice_basic)], 403, "tenant_mismatch"),
        row(GET, "/orgs/acme/documents/plans", &[(A, &alice_basic)], 404, "not_found"),
    ]).await;

    // Unknown routes are 404 whatever the credentials.
    assert_eq!(s.get("/nope", &[]).await.status, 404);
    assert_eq!(s.get("/nope", &[(A, &alice_basic)]).await.status, 404);
    assert_eq!(s.get("/nope", &[(A, "Bearer garbage")]).await.status, 404);

    // The API key (a service principal with documents:read in acme only).
    let key = [("x-api-key", "demo-reporter-key")];
    let r = s.expect(g.clone(), "/me", &key, 200, "").await;
    assert_eq!(r.body["sub"], "svc-reporter");
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/orgs/acme/documents", &key, 200, ""),
        row(GET, "/orgs/acme/documents/welcome", &key, 200, ""),
        row(Method::POST, "/orgs/acme/documents", &key, 403, "insufficient_permission"),
        row(GET, "/orgs/globex/documents", &key, 403, "tenant_mismatch"),
    ]).await;

    // The documents API itself.
    let r = s
        .send(
            Method::POST,
            "/orgs/acme/documents",
            &[(A, &alice_basic)],
            Some(json!({"title": "Q4", "content": "plan"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/orgs/acme/documents/{id}");
    let r = s
        .send(
            Method::PUT,
            &path,
            &[(A, &alice_basic)],
            Some(json!({"title": "Q4b", "content": "plan b"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["title"].as_str()),
        (200, Some("Q4b"))
    );
    assert_eq!(
        s.get(&path, &[(A, &basic("bob", "bob-pass"))]).await.body["content"],
        "plan b"
    );
    assert_eq!(
        s.send(Method::DELETE, &path, &[(A, &alice_basic)], None)
            .await
            .status,
        204
    );
    assert_eq!(s.get(&path, &[(A, &alice_basic)]).await.status, 404);

    // CORS preflight needs no credentials.
    let r = s
        .send(
            Method::OPTIONS,
            "/orgs/acme/documents/welcome",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "DELETE"),
                ("access-control-request-headers", "authorization"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.headers.contains_key("access-control-allow-methods"));
}

async fn problem_bodies_never_echo_credentials(f: Flavor) {
    let s = start(f).await;
    let secret_pass = "correct-horse-battery-staple";
    let r = s.get("/me", &[(A, &basic("alice", secret_pass))]).await;
    let text = r.body.to_string();
    assert!(
        !text.contains(secret_pass) && !text.contains("alice"),
        "{text}"
    );
    let token = hs(&with(claims("alice"), "exp", json!(now() - 3600)));
    let r = s.get("/me", &[(A, &token)]).await;
    assert!(!r.body.to_string().contains(&token[7..20]));
}

#[test]
fn configuration_comes_from_the_environment_with_documented_defaults() {
    let c = app::Config::from_env().unwrap();
    if std::env::var_os("BOUNCER_ADDR").is_none() {
        assert_eq!(c.addr, "127.0.0.1:8080".parse().unwrap());
    }
    if std::env::var_os("BOUNCER_DEMO_SECRET").is_none() {
        assert_eq!(c.secret, app::DEFAULT_DEMO_SECRET);
    }
    assert!(app::default_policy_path().exists());
}

fn session_cookie(r: &Reply) -> String {
    let set = r
        .headers
        .get("set-cookie")
        .expect("set-cookie")
        .to_str()
        .unwrap()
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    let pair = set.split(';').next().unwrap().trim().to_owned();
    assert!(
        pair.starts_with("bouncer_session=") && pair.len() > "bouncer_session=".len() + 40,
        "{pair}"
    );
    pair
}

fn erin_code() -> String {
    bouncer_session::TotpSecret::from_base32("JBSWY3DPEHPK3PXP")
        .unwrap()
        .code_at(now())
}

async fn contract_section_5_sessions_and_mfa(f: Flavor) {
    let s = start(f).await;
    let post = Method::POST;
    let g = Method::GET;
    let login = |body: Value| async {
        s.send(
            Method::POST,
            "/login",
            &[("x-forwarded-for", "198.51.100.20")],
            Some(body),
        )
        .await
    };

    // Basic login starts a session; the cookie works where Bearer does.
    let r = s
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("alice", "alice-pass"))],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let alice = session_cookie(&r);
    let r = s
        .expect(g.clone(), "/me", &[("cookie", &alice)], 200, "")
        .await;
    assert_eq!(
        (r.body["sub"].as_str(), r.body["scheme"].as_str()),
        (Some("alice"), Some("session"))
    );
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/orgs/acme/documents/roadmap", &[("cookie", &alice)], 200, ""),
        row(GET, "/admin/audit", &[("cookie", &alice)], 403, "elevation_required"),
    ]).await;

    // A new login ends the session the request carried (no fixation).
    let r = s
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("alice", "alice-pass")), ("cookie", &alice)],
            None,
        )
        .await;
    let alice2 = session_cookie(&r);
    assert_ne!(alice, alice2);
    let r = s
        .expect(
            g.clone(),
            "/me",
            &[("cookie", &alice)],
            401,
            "session_invalid",
        )
        .await;
    assert!(r.challenges().iter().all(|c| c.get("error").is_none()));
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[("cookie", &alice2)], 200, ""),
    ]).await;

    // JSON login; bad credentials get the same 401 as anywhere else.
    let r = login(json!({"username": "bob", "password": "bob-pass"})).await;
    assert_eq!(r.status, 204);
    let r = login(json!({"username": "bob", "password": "nope"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    assert_eq!(r.challenge("Basic").get("charset"), Some("UTF-8"));
    let r = login(json!({"username": "nobody", "password": "nope"})).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let r = s
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("dave", "dave-pass"))],
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (403, "account_suspended"));
    let r = s.send(post.clone(), "/login", &[], None).await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "missing_credentials"));

    // erin: MFA pending answers mfa_required everywhere, before authorization.
    let r = s
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("erin", "erin-pass"))],
            None,
        )
        .await;
    let pending = session_cookie(&r);
    for path in [
        "/me",
        "/orgs/acme/documents",
        "/orgs/globex/documents",
        "/admin/audit",
    ] {
        #[rustfmt::skip]
        s.check(vec![
            row(GET, path, &[("cookie", &pending)], 401, "mfa_required"),
        ]).await;
    }
    let r = s
        .send(
            post.clone(),
            "/login/mfa",
            &[("cookie", &pending)],
            Some(json!({"code": "000000"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "invalid_credentials"));
    let code = erin_code();
    let r = s
        .send(
            post.clone(),
            "/login/mfa",
            &[("cookie", &pending)],
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let erin = session_cookie(&r);
    assert_ne!(erin, pending, "a new id at MFA completion");
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[("cookie", &pending)], 401, "session_invalid"),
        row(GET, "/admin/audit", &[("cookie", &erin)], 200, ""),
        row(post.clone(), "/admin/keys/rotate", &[("cookie", &erin)], 200, ""),
    ]).await;
    let r = s
        .expect(g.clone(), "/me", &[("cookie", &erin)], 200, "")
        .await;
    assert!(r.body["amr"].as_array().unwrap().iter().any(|m| m == "mfa"));

    // A code is accepted once.
    let r = s
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("erin", "erin-pass"))],
            None,
        )
        .await;
    let pending2 = session_cookie(&r);
    let r = s
        .send(
            post.clone(),
            "/login/mfa",
            &[("cookie", &pending2)],
            Some(json!({ "code": code })),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (401, "invalid_credentials"),
        "replayed code"
    );

    // Five wrong codes end the pending session.
    for _ in 0..4 {
        let r = s
            .send(
                post.clone(),
                "/login/mfa",
                &[("cookie", &pending2)],
                Some(json!({"code": "999999"})),
            )
            .await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/me", &[("cookie", &pending2)], 401, "session_invalid"),
    ]).await;
    let r = s
        .send(
            post.clone(),
            "/login/mfa",
            &[("cookie", &pending2)],
            Some(json!({ "code": erin_code() })),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "session_invalid"));

    // Logout ends the session.
    let r = s
        .send(post.clone(), "/logout", &[("cookie", &erin)], None)
        .await;
    assert_eq!(r.status, 204);
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    #[rustfmt::skip]
    s.check(vec![
        row(GET, "/admin/audit", &[("cookie", &erin)], 401, "session_invalid"),
        row(GET, "/me", &[("cookie", "bouncer_session=not-a-session")], 401, "session_invalid"),
    ]).await;

    // Throttling per (user, address): 429 with Retry-After, others unaffected.
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    for _ in 0..5 {
        let r = s
            .send(
                post.clone(),
                "/login",
                &from("198.51.100.66"),
                Some(json!({"username": "grace", "password": "wrong"})),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = s
        .send(
            post.clone(),
            "/login",
            &from("198.51.100.66"),
            Some(json!({"username": "grace", "password": "p@ss:wörd"})),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (429, "too_many_requests"));
    let after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&after));
    let r = s
        .send(
            post.clone(),
            "/login",
            &from("198.51.100.67"),
            Some(json!({"username": "grace", "password": "p@ss:wörd"})),
        )
        .await;
    assert_eq!(r.status, 204, "the real user elsewhere is not locked out");
}

async fn two_instances_share_one_redis_and_survive_its_outage(f: Flavor) {
    let mut redis = bouncer_test::RedisServer::start().unwrap();
    // One instance of each quickstart: a logout on one is seen by the other.
    let a = start_with(f, Some(redis.url())).await;
    let b = start_with(f.other(), Some(redis.url())).await;
    let g = Method::GET;
    let post = Method::POST;

    // A logout on one instance is seen by the other at once.
    let t = hs(&claims("alice"));
    b.expect(g.clone(), "/me", &[(A, &t)], 200, "").await;
    assert_eq!(
        a.send(post.clone(), "/logout", &[(A, &t)], None)
            .await
            .status,
        204
    );
    b.expect(g.clone(), "/me", &[(A, &t)], 401, "token_revoked")
        .await;

    // A session started on one works on the other; a logout ends it on both.
    let r = a
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("bob", "bob-pass"))],
            None,
        )
        .await;
    let bob = session_cookie(&r);
    b.expect(g.clone(), "/me", &[("cookie", &bob)], 200, "")
        .await;
    assert_eq!(
        b.send(post.clone(), "/logout", &[("cookie", &bob)], None)
            .await
            .status,
        204
    );
    a.expect(
        g.clone(),
        "/me",
        &[("cookie", &bob)],
        401,
        "session_invalid",
    )
    .await;

    // Redis down: what needs it is 503 with Retry-After; Basic and API keys are not affected.
    let live = hs(&claims("carol"));
    let r = a
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("alice", "alice-pass"))],
            None,
        )
        .await;
    let alice = session_cookie(&r);
    redis.stop();
    for (method, path, header) in [
        (g.clone(), "/me", (A, live.as_str())),
        (g.clone(), "/me", ("cookie", alice.as_str())),
        (post.clone(), "/logout", (A, live.as_str())),
    ] {
        let r = a.send(method, path, &[header], None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (503, "service_unavailable"),
            "{path}"
        );
        assert!(r.headers.contains_key("retry-after"));
        assert!(!r.headers.contains_key("www-authenticate"));
    }
    let r = a
        .send(
            post.clone(),
            "/login",
            &[(A, &basic("alice", "alice-pass"))],
            None,
        )
        .await;
    assert_eq!(r.status, 503);
    let r = a
        .send(
            post.clone(),
            "/login/mfa",
            &[("cookie", &alice)],
            Some(json!({"code": "123456"})),
        )
        .await;
    assert_eq!(r.status, 503);
    a.expect(
        g.clone(),
        "/me",
        &[(A, &basic("alice", "alice-pass"))],
        200,
        "",
    )
    .await;
    a.expect(
        g.clone(),
        "/me",
        &[("x-api-key", "demo-reporter-key")],
        200,
        "",
    )
    .await;

    // Redis back: the same instances answer normally, without a restart.
    redis.restart().unwrap();
    let fresh = hs(&claims("carol"));
    let mut status = 0;
    for _ in 0..50 {
        status = a.get("/me", &[(A, &fresh)]).await.status.as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "instance a recovered");
    b.expect(g.clone(), "/me", &[(A, &fresh)], 200, "").await;
}

/// RFC 8725 and the known attack list, through the real router: every
/// forged or malformed credential is a 401 (or a size-limit 431/400),
/// never a 5xx, never an allow.
async fn attack_suite_is_always_refused(f: Flavor) {
    let s = start(f).await;
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let json = |v: &Value| b64(&serde_json::to_vec(v).unwrap());
    let good = claims("erin");
    let body = json(&good);
    let hmac = |key: &[u8], header: &Value, payload: &str| {
        let h = json(header);
        let msg = format!("{h}.{payload}");
        let sig = jsonwebtoken::crypto::sign(
            msg.as_bytes(),
            &EncodingKey::from_secret(key),
            Algorithm::HS256,
        )
        .unwrap();
        format!("{msg}.{sig}")
    };
    let secret = app::DEFAULT_DEMO_SECRET.as_bytes();
    let rsa_public_pem = std::fs::read(demo_keys().join("rsa.pub.pem")).unwrap();
    // An attacker's own key, advertised in the header.
    let attacker = EncodingKey::from_secret(b"attacker-secret-attacker-secret-32");
    let mut with_jwk = Header::new(Algorithm::HS256);
    with_jwk.jku = Some("https://evil.example/jwks.json".into());
    with_jwk.x5u = Some("https://evil.example/cert.pem".into());
    let real = sign(Algorithm::HS256, None, None, &good);
    let (real_head, real_rest) = real.split_once('.').unwrap();
    let real_payload = real_rest.split_once('.').unwrap().0;

    let mut attacks: Vec<(String, String)> = Vec::new();
    for alg in ["none", "None", "NONE", "nOnE"] {
        attacks.push((
            format!("alg {alg}"),
            format!("{}.{body}.", json(&json!({"alg": alg, "typ": "JWT"}))),
        ));
    }
    attacks.push((
        "HS256 keyed with the RSA public key".into(),
        hmac(
            &rsa_public_pem,
            &json!({"alg": "HS256", "kid": "demo-rsa"}),
            &body,
        ),
    ));
    attacks.push((
        "HS256 keyed with the RSA public key, no kid".into(),
        hmac(&rsa_public_pem, &json!({"alg": "HS256"}), &body),
    ));
    attacks.push((
        "kid naming another key's algorithm".into(),
        sign(Algorithm::ES256, Some("demo-ed"), None, &good),
    ));
    for kid in ["../../../../etc/passwd", "' OR 1=1 --", "demo-rsa\u{0}", ""] {
        attacks.push((
            format!("kid {kid:?}"),
            hmac(b"guess", &json!({"alg": "HS256", "kid": kid}), &body),
        ));
    }
    attacks.push((
        "jku/x5u to an attacker's keys".into(),
        jsonwebtoken::encode(&with_jwk, &good, &attacker).unwrap(),
    ));
    attacks.push(("embedded jwk".into(), hmac(b"attacker-secret-attacker-secret-32", &json!({"alg": "HS256", "jwk": {"kty": "oct", "k": b64(b"attacker-secret-attacker-secret-32")}}), &body)));
    attacks.push((
        "crit with an unknown extension".into(),
        hmac(
            secret,
            &json!({"alg": "HS256", "crit": ["exp2"], "exp2": 1}),
            &body,
        ),
    ));
    attacks.push((
        "signature stripped".into(),
        format!("{real_head}.{real_payload}."),
    ));
    attacks.push((
        "signature of another token".into(),
        format!(
            "{real_head}.{}.{}",
            json(&with(good.clone(), "sub", json!("admin"))),
            real.rsplit_once('.').unwrap().1
        ),
    ));
    attacks.push((
        "duplicate claim names".into(),
        hmac(
            secret,
            &json!({"alg": "HS256"}),
            &b64(format!(
                r#"{{"iss":"{}","aud":"{}","sub":"bob","sub":"erin","exp":{}}}"#,
                app::ISSUER,
                app::AUDIENCE,
                now() + 600
            )
            .as_bytes()),
        ),
    ));
    for (name, exp) in [
        ("string", json!("9999999999")),
        ("float", json!(9_999_999_999.5)),
        ("negative", json!(-1)),
        ("huge", json!(1e300)),
        ("null", Value::Null),
        ("object", json!({"t": 1})),
    ] {
        attacks.push((
            format!("exp as {name}"),
            hmac(
                secret,
                &json!({"alg": "HS256"}),
                &json(&with(good.clone(), "exp", exp.clone())),
            ),
        ));
        attacks.push((
            format!("nbf as {name}"),
            hmac(
                secret,
                &json!({"alg": "HS256"}),
                &json(&with(good.clone(), "nbf", exp)),
            ),
        ));
    }
    attacks.push((
        "nested JWT as payload".into(),
        hmac(
            secret,
            &json!({"alg": "HS256", "cty": "JWT"}),
            &b64(real.as_bytes()),
        ),
    ));
    attacks.push((
        "compressed payload".into(),
        hmac(
            secret,
            &json!({"alg": "HS256", "zip": "DEF"}),
            &b64(&[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        ),
    ));
    attacks.push((
        "payload not JSON".into(),
        hmac(secret, &json!({"alg": "HS256"}), &b64(b"\xff\xfe not json")),
    ));
    attacks.push((
        "header not JSON".into(),
        format!(
            "{}.{body}.{}",
            b64(b"{\"alg\":"),
            real.rsplit_once('.').unwrap().1
        ),
    ));
    attacks.push(("four segments".into(), format!("{real}.extra")));
    attacks.push((
        "JWS JSON serialization".into(),
        format!(
            r#"{{"payload":"{body}","signatures":[{{"protected":"{real_head}","signature":"x"}}]}}"#
        ),
    ));
    attacks.push(("token of 64 KiB".into(), "a".repeat(64 * 1024)));

    let mut outcomes = Vec::new();
    for (name, token) in &attacks {
        for path in ["/me", "/admin/audit"] {
            let header = format!("Bearer {token}");
            let r = s.get(path, &[(A, &header)]).await;
            let status = r.status.as_u16();
            outcomes.push(format!("{name} on {path}: {status} {}", r.code()));
            assert!(
                status == 401 || status == 431 || status == 400,
                "{name} on {path} got {status} {}",
                r.body
            );
        }
    }
    assert!(outcomes.len() >= 2 * 30, "{} cases", outcomes.len());

    // Basic: huge base64, NUL bytes, invalid UTF-8.
    let basic_raw = |bytes: &[u8]| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    };
    for (name, header) in [
        ("huge base64", basic_raw(&vec![b'a'; 20_000])),
        ("NUL in user", basic_raw(b"ali\0ce:alice-pass")),
        ("NUL in password", basic_raw(b"alice:alice-pass\0")),
        ("invalid UTF-8", basic_raw(b"alice:\xff\xfe")),
        ("empty", "Basic ".into()),
        ("no colon", basic_raw(b"alice")),
        ("only colon", basic_raw(b":")),
    ] {
        let r = s.get("/me", &[(A, &header)]).await;
        let status = r.status.as_u16();
        assert!(
            status == 401 || status == 431 || status == 400,
            "Basic {name}: {status} {}",
            r.body
        );
    }
    // API keys: huge, non-ASCII, near misses, two of them.
    let huge = "k".repeat(10_000);
    for key in [
        "",
        "demo-reporter-ke",
        "demo-reporter-keyy",
        "DEMO-REPORTER-KEY",
        huge.as_str(),
        "demo-reporter-key;x",
    ] {
        let r = s
            .send(Method::GET, "/me", &[("x-api-key", key)], None)
            .await;
        assert_ne!(r.status, 200, "API key {key:?}");
        assert!(r.status.as_u16() < 500, "API key {key:?}: {}", r.status);
    }
    let r = s
        .get(
            "/me",
            &[
                ("x-api-key", "demo-reporter-key"),
                ("x-api-key", "demo-reporter-key"),
            ],
        )
        .await;
    assert_eq!(r.status, 401);
}

/// Only a cookie named exactly `bouncer_session` is a session credential:
/// other cookies that merely contain the name are not credentials at all.
async fn unrelated_cookies_are_not_session_credentials(f: Flavor) {
    let s = start(f).await;
    for cookie in [
        "my_bouncer_session=x",
        "theme=dark; prefs=bouncer_session",
        "bouncer_sessionx=1",
    ] {
        #[rustfmt::skip]
        s.check(vec![
            row(Method::GET, "/me", &[("cookie", cookie)], 401, "missing_credentials"),
            row(Method::GET, "/orgs/acme/documents", &[("cookie", cookie), (A, &basic("bob", "bob-pass"))], 200, ""),
        ]).await;
    }
    #[rustfmt::skip]
    s.check(vec![
        row(Method::GET, "/me", &[("cookie", "theme=dark; bouncer_session=nope")], 401, "session_invalid"),
    ]).await;
}

/// `BOUNCER_DEMO_JWKS` trusts only public keys: symmetric keys in the file
/// (an empty `k` included) never verify a token, and the file's public keys
/// still do.
async fn a_demo_jwks_with_symmetric_keys_trusts_only_its_public_keys(f: Flavor) {
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let mut jwks: Value =
        serde_json::from_slice(&std::fs::read(demo_keys().join("jwks.json")).unwrap()).unwrap();
    let shared = b"an-oct-key-anyone-reading-the-jwks-would-know-0123456789abcdef!!";
    for oct in [
        json!({"kty": "oct", "k": "", "kid": "empty", "alg": "HS256"}),
        json!({"kty": "oct", "k": b64(shared), "kid": "shared", "alg": "HS256", "use": "sig"}),
    ] {
        jwks["keys"].as_array_mut().unwrap().push(oct);
    }
    let dir = std::env::temp_dir().join(format!("bouncer-jwks-{}", rand_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jwks.json");
    std::fs::write(&path, jwks.to_string()).unwrap();
    let s = start_config(
        f,
        app::Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            secret: app::DEFAULT_DEMO_SECRET.into(),
            jwks: Some(path),
            policy: app::default_policy_path(),
            redis: None,
        },
    )
    .await;
    let hs_with = |key: &[u8], kid: Option<&str>| {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = kid.map(str::to_owned);
        let t = jsonwebtoken::encode(&h, &claims("alice"), &EncodingKey::from_secret(key)).unwrap();
        format!("Bearer {t}")
    };
    for (name, header) in [
        ("empty key, its kid", hs_with(b"", Some("empty"))),
        ("empty key, no kid", hs_with(b"", None)),
        ("shared key, its kid", hs_with(shared, Some("shared"))),
        ("shared key, no kid", hs_with(shared, None)),
    ] {
        let r = s.get("/me", &[("authorization", &header)]).await;
        assert_eq!(r.status, 401, "{name}: {}", r.body);
        assert_eq!(r.code(), "invalid_token", "{name}");
    }
    let rs = sign(Algorithm::RS256, Some("demo-rsa"), None, &claims("alice"));
    let r = s
        .get("/me", &[("authorization", &format!("Bearer {rs}"))])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    std::fs::remove_dir_all(&dir).ok();
}

// ------------------------------------------------------------------------
// Parity (contract §6): the same requests to both quickstarts get the same
// status, the same WWW-Authenticate field values in the same order, the
// same Retry-After, Set-Cookie with the same attributes, and the same
// bodies (problem bodies byte for byte).

/// `a` and `b`, answers to the same request on the two quickstarts, agree.
fn assert_same_answer(label: &str, a: &Raw, b: &Raw) {
    assert_eq!(a.status, b.status, "{label}: status");
    let values = |r: &Raw, name: &str| -> Vec<String> {
        r.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    for name in [
        "www-authenticate",
        "content-type",
        "cache-control",
        "location",
    ] {
        assert_eq!(values(a, name), values(b, name), "{label}: {name}");
    }
    // Retry-After counts down: a throttling window (429) may have moved on
    // by a second between the two requests; a fault's (503) is fixed.
    let retry =
        |r: &Raw| -> Option<i64> { values(r, "retry-after").first().map(|v| v.parse().unwrap()) };
    match (retry(a), retry(b)) {
        (Some(x), Some(y)) if a.status == StatusCode::TOO_MANY_REQUESTS => {
            assert!((x - y).abs() <= 1, "{label}: retry-after {x} vs {y}")
        }
        (x, y) => assert_eq!(x, y, "{label}: retry-after"),
    }
    // Set-Cookie: the same cookie name and attributes (the values are
    // each instance's own session ids).
    let cookies = |r: &Raw| -> Vec<(String, Vec<String>)> {
        values(r, "set-cookie")
            .iter()
            .map(|c| {
                let mut parts = c.split(';').map(str::trim);
                let name = parts.next().unwrap().split('=').next().unwrap().to_owned();
                let mut attrs: Vec<String> = parts.map(str::to_owned).collect();
                attrs.sort();
                (name, attrs)
            })
            .collect()
    };
    assert_eq!(cookies(a), cookies(b), "{label}: set-cookie");
    // CORS, for requests with an `Origin` (tower-http also sends
    // `Access-Control-Allow-Origin` without one, which browsers ignore):
    // the same allowed origin, methods, headers and max age (each
    // framework's CORS middleware spells the lists its own way).
    let list = |r: &Raw, name: &str| -> Vec<String> {
        let mut v: Vec<String> = values(r, name)
            .iter()
            .flat_map(|v| {
                v.split(',')
                    .map(|x| x.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            .filter(|x| !x.is_empty())
            .collect();
        v.sort();
        v
    };
    if label.starts_with("CORS") {
        for name in [
            "access-control-allow-origin",
            "access-control-allow-methods",
            "access-control-allow-headers",
            "access-control-max-age",
        ] {
            assert_eq!(list(a, name), list(b, name), "{label}: {name}");
        }
    }
    // Byte-identical apart from `instance`, which names each decision
    // (contract §6, explain.md §1); every problem body has a well-formed one.
    let same = |r: &Raw| -> Vec<u8> {
        let problem = values(r, "content-type")
            .iter()
            .any(|v| v.starts_with("application/problem+json"));
        if problem && !r.bytes.is_empty() {
            let (_, rest) = bouncer_core::render::split_instance(&r.bytes)
                .unwrap_or_else(|| panic!("{label}: no decision id in {:?}", r.bytes));
            rest
        } else {
            r.bytes.to_vec()
        }
    };
    assert_eq!(same(a), same(b), "{label}: body");
}

/// A label, method, path, header fields and JSON body.
type ParityRequest<'a> = (
    &'a str,
    Method,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<Value>,
);

/// The parity requests, in order, on one quickstart; the session cookies
/// are this instance's own.
async fn parity_script(s: &Server, tokens: &ParityTokens) -> Vec<(String, Raw)> {
    let g = Method::GET;
    let post = Method::POST;
    let doc = || Some(json!({"title": "t", "content": "c"}));
    let alice = basic("alice", "alice-pass");
    let (bob, carol, grace) = (
        basic("bob", "bob-pass"),
        basic("carol", "carol-pass"),
        basic("grace", "p@ss:wörd"),
    );
    let mut out: Vec<(String, Raw)> = Vec::new();
    let mut step = |label: &str, r: Raw| out.push((label.to_owned(), r));

    // Every reason code of §3, and the 404s and 405s around them.
    let requests: Vec<ParityRequest<'_>> = vec![
        ("health", g.clone(), "/health", vec![], None),
        ("HEAD health", Method::HEAD, "/health", vec![], None),
        ("missing_credentials", g.clone(), "/me", vec![], None),
        (
            "HEAD missing_credentials",
            Method::HEAD,
            "/me",
            vec![],
            None,
        ),
        (
            "missing, Bearer-only route",
            post.clone(),
            "/admin/keys/rotate",
            vec![],
            None,
        ),
        (
            "malformed: empty bearer",
            g.clone(),
            "/me",
            vec![(A, "Bearer")],
            None,
        ),
        (
            "malformed: bad base64",
            g.clone(),
            "/me",
            vec![(A, "Basic %%%")],
            None,
        ),
        (
            "malformed: two fields",
            g.clone(),
            "/me",
            vec![(A, "Bearer a"), (A, "Bearer b")],
            None,
        ),
        (
            "unsupported_scheme",
            g.clone(),
            "/me",
            vec![(A, "Digest username=\"a\"")],
            None,
        ),
        (
            "unsupported on Bearer-only",
            g.clone(),
            "/admin/audit",
            vec![(A, &alice)],
            None,
        ),
        (
            "invalid_credentials: password",
            g.clone(),
            "/me",
            vec![(A, &tokens.wrong_password)],
            None,
        ),
        (
            "invalid_credentials: api key",
            g.clone(),
            "/me",
            vec![("x-api-key", "nope")],
            None,
        ),
        (
            "invalid_token: garbage",
            g.clone(),
            "/me",
            vec![(A, "Bearer a.b.c")],
            None,
        ),
        (
            "invalid_token: wrong iss",
            g.clone(),
            "/me",
            vec![(A, &tokens.wrong_issuer)],
            None,
        ),
        (
            "token_expired",
            g.clone(),
            "/me",
            vec![(A, &tokens.expired)],
            None,
        ),
        (
            "session_invalid",
            g.clone(),
            "/me",
            vec![("cookie", "bouncer_session=not-a-session")],
            None,
        ),
        (
            "mfa_required",
            g.clone(),
            "/admin/audit",
            vec![(A, &tokens.erin)],
            None,
        ),
        (
            "mfa_required: max_age",
            post.clone(),
            "/admin/keys/rotate",
            vec![(A, &tokens.erin)],
            None,
        ),
        ("blocked_path", g.clone(), "/.env", vec![], None),
        (
            "blocked_path, decoded",
            g.clone(),
            "/static/..%2f.env",
            vec![(A, &alice)],
            None,
        ),
        (
            "ip_blocked",
            g.clone(),
            "/health",
            vec![("x-forwarded-for", "203.0.113.5")],
            None,
        ),
        (
            "ip_blocked: unreadable",
            g.clone(),
            "/health",
            vec![("x-forwarded-for", "garbage")],
            None,
        ),
        (
            "geo_blocked",
            g.clone(),
            "/health",
            vec![("cf-ipcountry", "ZZ")],
            None,
        ),
        (
            "account_suspended",
            g.clone(),
            "/me",
            vec![(A, &tokens.dave)],
            None,
        ),
        (
            "tenant_mismatch",
            g.clone(),
            "/orgs/globex/documents",
            vec![(A, &alice)],
            None,
        ),
        (
            "tenant_mismatch: token bound",
            g.clone(),
            "/orgs/globex/documents",
            vec![(A, &tokens.carol_acme)],
            None,
        ),
        (
            "elevation_required",
            g.clone(),
            "/admin/audit",
            vec![(A, &tokens.alice)],
            None,
        ),
        (
            "insufficient_permission",
            Method::DELETE,
            "/orgs/acme/documents/welcome",
            vec![(A, &bob)],
            None,
        ),
        (
            "insufficient_scope",
            post.clone(),
            "/orgs/acme/documents",
            vec![(A, &tokens.alice_read_only)],
            doc(),
        ),
        (
            "not_shared",
            g.clone(),
            "/orgs/acme/documents/roadmap",
            vec![(A, &carol)],
            None,
        ),
        (
            "read_only",
            Method::PUT,
            "/orgs/acme/documents/handbook-2019",
            vec![(A, &alice)],
            doc(),
        ),
        ("allowed: me", g.clone(), "/me", vec![(A, &alice)], None),
        (
            "allowed: api key",
            g.clone(),
            "/orgs/acme/documents",
            vec![("x-api-key", "demo-reporter-key")],
            None,
        ),
        ("allowed: grace", g.clone(), "/me", vec![(A, &grace)], None),
        (
            "allowed: admin",
            g.clone(),
            "/admin/audit",
            vec![(A, &tokens.erin_mfa)],
            None,
        ),
        (
            "created",
            post.clone(),
            "/orgs/acme/documents",
            vec![(A, &alice)],
            doc(),
        ),
        (
            "absent document",
            g.clone(),
            "/orgs/acme/documents/absent",
            vec![(A, &alice)],
            None,
        ),
        ("unknown route", g.clone(), "/nope", vec![], None),
        (
            "unknown route, credentials",
            g.clone(),
            "/nope",
            vec![(A, "Bearer garbage")],
            None,
        ),
        (
            "missing static file",
            g.clone(),
            "/static/missing.txt",
            vec![],
            None,
        ),
        ("static file", g.clone(), "/static/app.js", vec![], None),
        ("405", g.clone(), "/admin/keys/rotate", vec![], None),
        (
            "405 with credentials",
            Method::PATCH,
            "/me",
            vec![(A, &alice)],
            None,
        ),
        (
            "metadata",
            g.clone(),
            "/.well-known/oauth-protected-resource",
            vec![],
            None,
        ),
        (
            "CORS preflight",
            Method::OPTIONS,
            "/orgs/acme/documents/welcome",
            vec![
                ("origin", "https://app.example"),
                ("access-control-request-method", "DELETE"),
                ("access-control-request-headers", "authorization"),
            ],
            None,
        ),
        (
            "CORS request",
            g.clone(),
            "/me",
            vec![("origin", "https://app.example"), (A, &alice)],
            None,
        ),
        (
            "CORS request denied",
            g.clone(),
            "/me",
            vec![("origin", "https://app.example")],
            None,
        ),
        // A revoked token (each instance revokes it in its own store).
        (
            "logout token",
            post.clone(),
            "/logout",
            vec![(A, &tokens.revoked)],
            None,
        ),
        (
            "token_revoked",
            g.clone(),
            "/me",
            vec![(A, &tokens.revoked)],
            None,
        ),
    ];
    for (label, method, path, headers, body) in requests {
        step(label, s.raw(method, path, &headers, body).await);
    }

    // Sessions: login, MFA at login, logout (§5).
    let cookie = |r: &Raw| -> String {
        r.headers["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let from = [("x-forwarded-for", "198.51.100.20")];
    let r = s.raw(post.clone(), "/login", &[(A, &alice)], None).await;
    let alice_session = cookie(&r);
    step("login", r);
    step(
        "login: json",
        s.raw(
            post.clone(),
            "/login",
            &from,
            Some(json!({"username": "bob", "password": "bob-pass"})),
        )
        .await,
    );
    step(
        "login: bad password",
        s.raw(post.clone(), "/login", &[(A, &tokens.wrong_password)], None)
            .await,
    );
    step(
        "login: nothing",
        s.raw(post.clone(), "/login", &[], None).await,
    );
    step(
        "login: malformed json",
        s.raw(
            post.clone(),
            "/login",
            &[("content-type", "application/json")],
            None,
        )
        .await,
    );
    step(
        "login: suspended",
        s.raw(post.clone(), "/login", &[(A, &tokens.dave)], None)
            .await,
    );
    step(
        "session: me",
        s.raw(g.clone(), "/me", &[("cookie", &alice_session)], None)
            .await,
    );
    let r = s
        .raw(
            post.clone(),
            "/login",
            &[(A, &basic("erin", "erin-pass"))],
            None,
        )
        .await;
    let erin = cookie(&r);
    step("login: erin, MFA pending", r);
    step(
        "pending: me",
        s.raw(g.clone(), "/me", &[("cookie", &erin)], None).await,
    );
    step(
        "pending: audit",
        s.raw(g.clone(), "/admin/audit", &[("cookie", &erin)], None)
            .await,
    );
    step(
        "mfa: wrong code",
        s.raw(
            post.clone(),
            "/login/mfa",
            &[("cookie", &erin)],
            Some(json!({"code": "000000"})),
        )
        .await,
    );
    let r = s
        .raw(
            post.clone(),
            "/login/mfa",
            &[("cookie", &erin)],
            Some(json!({"code": erin_code()})),
        )
        .await;
    let erin_done = cookie(&r);
    step("mfa: done", r);
    step(
        "mfa: audit",
        s.raw(g.clone(), "/admin/audit", &[("cookie", &erin_done)], None)
            .await,
    );
    step(
        "logout: session",
        s.raw(post.clone(), "/logout", &[("cookie", &erin_done)], None)
            .await,
    );
    step(
        "after logout",
        s.raw(g.clone(), "/me", &[("cookie", &erin_done)], None)
            .await,
    );

    // Throttling: five failures for (grace, this address), then 429.
    let from = [("x-forwarded-for", "198.51.100.66")];
    for i in 0..5 {
        let r = s
            .raw(
                post.clone(),
                "/login",
                &from,
                Some(json!({"username": "grace", "password": "wrong"})),
            )
            .await;
        step(&format!("throttle: failure {i}"), r);
    }
    step(
        "throttle: 429",
        s.raw(
            post.clone(),
            "/login",
            &from,
            Some(json!({"username": "grace", "password": "p@ss:wörd"})),
        )
        .await,
    );
    out
}

/// The tokens both instances get, made once.
struct ParityTokens {
    alice: String,
    alice_read_only: String,
    carol_acme: String,
    erin: String,
    erin_mfa: String,
    dave: String,
    expired: String,
    wrong_issuer: String,
    wrong_password: String,
    revoked: String,
}

impl ParityTokens {
    fn new() -> Self {
        Self {
            alice: hs(&claims("alice")),
            alice_read_only: hs(&with(claims("alice"), "scope", json!("documents:read"))),
            carol_acme: hs(&with(claims("carol"), "organization_id", json!("acme"))),
            erin: hs(&claims("erin")),
            erin_mfa: hs(&mfa("erin")),
            dave: basic("dave", "dave-pass"),
            expired: hs(&with(claims("alice"), "exp", json!(now() - 3600))),
            wrong_issuer: hs(&with(claims("alice"), "iss", json!("https://evil.example"))),
            wrong_password: basic("alice", "wrong"),
            revoked: hs(&claims("bob")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_quickstarts_give_the_same_answers() {
    let (axum, actix) = tokio::join!(start(Flavor::Axum), start(Flavor::Actix));
    let tokens = ParityTokens::new();
    let (on_axum, on_actix) = tokio::join!(
        parity_script(&axum, &tokens),
        parity_script(&actix, &tokens)
    );
    assert_eq!(on_axum.len(), on_actix.len());
    for ((label, a), (_, b)) in on_axum.iter().zip(&on_actix) {
        assert_same_answer(label, a, b);
    }
    // The script saw what it meant to: a few spot checks.
    let status = |label: &str| {
        on_actix
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, r)| r.status.as_u16())
            .unwrap()
    };
    for (label, want) in [
        ("missing_credentials", 401),
        ("blocked_path", 403),
        ("insufficient_scope", 403),
        ("token_revoked", 401),
        ("CORS preflight", 200),
        ("unknown route, credentials", 404),
        ("405", 405),
        ("mfa: done", 204),
        ("mfa: audit", 200),
        ("throttle: 429", 429),
    ] {
        assert_eq!(status(label), want, "{label}");
    }
}

/// With Redis down, both quickstarts answer what needs it with the same 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_quickstarts_fail_the_same_way_without_redis() {
    let mut redis = bouncer_test::RedisServer::start().unwrap();
    let axum = start_with(Flavor::Axum, Some(redis.url())).await;
    let actix = start_with(Flavor::Actix, Some(redis.url())).await;
    let alice = basic("alice", "alice-pass");
    let mut cookies = Vec::new();
    for s in [&axum, &actix] {
        let r = s.raw(Method::POST, "/login", &[(A, &alice)], None).await;
        assert_eq!(r.status, 204);
        let set = r.headers["set-cookie"].to_str().unwrap();
        cookies.push(set.split(';').next().unwrap().to_owned());
    }
    let token = hs(&claims("carol"));
    redis.stop();
    let mut answers: Vec<Vec<Raw>> = Vec::new();
    for (s, cookie) in [&axum, &actix].into_iter().zip(&cookies) {
        let mut v = Vec::new();
        for (method, path, header, body) in [
            (Method::GET, "/me", (A, token.as_str()), None),
            (Method::GET, "/me", ("cookie", cookie.as_str()), None),
            (Method::POST, "/logout", (A, token.as_str()), None),
            (Method::POST, "/login", (A, alice.as_str()), None),
            (
                Method::POST,
                "/login/mfa",
                ("cookie", cookie.as_str()),
                Some(json!({"code": "123456"})),
            ),
            (Method::GET, "/me", (A, alice.as_str()), None),
        ] {
            v.push(s.raw(method, path, &[header], body).await);
        }
        answers.push(v);
    }
    let labels = ["bearer", "session", "logout", "login", "login/mfa", "basic"];
    for (label, (a, b)) in labels.iter().zip(answers[0].iter().zip(&answers[1])) {
        assert_same_answer(label, a, b);
        let want = if *label == "basic" { 200 } else { 503 };
        assert_eq!(a.status, want, "{label}");
    }
    redis.restart().unwrap();
}
