//! `cargo run --example quickstart`: a small multi-tenant documents API
//! that shows every row of bouncer's HTTP contract.
//!
//! Environment: `BOUNCER_ADDR` (default `127.0.0.1:8080`),
//! `BOUNCER_DEMO_SECRET` (the HS256 secret of demo tokens),
//! `BOUNCER_DEMO_JWKS` (a JWKS file whose RSA, P-256 and Ed25519 keys are
//! trusted too), `BOUNCER_POLICY` (default: `policy.toml` beside this file),
//! `BOUNCER_REDIS_URL` (share revocations and sessions through Redis).

mod app;

use std::net::SocketAddr;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("bouncer=info,warn")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("quickstart failed: {e}");
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let config = app::Config::from_env()?;
    let router = app::build(&config)?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    banner(addr, &config);
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

#[allow(clippy::print_stdout)] // the start-up message is the point
fn banner(addr: SocketAddr, config: &app::Config) {
    let base = format!("http://{addr}");
    let secret_note = if config.secret == app::DEFAULT_DEMO_SECRET {
        "the default demo secret".to_owned()
    } else {
        "BOUNCER_DEMO_SECRET".to_owned()
    };
    let jwks = config
        .jwks
        .as_ref()
        .map_or_else(|| "not set".to_owned(), |p| p.display().to_string());
    let state = if config.redis.is_some() {
        "Redis (BOUNCER_REDIS_URL)"
    } else {
        "memory"
    };
    println!(
        r#"bouncer quickstart listening on {base}
  policy: {policy}
  JWKS: {jwks}; revocations and sessions: {state}

Get a demo token (HS256, signed with {secret_note}):
  TOKEN=$(cargo xtask token alice --org acme)
  ADMIN=$(cargo xtask token erin --mfa)
  ES256=$(cargo xtask token bob --alg ES256)   # needs BOUNCER_DEMO_JWKS=examples/quickstart/demo-keys/jwks.json

Try:
  curl -i {base}/health
  curl -i {base}/me                                                   # 401 missing_credentials
  curl -i -u alice:alice-pass {base}/orgs/acme/documents              # 200
  curl -i -u alice:wrong {base}/me                                    # 401 invalid_credentials
  curl -i -u bob:bob-pass -X DELETE {base}/orgs/acme/documents/welcome     # 403 insufficient_permission
  curl -i -u carol:carol-pass {base}/orgs/acme/documents/roadmap      # 403 not_shared
  curl -i -H "Authorization: Bearer $TOKEN" {base}/orgs/globex/documents   # 403 tenant_mismatch
  curl -i -H "X-API-Key: demo-reporter-key" {base}/orgs/acme/documents
  curl -i -H "Authorization: Bearer $(cargo xtask token erin)" {base}/admin/audit   # 401 mfa_required
  curl -i -H "Authorization: Bearer $ADMIN" {base}/admin/audit        # 200
  curl -i {base}/.env                                                 # 403 blocked_path

Sessions with MFA (erin has TOTP enrolled; `cargo xtask totp` prints her current code):
  curl -i -c jar -u erin:erin-pass -X POST {base}/login                # 204, MFA pending
  curl -i -b jar {base}/me                                            # 401 mfa_required
  curl -i -b jar -c jar -X POST -d "{{\"code\":\"$(cargo xtask totp)\"}}" {base}/login/mfa   # 204
  curl -i -b jar {base}/admin/audit                                   # 200
"#,
        policy = config.policy.display(),
    );
}
