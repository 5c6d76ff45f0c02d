//! `cargo run --example quickstart`: a small multi-tenant documents API
//! that shows every row of bouncer's HTTP contract, on axum.
//! (`cargo run --example quickstart-actix` serves the same on actix-web.)
//!
//! Environment: `BOUNCER_ADDR` (default `127.0.0.1:8080`),
//! `BOUNCER_DEMO_SECRET` (the HS256 secret of demo tokens),
//! `BOUNCER_DEMO_JWKS` (a JWKS file whose RSA, P-256 and Ed25519 keys are
//! trusted too), `BOUNCER_POLICY` (default: `policy.toml` beside this file),
//! `BOUNCER_REDIS_URL` (share revocations and sessions through Redis),
//! `BOUNCER_DECISION_LOG=json` (the decision log as JSON lines on stderr),
//! `BOUNCER_METRICS_ADDR` (Prometheus metrics at `http://ADDR/metrics`).

mod app;
mod axum_routes;
mod cli;

use std::net::SocketAddr;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::init_tracing();
    cli::exit(run().await)
}

async fn run() -> Result<(), app::BoxError> {
    let config = app::Config::from_env()?;
    let metrics = cli::init_metrics()?;
    let router = axum_routes::router(app::build(&config)?)?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    cli::banner("axum", listener.local_addr()?, &config);
    cli::metrics_banner(metrics);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
