//! The test kit catches what it promises to catch.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use async_trait::async_trait;
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use bouncer_core::*;
use bouncer_test::conformance::{check_backend_failure_blocking, check_blocking, Suite};
use bouncer_test::matrix::StatusMatrix;

/// `X-Token: <value>`, with configurable misbehaviour.
#[derive(Clone, Copy)]
enum Mode {
    Correct,
    NoneForWrong,
    AcceptsAnything,
    PanicsOnByte,
    BrokenAs401,
    BrokenAsFault,
    OtherScheme,
}

struct Token(Mode);

#[async_trait]
impl Authenticator for Token {
    fn scheme(&self) -> SchemeName {
        SchemeName::from_static("token")
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("x-token")
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        let Some(v) = r.headers().get("x-token") else {
            return Ok(None);
        };
        match (self.0, v.as_bytes()) {
            (Mode::BrokenAs401, _) => Err(AuthnReason::InvalidCredentials.into()),
            (Mode::BrokenAsFault, _) => Err(Fault::internal_msg("backend down").into()),
            (Mode::PanicsOnByte, b) if b.contains(&b'!') => panic!("unexpected byte"),
            (Mode::OtherScheme, b"good") => Ok(Some(Identity::user("u", SchemeName::BASIC))),
            (_, b"good") => Ok(Some(Identity::user("u", self.scheme()))),
            (Mode::NoneForWrong, _) => Ok(None),
            (Mode::AcceptsAnything, _) => Ok(Some(Identity::user("u", self.scheme()))),
            _ => Err(AuthnReason::InvalidCredentials.into()),
        }
    }
    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        None
    }
}

const _: () = bouncer_test::conformance::assert_send_sync::<Token>();

fn suite() -> Suite {
    Suite::new()
        .valid(
            http::Request::get("/")
                .header("x-token", "good")
                .body(())
                .unwrap(),
        )
        .wrong(
            http::Request::get("/")
                .header("x-token", "bad")
                .body(())
                .unwrap(),
        )
        .fuzz_header("x-token")
        .fuzz_cases(400)
}

#[test]
fn a_correct_authenticator_passes() {
    check_blocking(Token(Mode::Correct), &suite()).unwrap();
    let req = http::Request::get("/")
        .header("x-token", "good")
        .body(())
        .unwrap();
    check_backend_failure_blocking(Token(Mode::BrokenAsFault), req).unwrap();
}

#[test]
fn each_misbehaviour_is_caught() {
    assert_eq!(
        check_blocking(Token(Mode::NoneForWrong), &suite())
            .unwrap_err()
            .check,
        "wrong"
    );
    assert_eq!(
        check_blocking(Token(Mode::AcceptsAnything), &suite())
            .unwrap_err()
            .check,
        "wrong"
    );
    let e = check_blocking(Token(Mode::PanicsOnByte), &suite()).unwrap_err();
    assert_eq!(e.check, "arbitrary bytes", "{e}");
    assert!(e.detail.contains("panicked"), "{e}");
    let req = http::Request::get("/")
        .header("x-token", "good")
        .body(())
        .unwrap();
    let e = check_backend_failure_blocking(Token(Mode::BrokenAs401), req).unwrap_err();
    assert_eq!(e.check, "backend failure");
    // An identity must name the scheme that made it.
    let e = check_blocking(Token(Mode::OtherScheme), &suite()).unwrap_err();
    assert_eq!(e.check, "valid", "{e}");
    assert!(e.detail.contains("`basic`"), "{e}");
}

bouncer_test::authenticator_conformance! {
    name: token_via_macro,
    authenticator: Token(Mode::Correct),
    suite: suite(),
    broken: (Token(Mode::BrokenAsFault), http::Request::get("/").header("x-token", "good").body(()).unwrap()),
}

#[tokio::test]
async fn the_matrix_reports_every_mismatch() {
    let bouncer = bouncer_axum_like_router();
    let ok = StatusMatrix::new()
        .row(
            "anonymous",
            http::Request::get("/me").body(Body::empty()).unwrap(),
            401,
            Some("missing_credentials"),
        )
        .row(
            "good",
            http::Request::get("/me")
                .header("x-token", "good")
                .body(Body::empty())
                .unwrap(),
            200,
            None,
        )
        .run(bouncer.clone())
        .await;
    assert!(ok.is_ok(), "{ok:?}");
    let bad = StatusMatrix::new()
        .row(
            "claims 403",
            http::Request::get("/me").body(Body::empty()).unwrap(),
            403,
            Some("missing_credentials"),
        )
        .row(
            "claims wrong code",
            http::Request::get("/me")
                .header("x-token", "bad")
                .body(Body::empty())
                .unwrap(),
            401,
            Some("invalid_token"),
        )
        .run(bouncer)
        .await
        .unwrap_err();
    assert_eq!(bad.0.len(), 2, "{bad}");
    assert!(
        bad.to_string()
            .contains("expected 403 missing_credentials, got 401 missing_credentials"),
        "{bad}"
    );
}

/// A router answering 401 problem bodies by hand (the kit must not need
/// bouncer-axum to be useful).
fn bouncer_axum_like_router() -> Router {
    let gate = std::sync::Arc::new(Gate::builder().authenticator(Token(Mode::Correct)).build());
    Router::new().route(
        "/me",
        get(move |req: http::Request<Body>| {
            let gate = gate.clone();
            async move {
                let (parts, _) = req.into_parts();
                let v = gate
                    .decide(
                        &RequestContext::from_parts(&parts),
                        &Requirement::authenticated(),
                    )
                    .await;
                match v.decision() {
                    Decision::Allow(_) => http::Response::new(Body::empty()),
                    Decision::Deny(d) => d
                        .render(&bouncer_core::render::RenderOptions::new())
                        .into_response()
                        .map(Body::from),
                }
            }
        }),
    )
}

/// A router that breaks the challenge rules the way hand-written APIs do.
fn sloppy_router() -> Router {
    let problem = |status: u16, code: &str| {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/problem+json")
            .body(Body::from(format!(
                r#"{{"status":{status},"code":"{code}"}}"#
            )))
            .unwrap()
    };
    Router::new()
        .route(
            "/bare-401",
            get(move || async move { problem(401, "missing_credentials") }),
        )
        .route(
            "/403-with-challenge",
            get(move || async move {
                let mut r = problem(403, "insufficient_permission");
                r.headers_mut().insert(
                    "www-authenticate",
                    http::HeaderValue::from_static("Bearer realm=\"api\""),
                );
                r
            }),
        )
        .route(
            "/scope-without-challenge",
            get(move || async move { problem(403, "insufficient_scope") }),
        )
        .route(
            "/plain-403",
            get(move || async move {
                http::Response::builder()
                    .status(403)
                    .body(Body::from(
                        r#"{"status":403,"code":"insufficient_permission"}"#,
                    ))
                    .unwrap()
            }),
        )
        .route(
            "/status-mismatch",
            get(move || async move {
                let mut r = problem(403, "insufficient_permission");
                *r.status_mut() = http::StatusCode::UNAUTHORIZED;
                r.headers_mut().insert(
                    "www-authenticate",
                    http::HeaderValue::from_static("Bearer realm=\"api\""),
                );
                r
            }),
        )
        .route(
            "/garbled",
            get(move || async move {
                let mut r = problem(401, "invalid_token");
                r.headers_mut().insert(
                    "www-authenticate",
                    http::HeaderValue::from_static("Bearer realm=\"unterminated"),
                );
                r
            }),
        )
}

#[tokio::test]
async fn the_matrix_checks_the_challenge_rules_on_every_row() {
    let get = |p: &str| http::Request::get(p).body(Body::empty()).unwrap();
    let bad = StatusMatrix::new()
        .row(
            "bare 401",
            get("/bare-401"),
            401,
            Some("missing_credentials"),
        )
        .row(
            "403 with a challenge",
            get("/403-with-challenge"),
            403,
            None,
        )
        .row(
            "scope without its challenge",
            get("/scope-without-challenge"),
            403,
            None,
        )
        .row("garbled challenge", get("/garbled"), 401, None)
        .run(sloppy_router())
        .await
        .unwrap_err();
    let text = bad.to_string();
    assert_eq!(bad.0.len(), 4, "{text}");
    for needle in [
        "bare 401: a 401 without a WWW-Authenticate challenge",
        "403 with a challenge: a 403 with a WWW-Authenticate challenge",
        "scope without its challenge: a 403 insufficient_scope without",
        "garbled challenge: WWW-Authenticate does not parse",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
}

#[test]
fn strategies_work_for_global_only_policies_and_empty_lists() {
    use bouncer_test::strategy::{access_requests, memberships, RoleTemplate};
    use proptest::strategy::{Strategy, ValueTree};
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let requests = access_requests(&[], &[], &[]);
    for _ in 0..50 {
        let r = requests.new_tree(&mut runner).unwrap().current();
        assert_eq!(r.organization, None);
        assert_eq!(r.bound_organization, None);
    }
    let none = memberships(&RoleTemplate::new(), &["ann"], &["acme"]);
    for _ in 0..20 {
        let m = none.new_tree(&mut runner).unwrap().current();
        assert!(m.roles_of("ann", "acme").is_empty());
    }
    let global = access_requests(&["ann"], &[], &["admin:access"]);
    let r = global.new_tree(&mut runner).unwrap().current();
    assert_eq!(
        (r.subject.as_str(), r.permission.as_str()),
        ("ann", "admin:access")
    );
}

#[test]
fn the_fakes_pass_the_conformance_suite() {
    use bouncer_test::fakes::FakeAuthenticator;
    let req = |name: &str, value: &str| {
        http::Request::get("/")
            .header(name, value)
            .body(())
            .unwrap()
    };
    let key = FakeAuthenticator::header(SchemeName::API_KEY, "x-api-key")
        .accept("good", Identity::service("svc", SchemeName::API_KEY));
    let suite = Suite::new()
        .valid(req("x-api-key", "good"))
        .wrong(req("x-api-key", "bad"))
        .fuzz_header("x-api-key");
    check_blocking(key, &suite).unwrap();
    let bearer =
        FakeAuthenticator::bearer("api").accept("t1", Identity::user("al", SchemeName::BEARER));
    let suite = Suite::new()
        .valid(req("authorization", "Bearer t1"))
        .wrong(req("authorization", "Bearer t2"));
    check_blocking(bearer, &suite).unwrap();
    check_backend_failure_blocking(
        FakeAuthenticator::bearer("api").unavailable("down"),
        req("authorization", "Bearer down"),
    )
    .unwrap();
    // A fake answering with another scheme's identity is caught like any
    // authenticator.
    let liar =
        FakeAuthenticator::bearer("api").accept("t1", Identity::user("al", SchemeName::BASIC));
    assert_eq!(check_blocking(liar, &suite).unwrap_err().check, "valid");
}

#[test]
fn test_tokens_carry_the_claims_bouncer_reads() {
    use bouncer_test::token::TestToken;
    let secret = b"a-test-secret-that-is-at-least-32-bytes!";
    let a = TestToken::new("alice")
        .issuer("https://iss")
        .audience("https://aud")
        .scope("documents:read documents:write")
        .organization("acme")
        .mfa()
        .kid("k1")
        .sign_hs256(secret)
        .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.set_audience(&["https://aud"]);
    v.set_issuer(&["https://iss"]);
    let data = jsonwebtoken::decode::<serde_json::Value>(
        &a,
        &jsonwebtoken::DecodingKey::from_secret(secret),
        &v,
    )
    .unwrap();
    assert_eq!(data.header.kid.as_deref(), Some("k1"));
    let c = data.claims;
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["organization_id"], "acme");
    assert_eq!(c["scope"], "documents:read documents:write");
    assert_eq!(c["amr"], serde_json::json!(["pwd", "mfa"]));
    assert!(c["exp"].as_i64().unwrap() > c["iat"].as_i64().unwrap());
    // Two tokens never share a jti; an expired one is expired.
    let b = TestToken::new("alice").expires_in(-120);
    assert_ne!(b.claims()["jti"], TestToken::new("alice").claims()["jti"]);
    let expired = b.sign_hs256(secret).unwrap();
    let mut lax = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    lax.validate_aud = false;
    let err = jsonwebtoken::decode::<serde_json::Value>(
        &expired,
        &jsonwebtoken::DecodingKey::from_secret(secret),
        &lax,
    )
    .unwrap_err();
    assert_eq!(
        *err.kind(),
        jsonwebtoken::errors::ErrorKind::ExpiredSignature
    );
}

#[tokio::test]
async fn the_matrix_runs_over_real_http_with_the_same_checks() {
    let server = bouncer_test::matrix::serve_loopback(sloppy_router())
        .await
        .unwrap();
    let get = |p: &str| http::Request::get(p).body(Body::empty()).unwrap();
    let bad = StatusMatrix::new()
        .row(
            "bare 401",
            get("/bare-401"),
            401,
            Some("missing_credentials"),
        )
        .row(
            "403 with a challenge",
            get("/403-with-challenge"),
            403,
            None,
        )
        .row(
            "scope without its challenge",
            get("/scope-without-challenge"),
            403,
            None,
        )
        .row(
            "no problem type",
            get("/plain-403"),
            403,
            Some("insufficient_permission"),
        )
        .row(
            "body disagrees",
            get("/status-mismatch"),
            401,
            Some("insufficient_permission"),
        )
        .row("unknown route", get("/nowhere"), 404, None)
        .run_http(&server.url(""))
        .await
        .unwrap_err();
    let text = bad.to_string();
    for needle in [
        "bare 401: a 401 without a WWW-Authenticate challenge",
        "403 with a challenge: a 403 with a WWW-Authenticate challenge",
        "scope without its challenge: a 403 insufficient_scope without",
        "no problem type: a 403 problem without content-type application/problem+json",
        "body disagrees: the problem body's status is Some(403), not 401",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    assert_eq!(bad.0.len(), 5, "{text}");
    // A server that answers as expected passes.
    let good = bouncer_test::matrix::serve_loopback(bouncer_axum_like_router())
        .await
        .unwrap();
    StatusMatrix::new()
        .row("anonymous", get("/me"), 401, Some("missing_credentials"))
        .row(
            "good",
            http::Request::get("/me?x=1")
                .header("x-token", "good")
                .body(Body::empty())
                .unwrap(),
            200,
            None,
        )
        .run_http(&good.url("/"))
        .await
        .unwrap();
}

#[tokio::test]
async fn serve_loopback_serves_real_http() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = bouncer_test::matrix::serve_loopback(sloppy_router())
        .await
        .unwrap();
    assert!(server.url("/x").starts_with("http://127.0.0.1:"));
    let mut sock = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    sock.write_all(b"GET /bare-401 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 401"), "{out}");
    assert!(out.contains("missing_credentials"), "{out}");
}

#[test]
fn strategies_come_from_a_real_policy() {
    use bouncer_test::strategy::PolicyNames;
    use proptest::strategy::{Strategy, ValueTree};
    let policy = bouncer_authz::Policy::from_toml(
        "global.toml",
        r#"
        [global_roles.admin]
        permissions = ["admin:access"]
        [principals.erin]
        global_roles = ["admin"]
        "#,
    )
    .unwrap();
    let snapshot = policy.snapshot();
    let names = PolicyNames::of(&snapshot);
    assert!(names.subjects.contains(&"erin".to_owned()));
    assert!(names.permissions.contains(&"admin:access".to_owned()));
    // A global-only policy: only the stranger organization.
    assert_eq!(names.organizations, ["org-not-in-the-policy"]);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = names.access_requests();
    let mut allowed = 0;
    for _ in 0..200 {
        let r = strategy.new_tree(&mut runner).unwrap().current();
        let ok = snapshot.authorize(&r.query()).is_ok();
        if r.subject != "erin" || r.permission != "admin:access" {
            assert!(!ok, "{r:?}");
        }
        allowed += usize::from(ok);
    }
    assert!(allowed > 0, "erin's global permission is drawn and allowed");
}
