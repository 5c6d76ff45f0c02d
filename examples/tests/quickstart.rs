//! End to end: the quickstart's router on a loopback port, real HTTP
//! requests for every row of the contract (§3) and every route and
//! identity of §4, checking status, `code` and the parsed challenges.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../quickstart/app.rs"]
mod app;

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
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
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

async fn start() -> Server {
    start_with(None).await
}

async fn start_with(redis: Option<String>) -> Server {
    start_config(app::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        secret: app::DEFAULT_DEMO_SECRET.into(),
        jwks: Some(demo_keys().join("jwks.json")),
        policy: app::default_policy_path(),
        redis,
    })
    .await
}

async fn start_config(config: app::Config) -> Server {
    let router = app::build(&config).unwrap();
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
    Server {
        base: format!("http://{addr}"),
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

impl Server {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_section_3_and_4_over_http() {
    let s = start().await;
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
    s.expect(
        g.clone(),
        "/orgs/globex/documents/plans",
        &[],
        401,
        "missing_credentials",
    )
    .await;
    s.expect(g.clone(), "/admin/keys/rotate", &[], 405, "")
        .await;
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
    s.expect(
        g.clone(),
        "/me",
        &[(A, "Bearer a b c")],
        401,
        "malformed_credentials",
    )
    .await;
    s.expect(
        g.clone(),
        "/me",
        &[(A, "Basic !!!")],
        401,
        "malformed_credentials",
    )
    .await;
    let no_colon = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice")
    );
    s.expect(
        g.clone(),
        "/me",
        &[(A, &no_colon)],
        401,
        "malformed_credentials",
    )
    .await;
    let alice_basic = basic("alice", "alice-pass");
    s.expect(
        g.clone(),
        "/me",
        &[(A, &alice_basic), (A, &alice_basic)],
        401,
        "malformed_credentials",
    )
    .await;

    // 401 unsupported_scheme.
    s.expect(
        g.clone(),
        "/me",
        &[(A, "Digest username=\"a\"")],
        401,
        "unsupported_scheme",
    )
    .await;
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
    s.expect(
        g.clone(),
        "/admin/audit",
        &[("x-api-key", "demo-reporter-key")],
        401,
        "unsupported_scheme",
    )
    .await;

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
    assert_eq!(wrong.body, unknown.body);
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
    s.expect(
        g.clone(),
        "/me",
        &[(A, &format!("Bearer {other_secret}"))],
        401,
        "invalid_token",
    )
    .await;
    let unknown_kid = sign(Algorithm::ES256, Some("no-such-key"), None, &good);
    s.expect(
        g.clone(),
        "/me",
        &[(A, &format!("Bearer {unknown_kid}"))],
        401,
        "invalid_token",
    )
    .await;
    let wrong_alg_for_kid = sign(Algorithm::ES256, Some("demo-rsa"), None, &good);
    s.expect(
        g.clone(),
        "/me",
        &[(A, &format!("Bearer {wrong_alg_for_kid}"))],
        401,
        "invalid_token",
    )
    .await;
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    let none = format!("Bearer {}.{}.", b64(&json!({"alg": "none"})), b64(&good));
    s.expect(g.clone(), "/me", &[(A, &none)], 401, "invalid_token")
        .await;
    s.expect(
        g.clone(),
        "/me",
        &[(
            A,
            &hs(&with(claims("alice"), "iss", json!("https://evil.example"))),
        )],
        401,
        "invalid_token",
    )
    .await;
    s.expect(
        g.clone(),
        "/me",
        &[(
            A,
            &hs(&with(
                claims("alice"),
                "aud",
                json!("https://other.example"),
            )),
        )],
        401,
        "invalid_token",
    )
    .await;
    s.expect(
        g.clone(),
        "/me",
        &[(A, &hs(&with(claims("alice"), "nbf", json!(now() + 3600))))],
        401,
        "invalid_token",
    )
    .await;
    let mut no_sub = claims("alice");
    no_sub.as_object_mut().unwrap().remove("sub");
    s.expect(g.clone(), "/me", &[(A, &hs(&no_sub))], 401, "invalid_token")
        .await;
    let bad_typ = format!(
        "Bearer {}",
        sign(Algorithm::HS256, None, Some("id_token+jwt"), &good)
    );
    s.expect(g.clone(), "/me", &[(A, &bad_typ)], 401, "invalid_token")
        .await;
    s.expect(
        g.clone(),
        "/me",
        &[(A, "Bearer not.a.jwt")],
        401,
        "invalid_token",
    )
    .await;

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
        s.expect(g.clone(), "/me", &[(A, &t)], 200, "").await;
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
    s.expect(g.clone(), "/me", &[(A, &t)], 200, "").await;
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
    s.expect(g.clone(), "/me", &[(A, &t)], 401, "token_revoked")
        .await;

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
    s.expect(
        g.clone(),
        "/admin/audit",
        &[(A, &hs(&mfa("erin")))],
        200,
        "",
    )
    .await;
    s.expect(
        g.clone(),
        "/admin/audit",
        &[(A, &hs(&with(claims("erin"), "amr", json!(["mfa"]))))],
        200,
        "",
    )
    .await;
    s.expect(
        g.clone(),
        "/admin/audit",
        &[(A, &hs(&with(claims("erin"), "acr", json!(app::MFA_ACR))))],
        200,
        "",
    )
    .await;
    s.expect(
        g.clone(),
        "/admin/audit",
        &[(A, &hs(&claims("alice")))],
        403,
        "elevation_required",
    )
    .await;
    s.expect(
        g.clone(),
        "/admin/audit",
        &[(A, &hs(&mfa("alice")))],
        403,
        "elevation_required",
    )
    .await;
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
    s.expect(
        Method::POST,
        "/admin/keys/rotate",
        &[(A, &hs(&mfa("erin")))],
        200,
        "",
    )
    .await;
    s.expect(
        g.clone(),
        "/admin/audit",
        &[(A, &hs(&with(mfa("erin"), "scope", json!("documents:read"))))],
        403,
        "insufficient_scope",
    )
    .await;

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
        s.expect(g.clone(), p, &[], 403, "blocked_path").await;
        s.expect(g.clone(), p, &[(A, &alice_basic)], 403, "blocked_path")
            .await;
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
        s.expect(
            g.clone(),
            "/health",
            &[("x-forwarded-for", xff)],
            403,
            "ip_blocked",
        )
        .await;
        s.expect(
            g.clone(),
            "/me",
            &[("x-forwarded-for", xff)],
            403,
            "ip_blocked",
        )
        .await;
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
    s.expect(
        g.clone(),
        "/health",
        &[("cf-ipcountry", "ZZ")],
        403,
        "geo_blocked",
    )
    .await;
    s.expect(
        g.clone(),
        "/me",
        &[("cf-ipcountry", "ZZ")],
        403,
        "geo_blocked",
    )
    .await;
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
        s.expect(
            g.clone(),
            "/health",
            &[("x-forwarded-for", xff)],
            403,
            "ip_blocked",
        )
        .await;
    }
    // Two country values (two field lines), or one that is denied, are
    // geo_blocked; no country at all passes the deny list.
    for countries in [
        &[("cf-ipcountry", "DE"), ("cf-ipcountry", "DE")][..],
        &[("cf-ipcountry", "DE, FR")],
        &[("cf-ipcountry", "ZZ")],
    ] {
        s.expect(g.clone(), "/health", countries, 403, "geo_blocked")
            .await;
    }
    assert_eq!(s.get("/health", &[]).await.status, 200);

    // 403 account_suspended.
    s.expect(
        g.clone(),
        "/me",
        &[(A, &basic("dave", "dave-pass"))],
        403,
        "account_suspended",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents",
        &[(A, &hs(&claims("dave")))],
        403,
        "account_suspended",
    )
    .await;

    // 403 tenant_mismatch (membership and token binding, Logto forms too).
    s.expect(
        g.clone(),
        "/orgs/globex/documents",
        &[(A, &alice_basic)],
        403,
        "tenant_mismatch",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/globex/documents",
        &[(A, &basic("carol", "carol-pass"))],
        200,
        "",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents",
        &[(A, &basic("carol", "carol-pass"))],
        200,
        "",
    )
    .await;
    let carol_acme = hs(&with(claims("carol"), "organization_id", json!("acme")));
    s.expect(
        g.clone(),
        "/orgs/globex/documents",
        &[(A, &carol_acme)],
        403,
        "tenant_mismatch",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents",
        &[(A, &carol_acme)],
        200,
        "",
    )
    .await;
    let logto = hs(&with(
        claims("carol"),
        "aud",
        json!("urn:logto:organization:globex"),
    ));
    s.expect(g.clone(), "/orgs/globex/documents", &[(A, &logto)], 200, "")
        .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents",
        &[(A, &logto)],
        403,
        "tenant_mismatch",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/nowhere/documents",
        &[(A, &alice_basic)],
        403,
        "tenant_mismatch",
    )
    .await;

    // 403 insufficient_permission and insufficient_scope.
    s.expect(
        Method::DELETE,
        "/orgs/acme/documents/welcome",
        &[(A, &basic("bob", "bob-pass"))],
        403,
        "insufficient_permission",
    )
    .await;
    s.expect(
        Method::POST,
        "/orgs/acme/documents",
        &[(A, &basic("grace", "p@ss:wörd"))],
        403,
        "insufficient_permission",
    )
    .await;
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
    s.expect(g.clone(), "/orgs/acme/documents", &[(A, &scoped)], 200, "")
        .await;
    let bob_scoped = hs(&with(
        claims("bob"),
        "scope",
        json!("documents:read documents:delete"),
    ));
    s.expect(
        Method::DELETE,
        "/orgs/acme/documents/welcome",
        &[(A, &bob_scoped)],
        403,
        "insufficient_permission",
    )
    .await;

    // 403 not_shared; 403 read_only; 404 after membership is known.
    s.expect(
        g.clone(),
        "/orgs/acme/documents/roadmap",
        &[(A, &basic("bob", "bob-pass"))],
        403,
        "not_shared",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents/roadmap",
        &[(A, &basic("carol", "carol-pass"))],
        403,
        "not_shared",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents/roadmap",
        &[(A, &alice_basic)],
        200,
        "",
    )
    .await;
    s.expect(
        Method::PUT,
        "/orgs/acme/documents/handbook-2019",
        &[(A, &alice_basic)],
        403,
        "read_only",
    )
    .await;
    s.expect(
        Method::DELETE,
        "/orgs/acme/documents/handbook-2019",
        &[(A, &alice_basic)],
        403,
        "read_only",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents/handbook-2019",
        &[(A, &alice_basic)],
        200,
        "",
    )
    .await;
    assert_eq!(
        s.get("/orgs/acme/documents/nope", &[(A, &alice_basic)])
            .await
            .status,
        404
    );
    s.expect(
        g.clone(),
        "/orgs/globex/documents/nope",
        &[(A, &alice_basic)],
        403,
        "tenant_mismatch",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/acme/documents/plans",
        &[(A, &alice_basic)],
        404,
        "not_found",
    )
    .await;

    // Unknown routes are 404 whatever the credentials.
    assert_eq!(s.get("/nope", &[]).await.status, 404);
    assert_eq!(s.get("/nope", &[(A, &alice_basic)]).await.status, 404);
    assert_eq!(s.get("/nope", &[(A, "Bearer garbage")]).await.status, 404);

    // The API key (a service principal with documents:read in acme only).
    let key = [("x-api-key", "demo-reporter-key")];
    let r = s.expect(g.clone(), "/me", &key, 200, "").await;
    assert_eq!(r.body["sub"], "svc-reporter");
    s.expect(g.clone(), "/orgs/acme/documents", &key, 200, "")
        .await;
    s.expect(g.clone(), "/orgs/acme/documents/welcome", &key, 200, "")
        .await;
    s.expect(
        Method::POST,
        "/orgs/acme/documents",
        &key,
        403,
        "insufficient_permission",
    )
    .await;
    s.expect(
        g.clone(),
        "/orgs/globex/documents",
        &key,
        403,
        "tenant_mismatch",
    )
    .await;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problem_bodies_never_echo_credentials() {
    let s = start().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_section_5_sessions_and_mfa() {
    let s = start().await;
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
    s.expect(
        g.clone(),
        "/orgs/acme/documents/roadmap",
        &[("cookie", &alice)],
        200,
        "",
    )
    .await;
    s.expect(
        g.clone(),
        "/admin/audit",
        &[("cookie", &alice)],
        403,
        "elevation_required",
    )
    .await;

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
    s.expect(g.clone(), "/me", &[("cookie", &alice2)], 200, "")
        .await;

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
        s.expect(
            g.clone(),
            path,
            &[("cookie", &pending)],
            401,
            "mfa_required",
        )
        .await;
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
    s.expect(
        g.clone(),
        "/me",
        &[("cookie", &pending)],
        401,
        "session_invalid",
    )
    .await;
    s.expect(g.clone(), "/admin/audit", &[("cookie", &erin)], 200, "")
        .await;
    s.expect(
        post.clone(),
        "/admin/keys/rotate",
        &[("cookie", &erin)],
        200,
        "",
    )
    .await;
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
    s.expect(
        g.clone(),
        "/me",
        &[("cookie", &pending2)],
        401,
        "session_invalid",
    )
    .await;
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
    s.expect(
        g.clone(),
        "/admin/audit",
        &[("cookie", &erin)],
        401,
        "session_invalid",
    )
    .await;
    s.expect(
        g.clone(),
        "/me",
        &[("cookie", "bouncer_session=not-a-session")],
        401,
        "session_invalid",
    )
    .await;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_redis_and_survive_its_outage() {
    let mut redis = bouncer_test::RedisServer::start().unwrap();
    let a = start_with(Some(redis.url())).await;
    let b = start_with(Some(redis.url())).await;
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attack_suite_is_always_refused() {
    let s = start().await;
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
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrelated_cookies_are_not_session_credentials() {
    let s = start().await;
    for cookie in [
        "my_bouncer_session=x",
        "theme=dark; prefs=bouncer_session",
        "bouncer_sessionx=1",
    ] {
        s.expect(
            Method::GET,
            "/me",
            &[("cookie", cookie)],
            401,
            "missing_credentials",
        )
        .await;
        s.expect(
            Method::GET,
            "/orgs/acme/documents",
            &[("cookie", cookie), (A, &basic("bob", "bob-pass"))],
            200,
            "",
        )
        .await;
    }
    s.expect(
        Method::GET,
        "/me",
        &[("cookie", "theme=dark; bouncer_session=nope")],
        401,
        "session_invalid",
    )
    .await;
}

/// `BOUNCER_DEMO_JWKS` trusts only public keys: symmetric keys in the file
/// (an empty `k` included) never verify a token, and the file's public keys
/// still do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_jwks_with_symmetric_keys_trusts_only_its_public_keys() {
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
    let s = start_config(app::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        secret: app::DEFAULT_DEMO_SECRET.into(),
        jwks: Some(path),
        policy: app::default_policy_path(),
        redis: None,
    })
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
