//! `bouncer serve` on its own: start-up, shared state across instances,
//! and who may describe a request.
#![allow(missing_docs, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::process::Command;

use bouncer_test::RedisServer;
use http::{Method, StatusCode};
use serde_json::json;
use support::*;

async fn ask(http: &Http, b: &Bouncer, method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut h = headers.to_vec();
    h.push(("x-original-method", method));
    h.push(("x-original-uri", uri));
    http.send(Method::GET, &format!("{}/auth", b.base()), &h, None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_share_logouts_and_sessions() {
    let dir = scratch("instances");
    let redis = RedisServer::start().unwrap();
    let a = Bouncer::start(&dir, Some(&redis.url()));
    let b = Bouncer::start(&dir, Some(&redis.url()));
    let http = Http::default();

    let r = http
        .send(Method::GET, &format!("{}/health", a.base()), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // A token logged out through one instance is revoked on the other.
    let auth = bearer(&token("alice"));
    for instance in [&a, &b] {
        let r = ask(&http, instance, "GET", "/me", &[("authorization", &auth)]).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.headers["x-bouncer-subject"], "alice");
        assert_eq!(r.headers["x-bouncer-scheme"], "bearer");
    }
    let r = http
        .send(
            Method::POST,
            &format!("{}/logout", a.base()),
            &[("authorization", &auth)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let r = ask(&http, &b, "GET", "/me", &[("authorization", &auth)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.code(), "token_revoked");

    // A session started on one instance works on the other, and ends on both.
    let r = http
        .send(
            Method::POST,
            &format!("{}/login", a.base()),
            &[],
            Some(json!({ "username": "bob", "password": "bob-pass" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let cookie = r.cookie();
    let r = ask(
        &http,
        &b,
        "GET",
        "/orgs/acme/documents",
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.headers["x-bouncer-scheme"], "session");
    let r = http
        .send(
            Method::POST,
            &format!("{}/logout", b.base()),
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let r = ask(&http, &a, "GET", "/me", &[("cookie", &cookie)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.code(), "session_invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_trusted_proxies_may_describe_a_request() {
    // The shipped files, but the policy trusts no loopback proxy.
    let dir = scratch("untrusted");
    let quickstart = forward_auth_dir().join("../quickstart");
    let policy = read(&quickstart.join("policy.toml")).replace(
        r#"trusted_proxies = ["127.0.0.0/8", "::1/128"]"#,
        r#"trusted_proxies = ["192.0.2.0/24"]"#,
    );
    assert!(policy.contains("192.0.2.0/24"));
    std::fs::write(dir.join("policy.toml"), policy).unwrap();
    let config = read(&forward_auth_dir().join("bouncer.toml"))
        .replace(r#""../quickstart/policy.toml""#, r#""policy.toml""#)
        .replace(
            r#""../quickstart/demo-keys/jwks.json""#,
            &format!("{:?}", quickstart.join("demo-keys/jwks.json")),
        );
    std::fs::write(dir.join("bouncer.toml"), config).unwrap();
    let b = Bouncer::start_with(&dir, &dir.join("bouncer.toml"), None);
    let http = Http::default();

    let alice = basic("alice", "alice-pass");
    for (method, url, headers) in [
        (
            Method::GET,
            format!("{}/auth", b.base()),
            vec![
                ("x-original-method", "GET"),
                ("x-original-uri", "/me"),
                ("authorization", alice.as_str()),
            ],
        ),
        (
            Method::GET,
            format!("{}/auth", b.base()),
            vec![
                ("x-forwarded-method", "GET"),
                ("x-forwarded-uri", "/health"),
            ],
        ),
        (Method::GET, format!("{}/auth", b.base()), vec![]),
        (Method::GET, format!("{}/envoy/health", b.base()), vec![]),
        (
            Method::DELETE,
            format!("{}/envoy/me", b.base()),
            vec![("authorization", alice.as_str())],
        ),
    ] {
        let r = http.send(method, &url, &headers, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{url}: {r:?}");
        assert_eq!(r.code(), "ip_blocked", "{url}");
        assert!(r.headers.get("x-bouncer-subject").is_none());
    }
    // Its own endpoints are no description: a client may log in directly.
    let r = http
        .send(
            Method::POST,
            &format!("{}/login", b.base()),
            &[("authorization", &alice)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_described_request_from_a_trusted_proxy_must_be_whole_and_single() {
    let dir = scratch("describer");
    let b = Bouncer::start(&dir, None);
    let http = Http::default();
    for headers in [
        vec![],
        vec![("x-original-uri", "/me")],
        vec![
            ("x-original-method", "GET"),
            ("x-original-uri", "/me"),
            ("x-forwarded-uri", "/health"),
        ],
        vec![("x-original-method", "GET"), ("x-original-uri", "me")],
    ] {
        let r = http
            .send(Method::GET, &format!("{}/auth", b.base()), &headers, None)
            .await;
        assert_eq!(
            r.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{headers:?}: {r:?}"
        );
        assert_eq!(r.code(), "internal_error");
    }
    // Unknown service paths are 404; so is an unknown route.
    let r = http
        .send(Method::GET, &format!("{}/nope", b.base()), &[], None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = ask(&http, &b, "GET", "/nope", &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
    // A CORS preflight of a known route needs no credentials.
    let r = ask(
        &http,
        &b,
        "OPTIONS",
        "/orgs/acme/documents",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.headers.get("x-bouncer-subject").is_none());
}

#[test]
fn a_bad_file_is_refused_at_start_with_its_place() {
    let dir = scratch("badconfig");
    let file = dir.join("bouncer.toml");
    std::fs::write(
        &file,
        "policy = \"../quickstart/policy.toml\"\n[basic]\n\n[[routes]]\npath = \"/me\"\nschemes = [\"bearer\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bouncer"))
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:6:12: the scheme `bearer` is not configured",
            file.display()
        )),
        "{stderr}"
    );
    // A policy file that cannot be read is named too.
    std::fs::write(&file, "policy = \"missing.toml\"\n[basic]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bouncer"))
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing.toml"), "{stderr}");
}

/// An RS256 demo token (the quickstart's demo RSA key, `kid` demo-rsa).
fn rs256(claims: serde_json::Value) -> String {
    let pem = std::fs::read(forward_auth_dir().join("../quickstart/demo-keys/rsa.pem")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("demo-rsa".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_discovery_keys_and_an_hmac_secret_work_side_by_side() {
    // A loopback OpenID provider: discovery document and JWKS.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let jwks = read(&forward_auth_dir().join("../quickstart/demo-keys/jwks.json"));
    let discovery = json!({ "issuer": issuer, "jwks_uri": format!("{issuer}/jwks") }).to_string();
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || async move { discovery }),
        )
        .route("/jwks", axum::routing::get(move || async move { jwks }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = scratch("discovery");
    let policy = forward_auth_dir().join("../quickstart/policy.toml");
    std::fs::write(
        dir.join("bouncer.toml"),
        format!(
            r#"policy = {policy:?}
[jwt]
issuer = "{issuer}"
audience = "https://api.bouncer.test"
hmac = {{ secret = "{DEFAULT_DEMO_SECRET}" }}
oidc_discovery = true

[[routes]]
methods = ["GET"]
path = "/me"
"#
        ),
    )
    .unwrap();
    let b = tokio::task::spawn_blocking(move || {
        Bouncer::start_with(&dir, &dir.join("bouncer.toml"), None)
    })
    .await
    .unwrap();
    let http = Http::default();

    let claims = |sub: &str| {
        json!({ "iss": issuer, "aud": "https://api.bouncer.test", "sub": sub,
                "exp": now() + 600, "jti": format!("{sub}-discovery") })
    };
    let hs = token_with("alice", json!({ "iss": issuer }));
    let r = ask(&http, &b, "GET", "/me", &[("authorization", &bearer(&hs))]).await;
    assert_eq!(r.status, StatusCode::OK, "HS256: {r:?}");
    assert_eq!(r.headers["x-bouncer-subject"], "alice");
    let rs = rs256(claims("bob"));
    let r = ask(&http, &b, "GET", "/me", &[("authorization", &bearer(&rs))]).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "RS256 from the discovered JWKS: {r:?}"
    );
    assert_eq!(r.headers["x-bouncer-subject"], "bob");
    // A token from another issuer is refused by either verifier.
    let other = rs256(
        json!({ "iss": "https://elsewhere.example", "aud": "https://api.bouncer.test",
                               "sub": "bob", "exp": now() + 600 }),
    );
    let r = ask(
        &http,
        &b,
        "GET",
        "/me",
        &[("authorization", &bearer(&other))],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.code(), "invalid_token");
    // Basic is not configured here: credentials of a scheme the route
    // does not accept.
    let r = ask(
        &http,
        &b,
        "GET",
        "/me",
        &[("authorization", &basic("alice", "alice-pass"))],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.code(), "unsupported_scheme");
}

/// Every denial names its decision: `instance` in the body is
/// `urn:bouncer:decision:<id>`, unique per decision, and the same id is in
/// that decision's `bouncer::decision` log line — for decisions of the
/// gate and for the service's own refusals alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_denial_names_its_decision_in_the_body_and_the_log() {
    let dir = scratch("decision-ids");
    let mut b = Bouncer::start(&dir, None);
    let http = Http::default();
    let mut ids = Vec::new();
    for (uri, headers, code) in [
        ("/me", vec![], "missing_credentials"),
        (
            "/orgs/globex/documents",
            vec![("authorization", basic("bob", "bob-pass"))],
            "tenant_mismatch",
        ),
        ("/nowhere", vec![], "not_found"),
        ("/.env", vec![], "blocked_path"),
    ] {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = ask(&http, &b, "GET", uri, &h).await;
        assert_eq!(r.code(), code, "{uri}: {r:?}");
        let instance = r.json()["instance"].as_str().unwrap().to_owned();
        let id = instance
            .strip_prefix("urn:bouncer:decision:")
            .unwrap_or_else(|| panic!("{uri}: instance {instance}"))
            .to_owned();
        assert!(bouncer_core::DecisionId::parse(&id).is_some(), "{id}");
        ids.push((uri, id));
    }
    // The service's own refusal (a login with a bad password) is named too.
    let r = http
        .send(
            Method::POST,
            &format!("{}/login", b.base()),
            &[("authorization", &basic("alice", "wrong"))],
            None,
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials", "{r:?}");
    let instance = r.json()["instance"].as_str().unwrap().to_owned();
    ids.push((
        "/login",
        instance
            .trim_start_matches("urn:bouncer:decision:")
            .to_owned(),
    ));
    let unique: std::collections::BTreeSet<&String> = ids.iter().map(|(_, id)| id).collect();
    assert_eq!(unique.len(), ids.len(), "one id per decision: {ids:?}");
    // The log line of each carries its id (the log is written as it goes).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let log = b.process.log();
        let missing: Vec<_> = ids
            .iter()
            .filter(|(_, id)| !log.contains(id.as_str()))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not in the decision log: {missing:?}\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    b.process.stop();
}
