//! `cargo run --example quickstart-actix`: the quickstart
//! (`cargo run --example quickstart`) on actix-web — the same policy,
//! identities, documents, routes, settings and answers (contract §6).
//!
//! Environment: `BOUNCER_ADDR` (default `127.0.0.1:8080`),
//! `BOUNCER_DEMO_SECRET` (the HS256 secret of demo tokens),
//! `BOUNCER_DEMO_JWKS` (a JWKS file whose RSA, P-256 and Ed25519 keys are
//! trusted too), `BOUNCER_POLICY` (default: `policy.toml` beside this file),
//! `BOUNCER_REDIS_URL` (share revocations and sessions through Redis),
//! `BOUNCER_DECISION_LOG=json` (the decision log as JSON lines on stderr),
//! `BOUNCER_METRICS_ADDR` (Prometheus metrics at `http://ADDR/metrics`).

mod actix_routes;
mod app;
mod cli;

use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    cli::init_tracing();
    cli::exit(run().await)
}

async fn run() -> Result<(), app::BoxError> {
    let config = app::Config::from_env()?;
    let metrics = cli::init_metrics()?;
    let (server, addr) = actix_routes::server(app::build(&config)?, config.addr, None)?;
    cli::banner("actix-web", addr, &config);
    cli::metrics_banner(metrics);
    server.await?;
    Ok(())
}
