//! The decision log and metrics of the quickstart over real HTTP
//! (`explain.md` §2–3), in a test binary of its own because both are
//! process-wide: the decision log as the quickstart prints it with
//! `BOUNCER_DECISION_LOG=json` never holds a credential used in the
//! requests (whole, or any 8 characters of one), and the Prometheus
//! counters served at `BOUNCER_METRICS_ADDR` equal the requests sent per
//! code, on both quickstarts.
#![allow(unreachable_pub, missing_docs, dead_code)]
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
#[path = "../quickstart/cli.rs"]
mod cli;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::Layer as _;

/// A method, a path, header fields, and the code expected.
type Case<'a> = (Method, &'a str, Vec<(&'a str, String)>, &'a str);

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<bytes::Bytes>>;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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

fn token(sub: &str, extra: Value, secret: &str) -> String {
    let mut claims = json!({
        "iss": app::ISSUER, "aud": app::AUDIENCE, "sub": sub,
        "exp": now() + 600, "iat": now(), "jti": format!("{sub}-{}", now()),
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn start(axum: bool) -> String {
    let config = app::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        secret: app::DEFAULT_DEMO_SECRET.into(),
        jwks: None,
        policy: app::default_policy_path(),
        redis: None,
        dpop: None,
    };
    let app = app::build(&config).unwrap();
    let addr = if axum {
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
        addr
    } else {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let (server, addr) = actix_routes::server(app, config.addr, Some(1)).unwrap();
                tx.send(addr).unwrap();
                server.await.unwrap();
            });
        });
        rx.recv().unwrap()
    };
    format!("http://{addr}")
}

struct Reply {
    status: u16,
    set_cookie: Option<String>,
    body: Value,
}

async fn send(
    client: &HttpClient,
    base: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut b = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
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
    let res = client.request(b.body(body).unwrap()).await.unwrap();
    let status = res.status().as_u16();
    let set_cookie = res
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        set_cookie,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// `bouncer_decisions_total` by `code`, from the Prometheus text.
fn counters(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("bouncer_decisions_total{") else {
            continue;
        };
        let (labels, value) = rest.split_once("} ").unwrap();
        let code = labels
            .split(',')
            .find_map(|l| l.strip_prefix("code=\""))
            .unwrap()
            .trim_end_matches('"');
        *out.entry(code.to_owned()).or_default() += value.trim().parse::<u64>().unwrap();
    }
    out
}

async fn scrape(client: &HttpClient, addr: SocketAddr) -> String {
    let req = Request::get(format!("http://{addr}/metrics"))
        .body(Full::default())
        .unwrap();
    let res = client.request(req).await.unwrap();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// One test: the subscriber and the metrics recorder are global.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_holds_no_credential_and_the_counters_equal_the_requests() {
    // The quickstart's JSON decision log, into a buffer.
    let log = Captured::default();
    let writer = log.clone();
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_writer(move || writer.clone())
        .with_filter(Targets::new().with_target(bouncer_core::logging::TARGET, LevelFilter::TRACE));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(json)).unwrap();
    // The quickstart's metrics listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::env::set_var("BOUNCER_METRICS_ADDR", format!("127.0.0.1:{port}"));
    let metrics = cli::init_metrics().unwrap().unwrap();

    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let secret = app::DEFAULT_DEMO_SECRET;
    let alice_token = token("alice", json!({}), secret);
    let erin_token = token("erin", json!({}), secret);
    let forged = token("alice", json!({}), "a-wrong-secret-that-is-long-enough-000");
    let scoped = token("alice", json!({"scope": "documents:read"}), secret);
    let passwords = [
        ("alice", "alice-pass"),
        ("bob", "bob-pass"),
        ("carol", "carol-pass"),
        ("dave", "dave-pass"),
        ("erin", "erin-pass"),
        ("grace", "p@ss:wörd"),
    ];
    let wrong_password = "not-the-password-42";
    let api_key = "demo-reporter-key";
    let wrong_key = "demo-reporter-wrong-key";
    let mut secrets: Vec<String> = vec![
        alice_token.clone(),
        erin_token.clone(),
        forged.clone(),
        scoped.clone(),
        wrong_password.into(),
        api_key.into(),
        wrong_key.into(),
        secret.into(),
    ];
    secrets.extend(passwords.iter().map(|(_, p)| (*p).to_owned()));

    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for axum in [true, false] {
        let base = start(axum).await;
        let get = Method::GET;
        let mut cases: Vec<Case<'_>> = Vec::new();
        for (user, pass) in passwords {
            cases.push((
                get.clone(),
                "/me",
                vec![("authorization", basic(user, pass))],
                if user == "dave" {
                    "account_suspended"
                } else {
                    "allow"
                },
            ));
            cases.push((
                get.clone(),
                "/me",
                vec![("authorization", basic(user, wrong_password))],
                "invalid_credentials",
            ));
        }
        cases.extend([
            (get.clone(), "/me", vec![], "missing_credentials"),
            (
                get.clone(),
                "/me",
                vec![("authorization", "Basic !!!".to_owned())],
                "malformed_credentials",
            ),
            (
                get.clone(),
                "/admin/audit",
                vec![("authorization", basic("erin", "erin-pass"))],
                "unsupported_scheme",
            ),
            (
                get.clone(),
                "/orgs/acme/documents",
                vec![("x-api-key", api_key.to_owned())],
                "allow",
            ),
            (
                get.clone(),
                "/orgs/acme/documents",
                vec![("x-api-key", wrong_key.to_owned())],
                "invalid_credentials",
            ),
            (
                get.clone(),
                "/me",
                vec![("authorization", format!("Bearer {alice_token}"))],
                "allow",
            ),
            (
                get.clone(),
                "/me",
                vec![("authorization", format!("Bearer {forged}"))],
                "invalid_token",
            ),
            (
                get.clone(),
                "/orgs/globex/documents",
                vec![("authorization", format!("Bearer {alice_token}"))],
                "tenant_mismatch",
            ),
            (
                Method::POST,
                "/orgs/acme/documents",
                vec![("authorization", format!("Bearer {scoped}"))],
                "insufficient_scope",
            ),
            (
                get.clone(),
                "/admin/audit",
                vec![("authorization", format!("Bearer {erin_token}"))],
                "mfa_required",
            ),
            (
                get.clone(),
                "/admin/audit",
                vec![("authorization", format!("Bearer {alice_token}"))],
                "elevation_required",
            ),
            (
                Method::DELETE,
                "/orgs/acme/documents/welcome",
                vec![("authorization", basic("bob", "bob-pass"))],
                "insufficient_permission",
            ),
            (
                get.clone(),
                "/orgs/acme/documents/roadmap",
                vec![("authorization", basic("carol", "carol-pass"))],
                "not_shared",
            ),
            (
                Method::PUT,
                "/orgs/acme/documents/handbook-2019",
                vec![("authorization", basic("alice", "alice-pass"))],
                "read_only",
            ),
            (get.clone(), "/.env", vec![], "blocked_path"),
            (
                get.clone(),
                "/me",
                vec![("x-forwarded-for", "203.0.113.7".to_owned())],
                "ip_blocked",
            ),
            (
                get.clone(),
                "/me",
                vec![("cf-ipcountry", "ZZ".to_owned())],
                "geo_blocked",
            ),
            (
                get.clone(),
                "/me",
                vec![("cookie", "bouncer_session=not-a-real-session-id".to_owned())],
                "session_invalid",
            ),
        ]);
        for (method, path, headers, code) in &cases {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = (*method == Method::POST || *method == Method::PUT)
                .then(|| json!({"title": "t", "content": "c"}));
            let r = send(&client, &base, method.clone(), path, &h, body).await;
            let got = if r.status < 300 {
                "allow"
            } else {
                r.body["code"].as_str().unwrap_or("?")
            };
            assert_eq!(got, *code, "{method} {path} {headers:?}");
            *expected.entry((*code).to_owned()).or_default() += 1;
        }
        // The counters equal the requests sent, per code; the decision
        // times are a histogram.
        let text = scrape(&client, metrics).await;
        assert_eq!(counters(&text), expected, "axum={axum}");
        assert!(
            text.contains(
                "bouncer_decision_duration_seconds_bucket{outcome=\"deny\",stage=\"authorization\",le="
            ),
            "{text}"
        );

        // Sessions: the cookie, the one-time code.
        let r = send(
            &client,
            &base,
            Method::POST,
            "/login",
            &[("authorization", &basic("erin", "erin-pass"))],
            None,
        )
        .await;
        assert_eq!(r.status, 204);
        let cookie = r.set_cookie.unwrap();
        let totp = bouncer_session::TotpSecret::from_base32("JBSWY3DPEHPK3PXP")
            .unwrap()
            .code_at(now());
        let r = send(
            &client,
            &base,
            Method::POST,
            "/login/mfa",
            &[("cookie", &cookie)],
            Some(json!({"code": totp})),
        )
        .await;
        assert_eq!(r.status, 204);
        // A new session id once MFA is complete (no fixation).
        secrets.push(cookie.split_once('=').unwrap().1.to_owned());
        let cookie = r.set_cookie.unwrap_or(cookie);
        let r = send(
            &client,
            &base,
            get.clone(),
            "/admin/audit",
            &[("cookie", &cookie)],
            None,
        )
        .await;
        assert_eq!(r.status, 200);
        let r = send(
            &client,
            &base,
            Method::POST,
            "/logout",
            &[("cookie", &cookie)],
            None,
        )
        .await;
        assert_eq!(r.status, 204);
        let r = send(
            &client,
            &base,
            get.clone(),
            "/me",
            &[("cookie", &cookie)],
            None,
        )
        .await;
        assert_eq!(r.body["code"], "session_invalid");
        secrets.push(cookie.split_once('=').unwrap().1.to_owned());
        // The counters moved for these too; start the next flavor's count
        // from what the exporter holds now.
        expected = counters(&scrape(&client, metrics).await);
    }

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let routes: Vec<String> = lines
        .iter()
        .map(|l| format!("{} {}", l["route"], l["code"]))
        .collect();
    assert!(lines.len() >= 66, "{routes:?}");
    for line in &lines {
        assert_eq!(line["target"], "bouncer::decision", "{line}");
        for field in ["decision_id", "outcome", "status", "code", "stage"] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
    }
    // A policy refusal names the policy file's entry behind it: bob's
    // membership of acme (`bob = ["viewer"]`, line 34).
    let refused = lines
        .iter()
        .find(|l| l["code"] == "insufficient_permission")
        .unwrap();
    assert!(
        refused["rule_file"]
            .as_str()
            .unwrap()
            .ends_with("policy.toml"),
        "{refused}"
    );
    assert_eq!(refused["rule_line"], 34, "{refused}");
    assert_eq!(refused["rule"], "bob = [\"viewer\"]", "{refused}");
    assert_eq!(refused["subject"], "bob", "{refused}");
    // A route pattern, never a raw path.
    assert!(lines.iter().any(|l| l["route"] == "/orgs/{org}/documents"));
    assert!(
        !text.contains("/orgs/acme/documents/handbook-2019"),
        "raw paths are not logged"
    );
    // Subjects are logged by design, and an API key's public prefix may be
    // (explain.md §2): they are no credential, even where a demo key's
    // text happens to share letters with one (`demo-reporter-key`,
    // `svc-reporter`).
    let mut text = text;
    for public in ["svc-reporter", "demo-rep"] {
        text = text.replace(public, "");
    }
    for s in &secrets {
        assert!(
            !text.contains(s.as_str()),
            "a credential is in the log: {s}"
        );
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(8) {
            let part: String = w.iter().collect();
            assert!(
                !text.contains(&part),
                "8 characters of a credential ({part:?} of {s:?}) are in the log"
            );
        }
    }
}
