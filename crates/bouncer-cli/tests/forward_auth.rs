//! The decision service behind the real proxies, on loopback: nginx,
//! Caddy, Traefik and Envoy (HTTP and gRPC ext_authz), each configured
//! from `examples/forward-auth/`, in front of a counting upstream, with
//! `bouncer serve` running the shipped `bouncer.toml` and a throwaway Redis.
//!
//! Every proxy gets the same matrix: the client must see bouncer's own
//! answer (status, every `WWW-Authenticate`, `Retry-After`, the problem
//! body byte for byte, as bouncer answers the same request asked
//! directly), the upstream must see nothing of a denied request, and an
//! allowed one must reach it with bouncer's identity headers and none of
//! the client's.
//!
//! A missing proxy binary fails its test, saying that `cargo xtask test`
//! installs it.
#![allow(missing_docs, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use bouncer_test::RedisServer;
use http::{Method, StatusCode};
use serde_json::json;
use support::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nginx,
    Caddy,
    Traefik,
    EnvoyHttp,
    EnvoyGrpc,
}

struct Proxy {
    kind: Kind,
    port: u16,
    _process: Process,
}

impl Proxy {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn template(name: &str) -> String {
    read(&forward_auth_dir().join(name))
}

fn start_proxy(kind: Kind, dir: &Path, bouncer: &Bouncer, upstream: &Upstream) -> Proxy {
    let port = free_port();
    let vars: HashMap<&str, String> = HashMap::from([
        ("LISTEN_PORT", port.to_string()),
        ("BOUNCER_PORT", bouncer.http.port().to_string()),
        ("BOUNCER_GRPC_PORT", bouncer.grpc.port().to_string()),
        ("UPSTREAM_PORT", upstream.port.to_string()),
    ]);
    let write = |from: &str, to: &str| {
        std::fs::write(dir.join(to), fill(&template(from), &vars)).unwrap();
    };
    let log = |name: &str| dir.join(format!("{name}.log"));
    let process = match kind {
        Kind::Nginx => {
            write("nginx.conf.template", "nginx.conf");
            let mut cmd = Command::new(binary("nginx"));
            cmd.arg("-p")
                .arg(dir)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .args(["-e", "stderr", "-g", "daemon off;"]);
            Process::spawn("nginx", cmd, log("nginx"))
        }
        Kind::Caddy => {
            write("Caddyfile.template", "Caddyfile");
            let mut cmd = Command::new(binary("caddy"));
            cmd.args(["run", "--adapter", "caddyfile", "--config"])
                .arg(dir.join("Caddyfile"))
                .env("XDG_DATA_HOME", dir)
                .env("XDG_CONFIG_HOME", dir)
                .env("HOME", dir);
            Process::spawn("caddy", cmd, log("caddy"))
        }
        Kind::Traefik => {
            write("traefik.yml.template", "traefik.yml");
            write("traefik-dynamic.yml.template", "traefik-dynamic.yml");
            let mut cmd = Command::new(binary("traefik"));
            cmd.arg("--configFile=traefik.yml").current_dir(dir);
            Process::spawn("traefik", cmd, log("traefik"))
        }
        Kind::EnvoyHttp | Kind::EnvoyGrpc => {
            let from = if kind == Kind::EnvoyHttp {
                "envoy-http.yaml.template"
            } else {
                "envoy-grpc.yaml.template"
            };
            write(from, "envoy.yaml");
            let mut cmd = Command::new(binary("envoy"));
            cmd.arg("-c").arg(dir.join("envoy.yaml")).args([
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "-l",
                "warn",
            ]);
            Process::spawn("envoy", cmd, log("envoy"))
        }
    };
    let mut proxy = Proxy {
        kind,
        port,
        _process: process,
    };
    wait_for_port(port, &mut proxy._process);
    proxy
}

/// Waits until the proxy routes a public request to the upstream (Traefik
/// and Envoy listen before their routes are in place), then zeroes the
/// upstream's count.
async fn wait_until_routed(http: &Http, proxy: &Proxy, upstream: &Upstream) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = http
            .send(Method::GET, &format!("{}/health", proxy.base()), &[], None)
            .await;
        if r.status == StatusCode::OK && r.json()["upstream"] == true {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{:?} never routed /health: {r:?}",
            proxy.kind
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    upstream.reset();
}

struct Stack {
    dir: std::path::PathBuf,
    http: Http,
    redis: RedisServer,
    bouncer: Bouncer,
    upstream: Upstream,
    proxy: Proxy,
}

impl Drop for Stack {
    /// Keeps the configurations and logs of a failed test only.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Stack {
    async fn start(kind: Kind) -> Self {
        let dir = scratch(&format!("{kind:?}").to_lowercase());
        let redis = RedisServer::start().unwrap();
        let bouncer = Bouncer::start(&dir, Some(&redis.url()));
        let upstream = Upstream::start().await;
        let proxy = start_proxy(kind, &dir, &bouncer, &upstream);
        let http = Http::default();
        wait_until_routed(&http, &proxy, &upstream).await;
        Self {
            dir,
            http,
            redis,
            bouncer,
            upstream,
            proxy,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Reply {
        self.http
            .send(
                method,
                &format!("{}{path}", self.proxy.base()),
                headers,
                body,
            )
            .await
    }

    /// bouncer's own answer to the same request, asked directly (as nginx
    /// would, from loopback).
    async fn direct(&self, method: &Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        h.push(("x-original-method", method.as_str()));
        h.push(("x-original-uri", path));
        self.http
            .send(
                Method::GET,
                &format!("{}/auth", self.bouncer.base()),
                &h,
                None,
            )
            .await
    }

    /// A denial through the proxy: status and code, nothing upstream, and
    /// exactly what bouncer answers directly.
    async fn denied(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        status: u16,
        code: &str,
    ) -> Reply {
        let before = self.upstream.hits();
        let r = self.send(method.clone(), path, headers, None).await;
        let kind = self.proxy.kind;
        assert_eq!(r.status.as_u16(), status, "{kind:?} {method} {path}: {r:?}");
        assert_eq!(r.code(), code, "{kind:?} {method} {path}: {r:?}");
        assert_eq!(
            self.upstream.hits(),
            before,
            "{kind:?} {method} {path}: a denied request reached the upstream"
        );
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{kind:?} {path}"
        );
        assert_eq!(r.json()["status"], status, "{kind:?} {path}");
        if status == 401 {
            assert!(
                !r.challenges().is_empty(),
                "{kind:?} {path}: 401 without challenge"
            );
        }
        let d = self.direct(&method, path, headers).await;
        assert_eq!(d.status, r.status, "{kind:?} {path}: direct {d:?}");
        // Byte for byte apart from `instance`, which names each decision.
        let Some((direct_id, direct)) = bouncer_core::render::split_instance(&d.body) else {
            panic!("{kind:?} {path}: bouncer's body without its decision id: {d:?}");
        };
        match bouncer_core::render::split_instance(&r.body) {
            Some((proxied_id, proxied)) => {
                assert_ne!(
                    direct_id, proxied_id,
                    "{kind:?} {path}: two decisions, one id"
                );
                assert_eq!(
                    direct, proxied,
                    "{kind:?} {path}: the body changed on the way"
                );
            }
            // Envoy's HTTP mode throws away an auth service's 5xx; the
            // template's local reply stands in for it, without an id.
            None if kind == Kind::EnvoyHttp && status >= 500 => {
                assert_eq!(direct, r.body.to_vec(), "{kind:?} {path}: the local reply");
            }
            None => panic!("{kind:?} {path}: a body without its decision id: {r:?}"),
        }
        assert_eq!(
            d.challenges(),
            r.challenges(),
            "{kind:?} {path}: the challenges changed on the way"
        );
        assert_eq!(
            d.all("retry-after"),
            r.all("retry-after"),
            "{kind:?} {path}"
        );
        r
    }

    /// An allow through the proxy: the upstream's answer, one request
    /// upstream, carrying bouncer's identity headers only.
    async fn allowed(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
        identity: (&str, Option<&str>, &str),
    ) {
        let kind = self.proxy.kind;
        let before = self.upstream.hits();
        let sent = body.as_ref().map(|b| serde_json::to_vec(b).unwrap());
        let r = self.send(method.clone(), path, headers, body).await;
        assert_eq!(r.status, StatusCode::OK, "{kind:?} {method} {path}: {r:?}");
        if let Some(sent) = sent {
            assert_eq!(
                self.upstream.last_body(),
                sent,
                "{kind:?} {path}: the body did not reach the upstream whole"
            );
        }
        assert_eq!(r.json()["upstream"], true, "{kind:?} {path}: {r:?}");
        assert_eq!(self.upstream.hits(), before + 1, "{kind:?} {path}");
        let seen = self.upstream.last_headers();
        let one = |name: &str| {
            let all: Vec<_> = seen
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            assert!(
                all.len() <= 1,
                "{kind:?} {path}: {name} twice upstream: {all:?}"
            );
            all.into_iter().next()
        };
        let (subject, organization, scheme) = identity;
        assert_eq!(
            one("x-bouncer-subject").as_deref(),
            Some(subject),
            "{kind:?} {path}: {seen:?}"
        );
        assert_eq!(
            one("x-bouncer-organization").as_deref(),
            organization,
            "{kind:?} {path}: {seen:?}"
        );
        assert_eq!(
            one("x-bouncer-scheme").as_deref(),
            Some(scheme),
            "{kind:?} {path}: {seen:?}"
        );
    }
}

/// Forged identity headers a client might send.
const FORGED: [(&str, &str); 3] = [
    ("x-bouncer-subject", "mallory"),
    ("x-bouncer-organization", "evil"),
    ("x-bouncer-scheme", "forged"),
];

fn with<'a>(base: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

async fn matrix(kind: Kind) {
    let mut s = Stack::start(kind).await;
    let started = Instant::now();

    // Allowed, with forged identity headers stripped or replaced.
    let alice = basic("alice", "alice-pass");
    s.allowed(
        Method::GET,
        "/orgs/acme/documents",
        &with(&[("authorization", &alice)], &FORGED),
        None,
        ("alice", Some("acme"), "basic"),
    )
    .await;
    // No organization: the client's X-Bouncer-Organization must not pass.
    s.allowed(
        Method::GET,
        "/me",
        &with(&[("x-api-key", "demo-reporter-key")], &FORGED),
        None,
        ("svc-reporter", None, "api_key"),
    )
    .await;
    let alice_token = token_with("alice", json!({ "organization_id": "acme" }));
    s.allowed(
        Method::POST,
        "/orgs/acme/documents",
        &[("authorization", &bearer(&alice_token))],
        Some(json!({ "title": "t", "content": "c" })),
        ("alice", Some("acme"), "bearer"),
    )
    .await;
    // Public: no identity at all upstream, even a forged one.
    let before = s.upstream.hits();
    let r = s
        .send(Method::GET, "/static/readme.txt", &FORGED, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{kind:?}: {r:?}");
    assert_eq!(s.upstream.hits(), before + 1);
    let seen = s.upstream.last_headers();
    for (name, _) in FORGED {
        assert!(
            seen.get(name).is_none(),
            "{kind:?}: forged {name} reached the upstream: {seen:?}"
        );
    }

    // 401s.
    let r = s
        .denied(
            Method::GET,
            "/orgs/acme/documents",
            &[],
            401,
            "missing_credentials",
        )
        .await;
    let challenges = r.challenges();
    assert!(
        challenges.iter().any(|c| c.starts_with("Basic realm="))
            && challenges.iter().any(|c| c.starts_with("Bearer realm=")),
        "{kind:?}: {challenges:?}"
    );
    s.denied(
        Method::GET,
        "/me",
        &[("authorization", "Basic !!!")],
        401,
        "malformed_credentials",
    )
    .await;
    let expired = token_with("alice", json!({ "exp": now() - 3600 }));
    let r = s
        .denied(
            Method::GET,
            "/me",
            &[("authorization", &bearer(&expired))],
            401,
            "token_expired",
        )
        .await;
    assert!(
        r.challenges()
            .iter()
            .any(|c| c.contains("error=\"invalid_token\"")),
        "{kind:?}: {r:?}"
    );
    let wrong_aud = token_with("alice", json!({ "aud": "https://other.example" }));
    s.denied(
        Method::GET,
        "/me",
        &[("authorization", &bearer(&wrong_aud))],
        401,
        "invalid_token",
    )
    .await;
    s.denied(
        Method::GET,
        "/me",
        &[("authorization", "Basic YWxpY2U6bm9wZQ==")],
        401,
        "invalid_credentials",
    )
    .await;
    let erin = token("erin");
    let r = s
        .denied(
            Method::GET,
            "/admin/audit",
            &[("authorization", &bearer(&erin))],
            401,
            "mfa_required",
        )
        .await;
    assert!(
        r.challenges()
            .iter()
            .any(|c| c.contains("insufficient_user_authentication")
                && c.contains("acr_values=\"urn:logto:acr:mfa\"")),
        "{kind:?}: {r:?}"
    );

    // Revoked: logout through the proxy, then the same token.
    let revoked = token("bob");
    let auth = bearer(&revoked);
    s.allowed(
        Method::GET,
        "/me",
        &[("authorization", &auth)],
        None,
        ("bob", None, "bearer"),
    )
    .await;
    let before = s.upstream.hits();
    let r = s
        .send(Method::POST, "/logout", &[("authorization", &auth)], None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{kind:?}: {r:?}");
    assert_eq!(
        s.upstream.hits(),
        before,
        "{kind:?}: /logout reached the upstream"
    );
    s.denied(
        Method::GET,
        "/me",
        &[("authorization", &auth)],
        401,
        "token_revoked",
    )
    .await;

    // Sessions: erin's login is MFA pending until /login/mfa.
    let r = s
        .send(
            Method::POST,
            "/login",
            &[("authorization", &basic("erin", "erin-pass"))],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{kind:?}: {r:?}");
    let pending = r.cookie();
    s.denied(
        Method::GET,
        "/me",
        &[("cookie", &pending)],
        401,
        "mfa_required",
    )
    .await;
    let r = s
        .send(
            Method::POST,
            "/login/mfa",
            &[("cookie", &pending)],
            Some(json!({ "code": erin_code() })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{kind:?}: {r:?}");
    let session = r.cookie();
    s.allowed(
        Method::GET,
        "/admin/audit",
        &[("cookie", &session)],
        None,
        ("erin", None, "session"),
    )
    .await;
    let r = s
        .send(Method::POST, "/logout", &[("cookie", &session)], None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{kind:?}: {r:?}");
    s.denied(
        Method::GET,
        "/me",
        &[("cookie", &session)],
        401,
        "session_invalid",
    )
    .await;

    // 403s.
    s.denied(
        Method::DELETE,
        "/orgs/acme/documents/welcome",
        &[("authorization", &basic("bob", "bob-pass"))],
        403,
        "insufficient_permission",
    )
    .await;
    s.denied(
        Method::GET,
        "/orgs/globex/documents",
        &[("authorization", &bearer(&alice_token))],
        403,
        "tenant_mismatch",
    )
    .await;
    let read_only = token_with("alice", json!({ "scope": "documents:read" }));
    let r = s
        .denied(
            Method::POST,
            "/orgs/acme/documents",
            &[("authorization", &bearer(&read_only))],
            403,
            "insufficient_scope",
        )
        .await;
    assert!(
        r.challenges()
            .iter()
            .any(|c| c.contains("error=\"insufficient_scope\"")
                && c.contains("scope=\"documents:write\"")),
        "{kind:?}: {r:?}"
    );
    s.denied(
        Method::GET,
        "/orgs/acme/documents/roadmap",
        &[("authorization", &basic("carol", "carol-pass"))],
        403,
        "not_shared",
    )
    .await;
    s.denied(
        Method::PUT,
        "/orgs/acme/documents/handbook-2019",
        &[("authorization", &alice)],
        403,
        "read_only",
    )
    .await;
    s.denied(
        Method::GET,
        "/me",
        &[("authorization", &basic("dave", "dave-pass"))],
        403,
        "account_suspended",
    )
    .await;
    s.denied(
        Method::GET,
        "/orgs/acme/documents",
        &[
            ("authorization", &alice),
            ("x-forwarded-for", "203.0.113.7"),
        ],
        403,
        "ip_blocked",
    )
    .await;
    s.denied(Method::GET, "/.env", &[], 403, "blocked_path")
        .await;
    s.denied(
        Method::GET,
        "/.git/config",
        &[("authorization", &alice)],
        403,
        "blocked_path",
    )
    .await;

    // A client describing another request itself changes nothing.
    let before = s.upstream.hits();
    let forged_description = [
        ("x-original-method", "GET"),
        ("x-original-uri", "/health"),
        ("x-forwarded-method", "GET"),
        ("x-forwarded-uri", "/health"),
    ];
    let r = s
        .send(
            Method::GET,
            "/orgs/acme/documents",
            &forged_description,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{kind:?}: {r:?}");
    assert_eq!(r.code(), "missing_credentials", "{kind:?}: {r:?}");
    assert_eq!(s.upstream.hits(), before, "{kind:?}");

    // Unknown routes are 404 for every request the guards let through.
    s.denied(
        Method::GET,
        "/nope",
        &[("authorization", &alice)],
        404,
        "not_found",
    )
    .await;
    s.denied(Method::GET, "/nope", &[], 404, "not_found").await;

    // Redis down: 503 with Retry-After, never 401/403, never allow; back
    // by itself when Redis is.
    s.redis.stop();
    let fresh = token("alice");
    let r = s
        .denied(
            Method::GET,
            "/me",
            &[("authorization", &bearer(&fresh))],
            503,
            "service_unavailable",
        )
        .await;
    let retry: u64 = r
        .all("retry-after")
        .first()
        .expect("no Retry-After")
        .parse()
        .unwrap();
    assert!(retry >= 1, "{kind:?}: {r:?}");
    assert!(r.challenges().is_empty(), "{kind:?}: {r:?}");
    // Basic needs no Redis.
    s.allowed(
        Method::GET,
        "/me",
        &[("authorization", &alice)],
        None,
        ("alice", None, "basic"),
    )
    .await;
    s.redis.restart().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = s
            .send(
                Method::GET,
                "/me",
                &[("authorization", &bearer(&fresh))],
                None,
            )
            .await;
        if r.status == StatusCode::OK {
            break;
        }
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{kind:?}: {r:?}");
        assert!(
            Instant::now() < deadline,
            "{kind:?}: Redis came back, bouncer did not"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("{kind:?}: matrix in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_nginx() {
    matrix(Kind::Nginx).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_caddy() {
    matrix(Kind::Caddy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_traefik() {
    matrix(Kind::Traefik).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_envoy_http_ext_authz() {
    matrix(Kind::EnvoyHttp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_envoy_grpc_ext_authz() {
    matrix(Kind::EnvoyGrpc).await;
}
