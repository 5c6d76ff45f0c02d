//! The MCP profile over real HTTP against a loopback authorization server
//! ([`TestAuthServer`]) that starts late, stops, restarts and rotates its
//! key under the same `kid`. The MCP service behind the layer echoes the
//! body it got, so the replay is checked byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use axum::body::Body;
use axum::Router;
use bouncer_authn::jwt::JwksConfig;
use bouncer_core::Challenge;
use bouncer_mcp::{McpError, McpResourceServer};
use bouncer_test::auth_server::TestAuthServer;
use bouncer_test::matrix::{serve_loopback, LoopbackServer};
use bouncer_test::token::TestToken;
use http::{Request, Response};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

fn call(tool: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"{tool}","arguments":{{"text":"hi"}}}}}}"#
    )
}

/// Fast refetches, a short Retry-After.
fn fast() -> JwksConfig {
    JwksConfig::default()
        .with_unknown_kid_interval(Duration::from_millis(200))
        .with_retry_after(Duration::from_secs(2))
        .with_timeout(Duration::from_secs(2))
}

struct Setup {
    server: LoopbackServer,
    resource: String,
    client: reqwest::Client,
}

/// The profile in front of an echoing service. The resource URL names a
/// port that is not the server's: it is an identifier, compared exactly.
async fn setup(issuer: &str, config: JwksConfig) -> Setup {
    let resource = "http://127.0.0.1:8765/mcp".to_owned();
    let mcp = McpResourceServer::builder(resource.clone(), issuer)
        .allow_loopback_http_issuer()
        .jwks_config(config)
        .tool("echo", ["mcp:tools:echo"])
        .tool("reset", ["mcp:tools:reset", "mcp:admin"])
        .max_body(4096)
        .build()
        .unwrap();
    let echo = tower::service_fn(|req: Request<Body>| async move {
        let bytes = axum::body::to_bytes(req.into_body(), usize::MAX)
            .await
            .unwrap();
        Ok::<_, std::convert::Infallible>(Response::new(Body::from(bytes)))
    });
    let app: Router = mcp.router(echo);
    Setup {
        server: serve_loopback(app).await.unwrap(),
        resource,
        client: reqwest::Client::new(),
    }
}

struct Answer {
    status: u16,
    challenge: Option<Challenge>,
    retry_after: Option<String>,
    code: Option<String>,
    body: String,
}

impl Setup {
    async fn post(&self, token: Option<&str>, body: &str) -> Answer {
        let mut req = self
            .client
            .post(self.server.url("/mcp"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let challenge = Challenge::parse_headers(res.headers())
            .unwrap()
            .into_iter()
            .next();
        let retry_after = res
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap();
        let code = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned));
        Answer {
            status,
            challenge,
            retry_after,
            code,
            body,
        }
    }
}

fn metadata_url() -> &'static str {
    "http://127.0.0.1:8765/.well-known/oauth-protected-resource/mcp"
}

fn assert_401(a: &Answer, error: Option<&str>) {
    assert_eq!(a.status, 401, "{}", a.body);
    let c = a.challenge.as_ref().expect("a 401 carries a challenge");
    assert!(c.scheme().eq_ignore_ascii_case("bearer"));
    assert_eq!(c.get("resource_metadata"), Some(metadata_url()));
    assert_eq!(c.get("error"), error);
}

fn assert_503(a: &Answer) {
    assert_eq!(a.status, 503, "{}", a.body);
    assert!(a.retry_after.is_some(), "a 503 carries Retry-After");
}

#[tokio::test]
async fn an_authorization_server_down_at_start_is_503_then_its_tokens_are_allowed() {
    let mut auth = TestAuthServer::new().unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let token = auth.access_token("alice", &s.resource, "mcp:tools:echo");
    // Never fetched, and nothing answers: our failure, not the token's.
    assert_503(&s.post(Some(&token), INIT).await);
    assert_503(&s.post(Some(&token), INIT).await);
    // Without a token it is still the ordinary 401.
    assert_401(&s.post(None, INIT).await, None);

    auth.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = s.post(Some(&token), INIT).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body, INIT, "the body reaches the service byte for byte");
    let a = s.post(Some(&token), &call("echo")).await;
    assert_eq!((a.status, a.body), (200, call("echo")));
}

#[tokio::test]
async fn a_key_rotated_under_the_same_kid_is_found_by_the_refetch() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let before = auth.access_token("alice", &s.resource, "");
    assert_eq!(s.post(Some(&before), INIT).await.status, 200);
    let hits = auth.jwks_hits();

    auth.rotate_key().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = auth.access_token("alice", &s.resource, "");
    let a = s.post(Some(&after), INIT).await;
    assert_eq!(
        a.status, 200,
        "the signature failed under a known kid: refetched ({})",
        a.body
    );
    assert_eq!(auth.jwks_hits(), hits + 1);
    // The old key is gone from the set: its tokens no longer verify.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_401(&s.post(Some(&before), INIT).await, Some("invalid_token"));
}

#[tokio::test]
async fn keys_stay_usable_while_the_server_is_down_and_a_wrong_signature_is_401() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let good = auth.access_token("alice", &s.resource, "mcp:tools:echo");
    assert_eq!(s.post(Some(&good), INIT).await.status, 200);

    auth.stop().await;
    auth.rotate_key().unwrap();
    let forged = auth.access_token("mallory", &s.resource, "mcp:tools:echo");
    for _ in 0..2 {
        // Refetch due (and failing) or not: with usable keys it is the
        // token's failure.
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(s.post(Some(&good), &call("echo")).await.status, 200);
        assert_401(&s.post(Some(&forged), INIT).await, Some("invalid_token"));
        let unknown_kid = auth.sign(&TestToken::new("x").audience(&s.resource));
        let unknown_kid = unknown_kid.replacen(
            unknown_kid.split('.').next().unwrap(),
            &base64_json(r#"{"alg":"RS256","typ":"at+jwt","kid":"other"}"#),
            1,
        );
        assert_401(
            &s.post(Some(&unknown_kid), INIT).await,
            Some("invalid_token"),
        );
    }
}

fn base64_json(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn past_the_staleness_limit_with_the_server_down_is_503() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let s = setup(
        &auth.issuer(),
        fast().with_max_stale(Duration::from_millis(700)),
    )
    .await;
    let token = auth.access_token("alice", &s.resource, "");
    assert_eq!(s.post(Some(&token), INIT).await.status, 200);
    auth.stop().await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_503(&s.post(Some(&token), INIT).await);
    // Back up: the next refetch makes the keys usable again.
    auth.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.post(Some(&token), INIT).await.status, 200);
}

#[tokio::test]
async fn openid_discovery_is_the_fallback() {
    let mut auth = TestAuthServer::openid_only().unwrap();
    auth.start().await.unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let token = auth.access_token("alice", &s.resource, "");
    assert_eq!(s.post(Some(&token), INIT).await.status, 200);
}

#[test]
fn a_plain_http_issuer_without_the_opt_in_is_refused_when_built() {
    let auth = TestAuthServer::new().unwrap();
    let built = McpResourceServer::builder("http://127.0.0.1:8765/mcp", auth.issuer()).build();
    assert!(matches!(built, Err(McpError::Issuer(_))), "{built:?}");
}

#[tokio::test]
async fn the_audience_must_be_this_resource_exactly() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let token = |t: TestToken| auth.sign(&t.scope("mcp:tools:echo"));
    let wrong = [
        token(TestToken::new("a")), // no aud
        token(TestToken::new("a").audience("http://127.0.0.1:8765/other")), // another resource
        token(TestToken::new("a").audience("http://127.0.0.1:8765/mcp/")), // not exactly
        token(TestToken::new("a").audience("http://127.0.0.1:8765")),
        token(TestToken::new("a").claim("aud", serde_json::json!(["http://x/mcp"]))),
    ];
    for t in &wrong {
        // Never 403, whatever the body asks for.
        assert_401(&s.post(Some(t), &call("echo")).await, Some("invalid_token"));
    }
    let listed = token(TestToken::new("a").claim(
        "aud",
        serde_json::json!(["http://x/mcp", s.resource.clone()]),
    ));
    assert_eq!(s.post(Some(&listed), &call("echo")).await.status, 200);
    // A token of another `typ` than at+jwt is refused too (RFC 9068 §4).
    let plain = TestToken::new("a")
        .audience(&s.resource)
        .issuer(&auth.issuer());
    let hs = plain
        .sign_hs256(b"a-test-secret-that-is-at-least-32-bytes!")
        .unwrap();
    assert_401(&s.post(Some(&hs), INIT).await, Some("invalid_token"));
}

#[tokio::test]
async fn scopes_per_operation_and_insufficient_scope_naming_every_one() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let none = auth.access_token("a", &s.resource, "");
    let echo = auth.access_token("a", &s.resource, "mcp:tools:echo");
    let half = auth.access_token("a", &s.resource, "mcp:tools:echo mcp:tools:reset");
    let all = auth.access_token("a", &s.resource, "mcp:tools:reset mcp:admin");

    let free = [
        INIT,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":5,"result":{}}"#,
    ];
    for body in free {
        let a = s.post(Some(&none), body).await;
        assert_eq!((a.status, a.body.as_str()), (200, body));
    }
    for (token, tool, status) in [
        (&none, "echo", 403),
        (&echo, "echo", 200),
        (&echo, "reset", 403),
        (&half, "reset", 403),
        (&all, "reset", 200),
        (&all, "echo", 403),
    ] {
        let a = s.post(Some(token), &call(tool)).await;
        assert_eq!(a.status, status, "{tool}: {}", a.body);
        if status == 403 {
            let c = a
                .challenge
                .as_ref()
                .expect("insufficient_scope carries a challenge");
            assert_eq!(c.get("error"), Some("insufficient_scope"));
            assert_eq!(c.get("resource_metadata"), Some(metadata_url()));
            let want = if tool == "echo" {
                "mcp:tools:echo"
            } else {
                "mcp:tools:reset mcp:admin"
            };
            assert_eq!(c.get("scope"), Some(want));
            assert_eq!(a.code.as_deref(), Some("insufficient_scope"));
        }
    }
    // Nobody said which scope opens these: closed.
    for body in [
        call("shutdown"),
        r#"{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"file:///etc"}}"#
            .to_owned(),
        r#"{"jsonrpc":"2.0","id":7,"method":"prompts/list"}"#.to_owned(),
    ] {
        let a = s.post(Some(&all), &body).await;
        assert_eq!(a.status, 403, "{body}");
        assert_eq!(a.code.as_deref(), Some("insufficient_permission"));
        assert!(a.challenge.is_none(), "no scope can help: no challenge");
    }
}

#[tokio::test]
async fn bodies_that_name_no_single_operation_never_reach_the_service() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let token = auth.access_token("a", &s.resource, "mcp:tools:echo");
    let bad = [
        format!("[{INIT}]"),
        "{".to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"reset"}}"#
            .to_owned(),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#.to_owned(),
        String::new(),
    ];
    for body in &bad {
        // Unauthenticated: the 401, whatever the body.
        assert_401(&s.post(None, body).await, None);
        let a = s.post(Some(&token), body).await;
        assert_eq!(a.status, 400, "{body}");
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert!(
            v["error"]["code"].as_i64().is_some(),
            "a JSON-RPC error: {}",
            a.body
        );
        assert!(!a.body.contains("reset"), "the body is not echoed");
    }
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"t":"{}"}}}}}}"#,
        "x".repeat(5000)
    );
    assert_eq!(s.post(Some(&token), &big).await.status, 413);
    let bad_token = s.post(Some("not-a-jwt"), &big).await;
    assert_401(&bad_token, Some("invalid_token"));

    // A message sent by another method is checked as a POST is, never
    // passed on unread: the scope-less token cannot call `reset` by PUT.
    for method in [reqwest::Method::PUT, reqwest::Method::PATCH] {
        let res = s
            .client
            .request(method.clone(), s.server.url("/mcp"))
            .header("content-type", "application/json")
            .bearer_auth(&token)
            .body(call("reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{method}");
        let without = s
            .client
            .request(method.clone(), s.server.url("/mcp"))
            .body(call("reset"))
            .send()
            .await
            .unwrap();
        assert_eq!(without.status().as_u16(), 401, "{method}");
    }
}

#[tokio::test]
async fn the_metadata_is_served_at_the_path_aware_well_known_url() {
    let auth = TestAuthServer::new().unwrap();
    let s = setup(&auth.issuer(), fast()).await;
    let url = s.server.url("/.well-known/oauth-protected-resource/mcp");
    let res = s.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        doc,
        serde_json::json!({
            "resource": "http://127.0.0.1:8765/mcp",
            "authorization_servers": [auth.issuer()],
            "scopes_supported": ["mcp:admin", "mcp:tools:echo", "mcp:tools:reset"],
            "bearer_methods_supported": ["header"],
        })
    );
    // A GET on the endpoint itself needs a token.
    let res = s.client.get(s.server.url("/mcp")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_flood_of_forged_signatures_under_a_known_kid_fetches_at_most_once() {
    let mut auth = TestAuthServer::new().unwrap();
    auth.start().await.unwrap();
    let config = fast().with_unknown_kid_interval(Duration::from_secs(30));
    let s = std::sync::Arc::new(setup(&auth.issuer(), config).await);
    let good = auth.access_token("alice", &s.resource, "");
    assert_eq!(s.post(Some(&good), INIT).await.status, 200);
    let hits = auth.jwks_hits();
    // Signed by a key the server never published, under its kid (the
    // signature fails before the issuer is read).
    let forger = TestAuthServer::new().unwrap();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let forged = forger.sign(&TestToken::new(&format!("m{i}")).audience(&s.resource));
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.post(Some(&forged), INIT).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 401);
    }
    assert!(
        auth.jwks_hits() <= hits + 1,
        "{} fetches",
        auth.jwks_hits() - hits
    );
}
