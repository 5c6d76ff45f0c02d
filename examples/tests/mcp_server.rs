//! `cargo run --example mcp-server` over real HTTP, driven by rmcp's own
//! Streamable HTTP client, against a loopback authorization server
//! (`bouncer_test::auth_server::TestAuthServer`) that starts after the MCP
//! server, signs RS256 `at+jwt` tokens, and rotates its key under the same
//! `kid` between runs.
#![allow(unreachable_pub, missing_docs, dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../mcp-server/app.rs"]
mod app;

use std::net::SocketAddr;
use std::time::Duration;

use bouncer_core::Challenge;
use bouncer_test::auth_server::TestAuthServer;
use rmcp::model::{CallToolRequestParams, ContentBlock, JsonObject};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};

struct Running {
    addr: SocketAddr,
    resource: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// The example's app on a free port, its resource URL the default
/// `http://<addr>/mcp`.
async fn start(issuer: &str) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = app::Settings {
        resource: format!("http://{addr}/mcp"),
        issuer: issuer.to_owned(),
        allowed_hosts: vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
    };
    let mcp = app::profile(&settings).unwrap();
    let router = app::router(&mcp, &settings);
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Running {
        addr,
        resource: settings.resource,
        task,
    }
}

async fn client(
    mcp: &Running,
    token: Option<&str>,
) -> Result<RunningService<RoleClient, ()>, rmcp::service::ClientInitializeError> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(mcp.url("/mcp"));
    if let Some(t) = token {
        config = config.auth_header(t);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    tokio::time::timeout(Duration::from_secs(10), ().serve(transport))
        .await
        .expect("the handshake does not hang")
}

fn echo(text: &str) -> CallToolRequestParams {
    let mut args = JsonObject::new();
    args.insert("text".into(), text.into());
    CallToolRequestParams::new("echo").with_arguments(args)
}

fn text_of(result: &rmcp::model::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.clone()),
            _ => None,
        })
        .collect()
}

fn bearer(header: &str) -> Challenge {
    let mut map = http::HeaderMap::new();
    map.insert("www-authenticate", header.parse().unwrap());
    Challenge::parse_headers(&map)
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_initializes_and_calls_tools_with_a_token_and_gets_401_403_without() {
    let mut auth = TestAuthServer::new().unwrap();
    let mcp = start(&auth.issuer()).await;
    let metadata_url = mcp.url("/.well-known/oauth-protected-resource/mcp");
    let http = reqwest::Client::new();

    // The authorization server is not up yet: a token is answered 503.
    let token = auth.access_token("alice", &mcp.resource, "mcp:tools:echo");
    let res = http
        .post(mcp.url("/mcp"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));

    // No token: rmcp's client sees the 401 and its challenge.
    let Err(error) = client(&mcp, None).await else {
        panic!("a 401 on initialize")
    };
    let challenge = bearer(error.auth_challenge().expect("the 401's challenge"));
    assert_eq!(
        challenge.get("resource_metadata"),
        Some(metadata_url.as_str())
    );

    auth.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // With a token: initialize, tools/list, tools/call.
    let session = client(&mcp, Some(&token))
        .await
        .expect("initialize with a token");
    let tools = session.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["echo", "reset"]);
    let result = session.call_tool(echo("hello")).await.unwrap();
    assert_eq!(text_of(&result), "hello");

    // The same session, a tool its token has no scope for: 403.
    let error = session
        .call_tool(CallToolRequestParams::new("reset"))
        .await
        .expect_err("reset needs mcp:tools:reset");
    let challenge = bearer(error.auth_challenge().expect("the 403's challenge"));
    assert_eq!(challenge.get("error"), Some("insufficient_scope"));
    assert_eq!(challenge.get("scope"), Some(app::RESET_SCOPE));
    assert_eq!(
        challenge.get("resource_metadata"),
        Some(metadata_url.as_str())
    );
    let _ = session.cancel().await;

    // A token for another resource is a 401 invalid_token, never a 403.
    let other = auth.access_token("alice", "http://127.0.0.1:1/mcp", "mcp:tools:echo");
    let Err(error) = client(&mcp, Some(&other)).await else {
        panic!("a 401")
    };
    let challenge = bearer(error.auth_challenge().unwrap());
    assert_eq!(challenge.get("error"), Some("invalid_token"));
    assert_eq!(
        challenge.get("resource_metadata"),
        Some(metadata_url.as_str())
    );

    // Between runs the authorization server rotates its key under the same
    // kid: the refetch finds it, no restart here.
    auth.stop().await;
    auth.rotate_key().unwrap();
    auth.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let both = auth.access_token("bob", &mcp.resource, "mcp:tools:echo mcp:tools:reset");
    let session = client(&mcp, Some(&both))
        .await
        .expect("the rotated key verifies");
    assert_eq!(
        text_of(&session.call_tool(echo("again")).await.unwrap()),
        "again"
    );
    let reset = session
        .call_tool(CallToolRequestParams::new("reset"))
        .await
        .unwrap();
    assert!(text_of(&reset).starts_with("reset after"), "{reset:?}");
    let _ = session.cancel().await;
    // The token signed by the old key no longer verifies.
    let Err(error) = client(&mcp, Some(&token)).await else {
        panic!("a 401")
    };
    assert_eq!(
        bearer(error.auth_challenge().unwrap()).get("error"),
        Some("invalid_token")
    );

    // The metadata, at the path-aware URL.
    let doc: serde_json::Value = http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["resource"], mcp.resource.as_str());
    assert_eq!(doc["authorization_servers"][0], auth.issuer().as_str());
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["mcp:tools:echo", "mcp:tools:reset"])
    );
    assert_eq!(
        doc["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
}
