//! `bouncer explain`, `bouncer policy` and `bouncer token` (`explain.md`
//! §4–5) on real answers: every reason code as `bouncer serve` (the
//! quickstart's configuration) answers it over HTTP, captured as `curl
//! -si` prints it, explained with the right code, stage and a fix;
//! responses of other shapes flagged; `bouncer policy query` agreeing with
//! the server on every policy decision of the end-to-end tables.
#![allow(missing_docs, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::Write as _;
use std::process::{Command, Stdio};

use http::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

/// A reason code, the request that gets it, and its deciding stage.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

async fn ask(http: &Http, b: &Bouncer, method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut h = headers.to_vec();
    h.push(("x-original-method", method));
    h.push(("x-original-uri", uri));
    http.send(Method::GET, &format!("{}/auth", b.base()), &h, None)
        .await
}

/// The reply as `curl -si` prints it.
fn curl_si(r: &Reply) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        r.status.as_u16(),
        r.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &r.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&r.body);
    out
}

/// `bouncer ARGS` with `stdin`: exit status and stdout.
fn bouncer(args: &[&str], stdin: &[u8]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bouncer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn explain_json(raw: &[u8]) -> Value {
    let (status, out) = bouncer(&["explain", "--json"], raw);
    assert_eq!(status, 0, "{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reason_code_of_the_service_is_explained_with_its_stage_and_a_fix() {
    let dir = scratch("explain");
    let b = Bouncer::start(&dir, None);
    let http = Http::default();
    let alice = basic("alice", "alice-pass");
    let bob = basic("bob", "bob-pass");
    let carol = basic("carol", "carol-pass");
    let dave = basic("dave", "dave-pass");
    let wrong = basic("alice", "wrong");
    let erin_token = bearer(&token("erin"));
    let alice_token = bearer(&token("alice"));
    let expired = bearer(&token_with(
        "alice",
        json!({"iat": now() - 7200, "exp": now() - 3600}),
    ));
    let scoped = bearer(&token_with("alice", json!({"scope": "documents:read"})));
    // A revoked token: logged out first.
    let revoked = bearer(&token("bob"));
    let r = http
        .send(
            Method::POST,
            &format!("{}/logout", b.base()),
            &[("authorization", &revoked)],
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    // erin's session: MFA pending.
    let r = http
        .send(
            Method::POST,
            &format!("{}/login", b.base()),
            &[],
            Some(json!({"username": "erin", "password": "erin-pass"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    let pending = r.cookie();

    let cases: Vec<Case<'_>> = vec![
        (
            "missing_credentials",
            "GET",
            "/me",
            vec![],
            "authentication",
        ),
        (
            "malformed_credentials",
            "GET",
            "/me",
            vec![("authorization", "Basic !!!")],
            "authentication",
        ),
        (
            "unsupported_scheme",
            "GET",
            "/admin/audit",
            vec![("authorization", &alice)],
            "authentication",
        ),
        (
            "invalid_credentials",
            "GET",
            "/me",
            vec![("authorization", &wrong)],
            "authentication",
        ),
        (
            "invalid_token",
            "GET",
            "/me",
            vec![("authorization", "Bearer a.b.c")],
            "authentication",
        ),
        (
            "token_expired",
            "GET",
            "/me",
            vec![("authorization", &expired)],
            "authentication",
        ),
        (
            "token_revoked",
            "GET",
            "/me",
            vec![("authorization", &revoked)],
            "authentication",
        ),
        (
            "session_invalid",
            "GET",
            "/me",
            vec![("cookie", "bouncer_session=not-a-session")],
            "authentication",
        ),
        (
            "mfa_required",
            "GET",
            "/admin/audit",
            vec![("authorization", &erin_token)],
            "step-up",
        ),
        (
            "mfa_required",
            "GET",
            "/me",
            vec![("cookie", &pending)],
            "authentication",
        ),
        ("blocked_path", "GET", "/.env", vec![], "guards"),
        (
            "ip_blocked",
            "GET",
            "/me",
            vec![("x-forwarded-for", "203.0.113.9")],
            "guards",
        ),
        (
            "geo_blocked",
            "GET",
            "/me",
            vec![("cf-ipcountry", "ZZ")],
            "guards",
        ),
        (
            "account_suspended",
            "GET",
            "/me",
            vec![("authorization", &dave)],
            "account",
        ),
        (
            "tenant_mismatch",
            "GET",
            "/orgs/globex/documents",
            vec![("authorization", &alice)],
            "authorization",
        ),
        (
            "elevation_required",
            "GET",
            "/admin/audit",
            vec![("authorization", &alice_token)],
            "authorization",
        ),
        (
            "insufficient_permission",
            "DELETE",
            "/orgs/acme/documents/welcome",
            vec![("authorization", &bob)],
            "authorization",
        ),
        (
            "insufficient_scope",
            "POST",
            "/orgs/acme/documents",
            vec![("authorization", &scoped)],
            "authorization",
        ),
        (
            "not_shared",
            "GET",
            "/orgs/acme/documents/roadmap",
            vec![("authorization", &carol)],
            "authorization",
        ),
        (
            "read_only",
            "PUT",
            "/orgs/acme/documents/handbook-2019",
            vec![("authorization", &alice)],
            "authorization",
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (code, method, uri, headers, stage) in &cases {
        let r = ask(&http, &b, method, uri, headers).await;
        assert_eq!(r.code(), *code, "{method} {uri}: {r:?}");
        let raw = curl_si(&r);
        let e = explain_json(&raw);
        let label = format!("{code} ({method} {uri})");
        assert_eq!(e["status"], r.status.as_u16(), "{label}: {e}");
        assert_eq!(e["code"], *code, "{label}: {e}");
        assert_eq!(e["stage"], *stage, "{label}: {e}");
        assert!(e["fix"].as_str().unwrap().len() > 20, "{label}: {e}");
        assert!(e["meaning"].as_str().unwrap().len() > 20, "{label}: {e}");
        assert!(!e["rfc"].as_array().unwrap().is_empty(), "{label}: {e}");
        assert_eq!(e["problems"], json!([]), "{label}: {e}");
        if r.status == StatusCode::UNAUTHORIZED {
            assert!(
                !e["challenges"].as_array().unwrap().is_empty(),
                "{label}: {e}"
            );
        }
        // The human form says the same.
        let (status, text) = bouncer(&["explain"], &raw);
        assert_eq!(status, 0);
        assert!(
            text.contains(code) && text.contains(stage) && text.contains("fix:"),
            "{text}"
        );
        seen.insert(*code);
    }
    let all: std::collections::BTreeSet<&str> = bouncer_core::AuthnReason::ALL
        .iter()
        .map(|r| r.code())
        .chain(bouncer_core::ForbiddenReason::ALL.iter().map(|r| r.code()))
        .collect();
    assert_eq!(seen, all, "every reason code of the contract");
}

#[test]
fn responses_of_other_shapes_are_flagged() {
    let cases: &[(&str, &str)] = &[
        (
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":401}",
            "without WWW-Authenticate",
        ),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"api\r\n\r\n",
            "does not parse",
        ),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":401,\"code\":\"missing_credentials\"}",
            "no token was presented",
        ),
        (
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":403,\"code\":\"missing_credentials\"}",
            "a 403 that should have been a 401",
        ),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer error=\"insufficient_user_authentication\"\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":401,\"code\":\"mfa_required\"}",
            "without acr_values or max_age",
        ),
        (
            "HTTP/1.1 403 Forbidden\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":403,\"code\":\"insufficient_scope\"}",
            "insufficient_scope without a Bearer challenge",
        ),
        ("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n", "Basic challenge without `realm`"),
        ("HTTP/1.1 503 Service Unavailable\r\n\r\n", "without Retry-After"),
        (
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"a\"\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":403}",
            "differs from the HTTP status",
        ),
    ];
    for (raw, problem) in cases {
        let e = explain_json(raw.as_bytes());
        let problems = e["problems"].to_string();
        assert!(problems.contains(problem), "{raw:?}: {e}");
    }
    // A 403 for an anonymous request (known from --request's headers is
    // not needed: the code says so) and a non-bouncer 401 explained from
    // its status.
    let e = explain_json(b"HTTP/2 401\r\nwww-authenticate: Negotiate\r\n\r\n");
    assert!(e.get("code").is_none());
    assert!(e["meaning"].as_str().unwrap().contains("Not authenticated"));
    assert_eq!(e["challenges"][0]["scheme"], "Negotiate");
    // A 403 for a request that carried no credentials.
    let (status, out) = bouncer(
        &["explain", "--json", "--no-credentials"],
        b"HTTP/1.1 403 Forbidden\r\ncontent-type: application/problem+json\r\n\r\n{\"status\":403,\"code\":\"insufficient_permission\"}",
    );
    assert_eq!(status, 0);
    assert!(out.contains("a 403 for an anonymous request"), "{out}");
    // Not an HTTP response: exit status 2.
    assert_eq!(bouncer(&["explain"], b"hello").0, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_query_agrees_with_the_server_on_every_policy_decision() {
    let dir = scratch("policy-query");
    let b = Bouncer::start(&dir, None);
    let http = Http::default();
    let policy = forward_auth_dir().join("../quickstart/policy.toml");
    let policy = policy.to_str().unwrap();
    // (user, method, path, org, permission): the end-to-end tables'
    // policy decisions (http-contract.md §3–4), none of them resource
    // rules (those are the application's, not the policy file's).
    let users = ["alice", "bob", "carol", "dave", "erin", "grace"];
    let routes = [
        ("GET", "/orgs/acme/documents", "acme", "documents:read"),
        ("POST", "/orgs/acme/documents", "acme", "documents:write"),
        (
            "DELETE",
            "/orgs/acme/documents/welcome",
            "acme",
            "documents:delete",
        ),
        (
            "PUT",
            "/orgs/acme/documents/welcome",
            "acme",
            "documents:write",
        ),
        ("GET", "/orgs/globex/documents", "globex", "documents:read"),
        (
            "POST",
            "/orgs/globex/documents",
            "globex",
            "documents:write",
        ),
    ];
    let mut compared = 0;
    for user in users {
        let password = if user == "grace" {
            "p@ss:wörd".to_owned()
        } else {
            format!("{user}-pass")
        };
        let auth = basic(user, &password);
        for (method, path, org, permission) in routes {
            let r = ask(&http, &b, method, path, &[("authorization", &auth)]).await;
            let server = if r.status == StatusCode::OK {
                "allow".to_owned()
            } else {
                r.code()
            };
            let (status, out) = bouncer(
                &[
                    "policy",
                    "query",
                    policy,
                    "--subject",
                    user,
                    "--org",
                    org,
                    "--permission",
                    permission,
                    "--json",
                ],
                b"",
            );
            let q: Value =
                serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
            assert_eq!(q["code"], server, "{user} {method} {path}: {out}");
            assert_eq!(
                status,
                if server == "allow" { 0 } else { 1 },
                "{user} {method} {path}"
            );
            if server != "allow" {
                let rule = &q["rule"];
                assert!(
                    rule["line"].as_u64().unwrap() > 0,
                    "{user} {method} {path}: {out}"
                );
                assert!(
                    rule["file"].as_str().unwrap().ends_with("policy.toml"),
                    "{out}"
                );
            }
            compared += 1;
        }
    }
    // The API key's grants, and an unknown subject.
    let (status, out) = bouncer(
        &[
            "policy",
            "query",
            policy,
            "--subject",
            "svc-reporter",
            "--org",
            "acme",
            "--permission",
            "documents:read",
        ],
        b"",
    );
    assert_eq!(status, 0, "{out}");
    let (status, _) = bouncer(
        &[
            "policy",
            "query",
            policy,
            "--subject",
            "nobody",
            "--org",
            "acme",
            "--permission",
            "documents:read",
        ],
        b"",
    );
    assert_eq!(status, 1);
    // Unusable: a misspelt permission, a missing file.
    let (status, out) = bouncer(
        &[
            "policy",
            "query",
            policy,
            "--subject",
            "bob",
            "--permission",
            "documents:raed",
        ],
        b"",
    );
    assert_eq!(status, 2, "{out}");
    assert_eq!(
        bouncer(
            &[
                "policy",
                "query",
                "/nonexistent.toml",
                "--subject",
                "a",
                "--permission",
                "p"
            ],
            b""
        )
        .0,
        2
    );
    assert_eq!(compared, users.len() * routes.len());
}

#[test]
fn policy_check_reports_errors_with_their_place_and_warnings() {
    let dir = scratch("policy-check");
    let policy = forward_auth_dir().join("../quickstart/policy.toml");
    let (status, out) = bouncer(&["policy", "check", policy.to_str().unwrap()], b"");
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("valid"), "{out}");
    let file = dir.join("p.toml");
    std::fs::write(
        &file,
        "permissions = [\"a:read\", \"a:write\", \"b:x\"]\n[roles.viewer]\npermissions = [\"a:read\"]\n[roles.unused]\npermissions = [\"a:write\"]\n[organizations.o.members]\nu = [\"viewer\"]\n",
    )
    .unwrap();
    let (status, out) = bouncer(&["policy", "check", file.to_str().unwrap(), "--json"], b"");
    assert_eq!(status, 0, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("role `unused` is never granted"),
        "{warnings}"
    );
    assert!(warnings.contains("line 4"), "{warnings}");
    assert!(
        warnings.contains("permission `b:x` is granted by no role"),
        "{warnings}"
    );
    std::fs::write(
        &file,
        "[roles.a]\ninherits = [\"b\"]\n[roles.b]\ninherits = [\"a\"]\n",
    )
    .unwrap();
    let (status, out) = bouncer(&["policy", "check", file.to_str().unwrap()], b"");
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("cycle") && out.contains("p.toml:"), "{out}");
    assert_eq!(bouncer(&["policy", "check", "/nonexistent.toml"], b"").0, 2);
}

#[test]
fn token_inspect_decodes_without_trusting_and_verifies_with_keys() {
    let t = token_with("alice", json!({"iat": now() - 7200, "exp": now() - 3600}));
    let (status, out) = bouncer(&["token", "inspect", &t, "--json"], b"");
    assert_eq!(status, 0, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["claims"]["sub"], "alice");
    assert!(v["times"]["exp"].as_str().unwrap().ends_with("ago"), "{v}");
    assert!(v["findings"].to_string().contains("token_expired"), "{v}");
    let (status, out) = bouncer(
        &[
            "token",
            "inspect",
            &token("alice"),
            "--audience",
            "https://other.test",
        ],
        b"",
    );
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("wrong audience"), "{out}");
    // With keys: the demo JWKS holds no HS256 secret, so an HS256 token
    // does not verify.
    let jwks = forward_auth_dir().join("../quickstart/demo-keys/jwks.json");
    let (status, out) = bouncer(
        &[
            "token",
            "inspect",
            &token("alice"),
            "--jwks",
            jwks.to_str().unwrap(),
            "--issuer",
            ISSUER,
            "--audience",
            AUDIENCE,
            "--json",
        ],
        b"",
    );
    assert_eq!(status, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verified"]["ok"], false, "{v}");
    assert_eq!(bouncer(&["token", "inspect", "not-a-token"], b"").0, 2);
}

#[test]
fn explain_runs_the_gate_offline_with_its_trace_and_the_rule() {
    let config = forward_auth_dir().join("bouncer.toml");
    let bob = basic("bob", "bob-pass");
    let header = format!("Authorization: {bob}");
    let (status, out) = bouncer(
        &[
            "explain",
            "--request",
            "DELETE http://localhost/orgs/acme/documents/welcome",
            "-H",
            &header,
            "--config",
            config.to_str().unwrap(),
            "--json",
        ],
        b"",
    );
    assert_eq!(status, 0, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["status"], 403, "{v}");
    assert_eq!(v["code"], "insufficient_permission");
    assert_eq!(v["stage"], "authorization");
    assert_eq!(v["subject"], "bob");
    assert_eq!(
        v["trace"][3],
        json!({"stage": "authorization", "outcome": "denied: insufficient_permission"})
    );
    assert!(
        v["rule"]["file"].as_str().unwrap().ends_with("policy.toml"),
        "{v}"
    );
    assert_eq!(
        v["rule"]["line"], 34,
        "bob = [\"viewer\"] in the quickstart's policy: {v}"
    );
    let (status, out) = bouncer(
        &[
            "explain",
            "--request",
            "GET http://localhost/.env",
            "--config",
            config.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(status, 0, "{out}");
    assert!(
        out.contains("blocked_path") && out.contains("<- decided here"),
        "{out}"
    );
    assert_eq!(bouncer(&["explain", "--request", "GET /"], b"").0, 2);
}

/// An RS256 demo token with the demo key's `kid`.
fn rs256(sub: &str) -> String {
    let key = std::fs::read(forward_auth_dir().join("../quickstart/demo-keys/rsa.pem")).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("demo-rsa".into());
    let claims =
        json!({"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now(), "exp": now() + 600});
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&key).unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_inspect_verifies_with_a_jwks_file_or_url() {
    let jwks = forward_auth_dir().join("../quickstart/demo-keys/jwks.json");
    let token = rs256("alice");
    let args = move |from: &str| {
        vec![
            "token".to_owned(),
            "inspect".into(),
            token.clone(),
            "--jwks".into(),
            from.to_owned(),
            "--issuer".into(),
            ISSUER.into(),
            "--audience".into(),
            AUDIENCE.into(),
            "--json".into(),
        ]
    };
    let run = move |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        bouncer(&a, b"")
    };
    let (status, out) = run(args(jwks.to_str().unwrap()));
    assert_eq!(status, 0, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verified"], json!({"ok": true, "subject": "alice"}));
    // The same set served on loopback.
    let text = std::fs::read_to_string(&jwks).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let text = text.clone();
            async move { ([("content-type", "application/json")], text) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}/jwks.json");
    let (status, out) = tokio::task::spawn_blocking(move || run(args(&url)))
        .await
        .unwrap();
    assert_eq!(status, 0, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["verified"]["ok"], true, "{v}");
}
