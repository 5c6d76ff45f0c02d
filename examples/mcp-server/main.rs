//! `cargo run --example mcp-server`: an MCP server over Streamable HTTP at
//! `/mcp` (rmcp) whose tools need OAuth scopes, with bouncer's MCP
//! resource-server profile in front.
//!
//! - `BOUNCER_ADDR` (default `127.0.0.1:8765`): where to listen.
//! - `BOUNCER_MCP_ISSUER` (required): the trusted authorization server's
//!   issuer; it may start after this server, and may be plain `http` on
//!   loopback here.
//! - `BOUNCER_MCP_RESOURCE` (default `http://<BOUNCER_ADDR>/mcp`): the
//!   canonical URL tokens must carry in `aud`.
//!
//! `echo` needs scope `mcp:tools:echo`, `reset` needs `mcp:tools:reset`;
//! `initialize`, `ping`, `tools/list` and notifications need a valid token
//! only. Metadata: `/.well-known/oauth-protected-resource/mcp`.
#![allow(unreachable_pub, clippy::print_stdout)]

mod app;

use std::net::SocketAddr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "bouncer=info".into()),
        )
        .init();
    let addr: SocketAddr = std::env::var("BOUNCER_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8765".to_owned())
        .parse()?;
    let issuer = std::env::var("BOUNCER_MCP_ISSUER")
        .map_err(|_| "set BOUNCER_MCP_ISSUER to the authorization server's issuer")?;
    let resource =
        std::env::var("BOUNCER_MCP_RESOURCE").unwrap_or_else(|_| format!("http://{addr}/mcp"));
    let resource_host = resource
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned));
    let mut allowed_hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    allowed_hosts.push(addr.ip().to_string());
    allowed_hosts.extend(resource_host);
    let settings = app::Settings {
        resource,
        issuer,
        allowed_hosts,
    };
    let mcp = app::profile(&settings)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            // Keys are fetched on the first token; the refresher then keeps
            // them fresh (and retries while the server is down).
            mcp.key_source().spawn_refresher();
            let router = app::router(&mcp, &settings);
            let listener = tokio::net::TcpListener::bind(addr).await?;
            println!("MCP server on http://{addr}/mcp");
            println!("  resource  {}", mcp.resource());
            println!("  issuer    {}", settings.issuer);
            println!("  metadata  {}", mcp.metadata_url());
            println!("  tools     echo (mcp:tools:echo), reset (mcp:tools:reset)");
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await?;
            Ok(())
        })
}
