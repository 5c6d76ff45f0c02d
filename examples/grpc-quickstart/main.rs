//! `cargo run --example grpc-quickstart`: the quickstart's documents API
//! over gRPC (grpc-contract.md §2), with the same policy, identities,
//! documents, tokens and stores as the HTTP quickstart.
//!
//! Environment: `BOUNCER_GRPC_ADDR` (default `127.0.0.1:50051`, plaintext
//! HTTP/2), and as for the HTTP quickstart `BOUNCER_DEMO_SECRET`,
//! `BOUNCER_DEMO_JWKS`, `BOUNCER_POLICY`, `BOUNCER_REDIS_URL` (share
//! revocations with HTTP quickstarts on the same Redis).

// The framework-neutral app of the HTTP quickstart: this binary uses the
// gate, documents and stores, not the HTTP-only parts.
#[allow(dead_code)]
#[path = "../quickstart/app.rs"]
mod app;
#[allow(dead_code)]
#[path = "../quickstart/cli.rs"]
mod cli;
mod service;

use std::net::SocketAddr;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::init_tracing();
    cli::exit(run().await)
}

/// `BOUNCER_GRPC_ADDR`, default `127.0.0.1:50051`.
fn grpc_addr() -> Result<SocketAddr, app::BoxError> {
    Ok(std::env::var("BOUNCER_GRPC_ADDR")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "127.0.0.1:50051".into())
        .parse()?)
}

async fn run() -> Result<(), app::BoxError> {
    let config = app::Config::from_env()?;
    let addr = grpc_addr()?;
    let router = service::router(app::build(&config)?).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    banner(listener.local_addr()?);
    router
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await?;
    Ok(())
}

#[allow(clippy::print_stdout)] // the start-up message is the point
fn banner(addr: SocketAddr) {
    let s = service::SERVICE;
    println!(
        r#"bouncer gRPC quickstart listening on {addr} (plaintext HTTP/2; health and reflection on)

Get a demo token: TOKEN=$(cargo xtask token alice --org acme); ADMIN=$(cargo xtask token erin --mfa)

Try (grpcurl):
  grpcurl -plaintext {addr} list
  grpcurl -plaintext {addr} {s}/Me                                         # UNAUTHENTICATED missing_credentials
  grpcurl -plaintext -H "authorization: Bearer $TOKEN" {addr} {s}/Me
  grpcurl -plaintext -H "x-api-key: demo-reporter-key" -d '{{"org":"acme"}}' {addr} {s}/ListDocuments
  grpcurl -plaintext -H "authorization: Bearer $TOKEN" -d '{{"org":"globex"}}' {addr} {s}/ListDocuments   # PERMISSION_DENIED tenant_mismatch
  grpcurl -plaintext -H "authorization: Bearer $ADMIN" {addr} {s}/Audit
"#
    );
}
