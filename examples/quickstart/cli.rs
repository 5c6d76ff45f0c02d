//! What the two quickstart binaries share: logging, the start-up message,
//! and the exit code.

use std::net::SocketAddr;
use std::process::ExitCode;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::app;

/// Logs as `RUST_LOG` filters (default: bouncer's decisions). With
/// `BOUNCER_DECISION_LOG=json`, the decision log (target
/// `bouncer::decision`) is also printed as JSON lines on stderr, whatever
/// `RUST_LOG` says (a filter of its own on that layer).
/// `BOUNCER_DECISION_LOG_ALLOW_RATE` (0.0–1.0, default 1.0) samples allows;
/// denials and faults are always logged.
pub(crate) fn init_tracing() {
    let text = tracing_subscriber::fmt::layer().with_filter(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("bouncer=info,warn")),
    );
    let json = (std::env::var("BOUNCER_DECISION_LOG").as_deref() == Ok("json")).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stderr)
            .with_filter(
                Targets::new().with_target(bouncer_core::logging::TARGET, LevelFilter::TRACE),
            )
    });
    if let Some(rate) = std::env::var("BOUNCER_DECISION_LOG_ALLOW_RATE")
        .ok()
        .and_then(|r| r.parse::<f64>().ok())
    {
        bouncer_core::logging::set_allow_sample_rate(rate);
    }
    tracing_subscriber::registry().with(text).with(json).init();
}

/// With `BOUNCER_METRICS_ADDR` set, serves the decision metrics
/// (`bouncer_decisions_total`, `bouncer_decision_duration_seconds`) in
/// the Prometheus text format at `http://$BOUNCER_METRICS_ADDR/metrics`,
/// on a listener of its own. Needs a running tokio runtime.
pub(crate) fn init_metrics() -> Result<Option<SocketAddr>, app::BoxError> {
    let Ok(addr) = std::env::var("BOUNCER_METRICS_ADDR") else {
        return Ok(None);
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| format!("BOUNCER_METRICS_ADDR {addr:?}: {e}"))?;
    // Decision times as a Prometheus histogram (not the default summary),
    // from 10 µs to 1 s.
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(
                "bouncer_decision_duration_seconds".to_owned(),
            ),
            &[
                0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ],
        )?
        .install()?;
    Ok(Some(addr))
}

/// The exit code of `run`'s result, reporting a failure.
pub(crate) fn exit(result: Result<(), app::BoxError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("quickstart failed: {e}");
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Where the metrics are served, if they are.
#[allow(clippy::print_stdout)] // part of the start-up message
pub(crate) fn metrics_banner(addr: Option<SocketAddr>) {
    if let Some(addr) = addr {
        println!("metrics (Prometheus): http://{addr}/metrics");
    }
}

/// The start-up message: where it listens, and how to try it.
#[allow(clippy::print_stdout)] // the start-up message is the point
pub(crate) fn banner(framework: &str, addr: SocketAddr, config: &app::Config) {
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
        r#"bouncer quickstart ({framework}) listening on {base}
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
  curl -i {base}/.well-known/oauth-protected-resource                 # RFC 9728 metadata

Sessions with MFA (erin has TOTP enrolled; `cargo xtask totp` prints her current code):
  curl -i -c jar -u erin:erin-pass -X POST {base}/login                # 204, MFA pending
  curl -i -b jar {base}/me                                            # 401 mfa_required
  curl -i -b jar -c jar -X POST -d "{{\"code\":\"$(cargo xtask totp)\"}}" {base}/login/mfa   # 204
  curl -i -b jar {base}/admin/audit                                   # 200
"#,
        policy = config.policy.display(),
    );
    if config.dpop.is_some() {
        println!(
            r#"DPoP (BOUNCER_DPOP): tokens bound to the demo DPoP key, with a proof per request:
  DPOP=$(cargo xtask token alice --org acme --dpop)
  curl -i -H "Authorization: DPoP $DPOP" -H "DPoP: $(cargo run -q -p bouncer-cli -- token proof --htm GET --htu {base}/me --token $DPOP)" {base}/me   # 200
  curl -i -H "Authorization: Bearer $DPOP" {base}/me                  # 401 invalid_token (bound to a key)
"#
        );
    }
}
