//! End to end, from outside: the grpc-quickstart on a loopback port,
//! driven by a gRPC client that is not Rust (Python `grpcio`, installed
//! by `cargo xtask test` into `target/py-grpc`), checking status codes,
//! `www-authenticate` metadata and the decoded `ErrorInfo` for every
//! reason code that can arise over gRPC. The expected challenges are what
//! the HTTP quickstart sends for the same request, asked live; both
//! instances share one Redis, as the contract's logout sharing needs.
#![allow(unreachable_pub, missing_docs, dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../quickstart/app.rs"]
mod app;
#[path = "../quickstart/axum_routes.rs"]
mod axum_routes;
#[path = "../grpc-quickstart/service.rs"]
mod service;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use bouncer_test::token::TestToken;
use http::{Method, Request};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn python() -> PathBuf {
    let python = root().join("target/py-grpc/bin/python");
    assert!(
        python.exists(),
        "{} is missing: `cargo xtask test` installs the Python gRPC client",
        python.display()
    );
    python
}

/// A demo token (bouncer-test's `TestToken`, as `cargo xtask token` makes
/// them), signed with the demo secret.
fn demo(token: TestToken) -> String {
    signed(token, app::DEFAULT_DEMO_SECRET.as_bytes())
}

fn signed(token: TestToken, secret: &[u8]) -> String {
    let t = token
        .issuer(app::ISSUER)
        .audience(app::AUDIENCE)
        .sign_hs256(secret)
        .unwrap();
    format!("Bearer {t}")
}

fn basic(user: &str, pass: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {b}")
}

struct Servers {
    grpc: SocketAddr,
    http: String,
    _http: bouncer_test::matrix::LoopbackServer,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>,
}

async fn start(redis: &str) -> Servers {
    let config = app::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        secret: app::DEFAULT_DEMO_SECRET.into(),
        jwks: Some(root().join("examples/quickstart/demo-keys/jwks.json")),
        policy: app::default_policy_path(),
        redis: Some(redis.to_owned()),
        dpop: None,
    };
    let grpc = service::router(app::build(&config).unwrap()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc_addr = listener.local_addr().unwrap();
    tokio::spawn(
        grpc.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let http = bouncer_test::matrix::serve_loopback(
        axum_routes::router(app::build(&config).unwrap()).unwrap(),
    )
    .await
    .unwrap();
    Servers {
        grpc: grpc_addr,
        http: http.url(""),
        _http: http,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

/// One call of the Python client, and what it must see.
struct Case {
    name: &'static str,
    method: &'static str,
    metadata: Vec<(String, String)>,
    request: Value,
    code: &'static str,
    reason: Option<&'static str>,
    retry: bool,
    fields: Value,
    /// Compare the challenges with the HTTP quickstart's for this request.
    http_check: bool,
}

fn case(
    name: &'static str,
    method: &'static str,
    metadata: &[(&str, &str)],
    request: Value,
) -> Case {
    Case {
        name,
        method,
        metadata: metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        request,
        code: "OK",
        reason: None,
        retry: false,
        fields: json!({}),
        http_check: true,
    }
}

impl Case {
    fn denied(mut self, code: &'static str, reason: &'static str) -> Self {
        self.code = code;
        self.reason = Some(reason);
        self
    }
    fn unimplemented(mut self) -> Self {
        self.code = "UNIMPLEMENTED";
        self.http_check = false;
        self
    }
    fn ok(mut self, fields: Value) -> Self {
        self.fields = fields;
        self
    }
    fn retry(mut self) -> Self {
        self.retry = true;
        self.http_check = false;
        self
    }
    fn no_http(mut self) -> Self {
        self.http_check = false;
        self
    }
}

impl Servers {
    async fn http(
        &self,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        body: Option<Value>,
    ) -> (u16, Vec<String>, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.http));
        for (k, v) in headers {
            b = b.header(k, v);
        }
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Full::from(serde_json::to_vec(&v).unwrap())
            }
            None => Full::default(),
        };
        let res = self.client.request(b.body(body).unwrap()).await.unwrap();
        let status = res.status().as_u16();
        let challenges = res
            .headers()
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            challenges,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The HTTP route of a gRPC method (http-contract.md §4).
    async fn http_equivalent(&self, c: &Case) -> (u16, Vec<String>, Value) {
        let s = |k: &str| c.request[k].as_str().unwrap_or_default().to_owned();
        let doc = json!({ "title": s("title"), "content": s("content") });
        let (method, path, body) = match c.method {
            "Me" => (Method::GET, "/me".to_owned(), None),
            "ListDocuments" => (Method::GET, format!("/orgs/{}/documents", s("org")), None),
            "GetDocument" => (
                Method::GET,
                format!("/orgs/{}/documents/{}", s("org"), s("id")),
                None,
            ),
            "CreateDocument" => (
                Method::POST,
                format!("/orgs/{}/documents", s("org")),
                Some(doc),
            ),
            "UpdateDocument" => (
                Method::PUT,
                format!("/orgs/{}/documents/{}", s("org"), s("id")),
                Some(doc),
            ),
            "DeleteDocument" => (
                Method::DELETE,
                format!("/orgs/{}/documents/{}", s("org"), s("id")),
                None,
            ),
            "Audit" => (Method::GET, "/admin/audit".to_owned(), None),
            "Logout" => (Method::POST, "/logout".to_owned(), None),
            other => panic!("no HTTP route for {other}"),
        };
        self.http(method, &path, &c.metadata, body).await
    }

    /// Runs the Python client on `cases`; panics with its report if any
    /// case failed.
    async fn run_python(&self, cases: &[Case]) {
        let mut json_cases = Vec::new();
        for c in cases {
            let mut expect =
                json!({ "code": c.code, "reason": c.reason, "retry": c.retry, "fields": c.fields });
            if let (true, Some(reason)) = (c.http_check, c.reason) {
                let (status, challenges, body) = self.http_equivalent(c).await;
                assert_eq!(
                    body["code"], reason,
                    "{}: HTTP says {status} {body}",
                    c.name
                );
                expect["www_authenticate"] = json!(challenges);
                expect["message"] = body["detail"].clone();
            }
            json_cases.push(json!({
                "name": c.name, "method": c.method, "metadata": c.metadata,
                "request": c.request, "expect": expect,
            }));
        }
        let script = root().join("examples/tests/grpc_client.py");
        let descriptor = root().join("examples/grpc-quickstart/gen/descriptor.bin");
        let addr = self.grpc.to_string();
        let input = serde_json::to_vec(&json_cases).unwrap();
        let output = tokio::task::spawn_blocking(move || {
            let mut child = Command::new(python())
                .arg(script)
                .arg(addr)
                .arg(descriptor)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(&input).unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the Python client failed:\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            report.contains(&format!("{} passed, 0 failed", cases.len())),
            "{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_python_grpc_client_sees_the_contract() {
    let mut redis = bouncer_test::RedisServer::start().unwrap();
    let s = start(&redis.url()).await;

    let alice = demo(TestToken::new("alice"));
    let erin = demo(TestToken::new("erin"));
    let erin_mfa = demo(TestToken::new("erin").mfa());
    let scoped = demo(TestToken::new("alice").scope("documents:read"));
    let expired = demo(TestToken::new("alice").expires_in(-3600));
    let forged = signed(
        TestToken::new("alice"),
        b"another-secret-of-enough-length-0123456789",
    );
    // Revoked through the HTTP quickstart: the gRPC one sees it (one Redis).
    let revoked = demo(TestToken::new("bob"));
    let auth = |v: &str| ("authorization".to_owned(), v.to_owned());
    let (status, _, _) = s
        .http(Method::POST, "/logout", &[auth(&revoked)], None)
        .await;
    assert_eq!(status, 204);
    // Logged out over gRPC below; the HTTP quickstart must see it.
    let logout = demo(TestToken::new("carol"));

    let a = |v: &str| ("authorization", v.to_owned());
    let alice_b = basic("alice", "alice-pass");
    let org = |o: &str| json!({ "org": o });
    let doc = |o: &str, id: &str| json!({ "org": o, "id": id });
    let md = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Vec<_>>()
    };
    let mk = |name, method, pairs: &[(&str, String)], request| {
        let mut c = case(name, method, &[], request);
        c.metadata = md(pairs);
        c
    };
    let cases = vec![
        mk("missing credentials", "Me", &[], json!({}))
            .denied("UNAUTHENTICATED", "missing_credentials"),
        mk("malformed bearer", "Me", &[a("Bearer")], json!({}))
            .denied("UNAUTHENTICATED", "malformed_credentials"),
        mk("malformed basic", "Me", &[a("Basic !!!")], json!({}))
            .denied("UNAUTHENTICATED", "malformed_credentials"),
        mk("expired token", "Me", &[a(&expired)], json!({}))
            .denied("UNAUTHENTICATED", "token_expired"),
        mk("invalid token", "Me", &[a(&forged)], json!({}))
            .denied("UNAUTHENTICATED", "invalid_token"),
        mk("revoked token", "Me", &[a(&revoked)], json!({}))
            .denied("UNAUTHENTICATED", "token_revoked"),
        mk(
            "wrong password",
            "Me",
            &[a(&basic("alice", "wrong"))],
            json!({}),
        )
        .denied("UNAUTHENTICATED", "invalid_credentials"),
        mk(
            "unknown API key",
            "Me",
            &[("x-api-key", "nope".into())],
            json!({}),
        )
        .denied("UNAUTHENTICATED", "invalid_credentials"),
        mk(
            "API key",
            "ListDocuments",
            &[("x-api-key", "demo-reporter-key".into())],
            org("acme"),
        )
        .ok(json!({})),
        mk(
            "Basic where Bearer only",
            "Audit",
            &[a(&basic("erin", "erin-pass"))],
            json!({}),
        )
        .denied("UNAUTHENTICATED", "unsupported_scheme"),
        mk("step-up", "Audit", &[a(&erin)], json!({})).denied("UNAUTHENTICATED", "mfa_required"),
        mk("step-up done", "Audit", &[a(&erin_mfa)], json!({}))
            .ok(json!({ "requested_by": "erin" })),
        mk(
            "suspended",
            "Me",
            &[a(&basic("dave", "dave-pass"))],
            json!({}),
        )
        .denied("PERMISSION_DENIED", "account_suspended"),
        mk(
            "tenant mismatch",
            "ListDocuments",
            &[a(&alice)],
            org("globex"),
        )
        .denied("PERMISSION_DENIED", "tenant_mismatch"),
        mk("elevation", "Audit", &[a(&alice)], json!({}))
            .denied("PERMISSION_DENIED", "elevation_required"),
        mk(
            "insufficient permission",
            "DeleteDocument",
            &[a(&basic("bob", "bob-pass"))],
            doc("acme", "welcome"),
        )
        .denied("PERMISSION_DENIED", "insufficient_permission"),
        mk(
            "insufficient scope",
            "CreateDocument",
            &[a(&scoped)],
            json!({ "org": "acme", "title": "t", "content": "c" }),
        )
        .denied("PERMISSION_DENIED", "insufficient_scope"),
        mk(
            "scope allows reading",
            "GetDocument",
            &[a(&scoped)],
            doc("acme", "welcome"),
        )
        .ok(json!({ "id": "welcome" })),
        mk(
            "not shared",
            "GetDocument",
            &[a(&basic("carol", "carol-pass"))],
            doc("acme", "roadmap"),
        )
        .denied("PERMISSION_DENIED", "not_shared"),
        mk(
            "shared",
            "GetDocument",
            &[a(&alice_b)],
            doc("acme", "roadmap"),
        )
        .ok(json!({ "id": "roadmap" })),
        mk(
            "read-only",
            "UpdateDocument",
            &[a(&alice_b)],
            json!({ "org": "acme", "id": "handbook-2019", "title": "t", "content": "c" }),
        )
        .denied("PERMISSION_DENIED", "read_only"),
        mk(
            "read-only can be read",
            "GetDocument",
            &[a(&alice_b)],
            doc("acme", "handbook-2019"),
        )
        .ok(json!({ "id": "handbook-2019" })),
        mk(
            "blocked IP via the trusted proxy",
            "Me",
            &[a(&alice), ("x-forwarded-for", "203.0.113.7".into())],
            json!({}),
        )
        .denied("PERMISSION_DENIED", "ip_blocked"),
        mk(
            "blocked country",
            "Me",
            &[a(&alice), ("cf-ipcountry", "ZZ".into())],
            json!({}),
        )
        .denied("PERMISSION_DENIED", "geo_blocked"),
        mk(
            "absent document",
            "GetDocument",
            &[a(&alice)],
            doc("acme", "nothing"),
        )
        .denied("NOT_FOUND", "not_found")
        .no_http(),
        mk("me", "Me", &[a(&alice)], json!({})).ok(json!({ "sub": "alice" })),
        mk(
            "create",
            "CreateDocument",
            &[a(&alice)],
            json!({ "org": "acme", "title": "t", "content": "c" }),
        )
        .ok(json!({})),
        mk(
            "unknown method, anonymous",
            "/bouncer.quickstart.v1.Documents/Nope",
            &[],
            json!({}),
        )
        .unimplemented(),
        mk(
            "unknown method, with a token",
            "/bouncer.quickstart.v1.Documents/Nope",
            &[a(&alice)],
            json!({}),
        )
        .unimplemented(),
        mk(
            "unknown service, expired token",
            "/other.v1.Service/Me",
            &[a(&expired)],
            json!({}),
        )
        .unimplemented(),
        mk("logout", "Logout", &[a(&logout)], json!({})).ok(json!({})),
        mk("logged out", "Me", &[a(&logout)], json!({}))
            .denied("UNAUTHENTICATED", "token_revoked")
            .no_http(),
    ];
    s.run_python(&cases).await;

    // The gRPC logout is seen by the HTTP quickstart (one Redis).
    let (status, _, body) = s.http(Method::GET, "/me", &[auth(&logout)], None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );

    // Redis down: Bearer needs it (UNAVAILABLE with RetryInfo), Basic does not.
    redis.stop();
    let down = vec![
        mk("Redis down, bearer", "Me", &[a(&alice)], json!({}))
            .denied("UNAVAILABLE", "service_unavailable")
            .retry(),
        mk("Redis down, basic", "Me", &[a(&alice_b)], json!({})).ok(json!({ "sub": "alice" })),
    ];
    s.run_python(&down).await;
    redis.restart().unwrap();
}
