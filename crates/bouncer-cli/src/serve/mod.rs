//! `bouncer serve --config FILE`: the decision service.
//!
//! Environment: `BOUNCER_ADDR` and `BOUNCER_GRPC_ADDR` override the
//! listen addresses, `BOUNCER_REDIS_URL` sets the Redis URL (and turns
//! Redis on), `BOUNCER_LOG` the log filter (default `bouncer=info,warn`;
//! logs go to stderr). Once both listeners are bound the program prints
//! `bouncer: http listening on ADDR` (and `grpc`) on stdout and `GET
//! /health` answers 200. A file that cannot be used stops it at start
//! (exit status 2) with its file, line and column, as does a policy,
//! credential or key file it names.
//!
//! | module | what |
//! |---|---|
//! | [`config`] | the TOML file, checked at start (file:line:col) |
//! | [`routes`] | the route table (method, path pattern with `{param}`s) |
//! | [`resources`] | per-organization resource rules, a `ResourceResolver` |
//! | [`app`] | the policy, schemes, stores and gate built from the file |
//! | [`original`] | the original request as the proxy describes it, believed from trusted proxies only |
//! | [`service`] | the decision and its answer |
//! | [`http`] | `/health`, `/auth`, `/envoy/...`, `/login`, `/login/mfa`, `/logout` |
//! | [`grpc`] | Envoy's `envoy.service.auth.v3.Authorization/Check` |

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

pub(crate) mod app;
pub(crate) mod config;
pub(crate) mod grpc;
pub(crate) mod http;
pub(crate) mod original;
pub(crate) mod resources;
pub(crate) mod routes;
pub(crate) mod service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs the service until SIGINT or SIGTERM.
pub(crate) fn main(config_path: &Path) -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            std::env::var("BOUNCER_LOG")
                .ok()
                .and_then(|f| EnvFilter::try_new(f).ok())
                .unwrap_or_else(|| EnvFilter::new("bouncer=info,warn")),
        )
        .init();
    let config = match config::load(config_path, &|k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bouncer: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bouncer: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A policy, credential or key file that cannot be used is a
    // configuration error too (exit status 2); failing to serve is 1.
    let service = match runtime.block_on(app::build(&config)) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("bouncer: {}: {e}", config.file.display());
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(config, service)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bouncer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[allow(clippy::print_stdout)] // the addresses are the program's output
fn announce(what: &str, addr: SocketAddr) {
    println!("bouncer: {what} listening on {addr}");
    let _ = std::io::stdout().flush();
}

async fn run(config: config::Config, service: Arc<service::Service>) -> Result<(), BoxError> {
    tracing::info!(
        target: "bouncer",
        routes = service.routes.len(),
        resources = config.resources.len(),
        policy = %config.policy.display(),
        redis = config.redis.is_some(),
        "decision service ready"
    );
    let http_listener = tokio::net::TcpListener::bind(config.http)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.http))?;
    let grpc_listener = match config.grpc {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (gRPC): {e}"))?,
        ),
        None => None,
    };
    announce("http", http_listener.local_addr()?);
    let grpc_task = match grpc_listener {
        Some(listener) => {
            announce("grpc", listener.local_addr()?);
            let server = tonic::transport::Server::builder()
                .add_service(grpc::Check::server(service.clone()))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    shutdown(),
                );
            Some(tokio::spawn(server))
        }
        None => None,
    };
    axum::serve(
        http_listener,
        http::router(service).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    if let Some(task) = grpc_task {
        task.await??;
    }
    Ok(())
}
