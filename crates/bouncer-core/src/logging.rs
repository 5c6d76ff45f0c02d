//! The decision log and the decision metrics, shared by every adapter, so
//! that an axum, actix-web, tonic and decision-service deployment read the
//! same (`explain.md` §2–3).
//!
//! [`decision`] records one decision:
//!
//! - with feature `tracing`, one event with target `bouncer::decision`
//!   ([`TARGET`]) and the fields `decision_id`, `outcome` (`allow` / `deny`
//!   / `fault`), `status`, `code` (`allow` for allows), `stage` (the
//!   deciding stage: `guards`, `authentication`, `account`,
//!   `authorization`, `step-up`; `none` for an allow), `scheme`, `subject`
//!   (once authenticated), `organization`, `permission`, `resource`,
//!   `method`, `route` (the route pattern the adapter matched, never the
//!   raw path), `client` (the peer's IP address), and for a refusal whose
//!   policy rule is known (`Forbidden::rule`) `rule`, `rule_file`,
//!   `rule_line`. Allows and denials are `INFO`, faults `WARN` (with the
//!   fault's text in `error`). Never a credential, a token, a password, a
//!   cookie or a key: none is among the fields.
//! - with feature `metrics`, through the `metrics` facade: counter
//!   `bouncer_decisions_total{outcome,status,code,stage}` and histogram
//!   `bouncer_decision_duration_seconds{outcome,stage}` (when the adapter
//!   measured the decision). Every label value comes from a closed set
//!   (the statuses bouncer answers, `Code`, `Stage`), so the number of
//!   series is bounded whatever the paths and subjects.
//!
//! Denials and faults are always logged; allows at the rate set with
//! [`set_allow_sample_rate`] (default 1.0: all), decided from the
//! decision id's random bits. Metrics count every decision.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::Method;
#[cfg(feature = "tracing")]
use tracing::field::display;

use crate::decision_id::DecisionId;
use crate::gate::{Stage, StageOutcome, Verdict};
use crate::outcome::{Decision, Denial};
use crate::requirement::Requirement;

/// The target of the decision log's events.
pub const TARGET: &str = "bouncer::decision";

/// `1.0` as bits.
static ALLOW_SAMPLE_RATE: AtomicU64 = AtomicU64::new(0x3FF0_0000_0000_0000);

/// Logs allows at `rate` (0.0 – 1.0; default 1.0, all). Denials and faults
/// are always logged, and metrics always count every decision.
pub fn set_allow_sample_rate(rate: f64) {
    let rate = if rate.is_nan() {
        1.0
    } else {
        rate.clamp(0.0, 1.0)
    };
    ALLOW_SAMPLE_RATE.store(rate.to_bits(), Ordering::Relaxed);
}

/// The rate at which allows are logged.
pub fn allow_sample_rate() -> f64 {
    f64::from_bits(ALLOW_SAMPLE_RATE.load(Ordering::Relaxed))
}

/// What the adapter knows about the request beyond the verdict (the
/// default knows nothing: a denial made by a handler).
#[derive(Debug, Clone, Copy, Default)]
pub struct DecisionContext<'a> {
    method: Option<&'a Method>,
    route: Option<&'a str>,
    client: Option<SocketAddr>,
    requirement: Option<&'a Requirement>,
    elapsed: Option<Duration>,
}

impl<'a> DecisionContext<'a> {
    /// A request with `method`.
    pub fn new(method: &'a Method) -> Self {
        Self {
            method: Some(method),
            route: None,
            client: None,
            requirement: None,
            elapsed: None,
        }
    }

    /// The route pattern the request matched (axum's `MatchedPath`,
    /// actix-web's `match_pattern()`, a gRPC method path) — never the raw
    /// path.
    pub fn route(mut self, route: Option<&'a str>) -> Self {
        self.route = route;
        self
    }

    /// The client's address (the TCP peer).
    pub fn client(mut self, client: Option<SocketAddr>) -> Self {
        self.client = client;
        self
    }

    /// The requirement decided (organization, permission, resource).
    pub fn requirement(mut self, requirement: &'a Requirement) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// How long the decision took.
    pub fn elapsed(mut self, elapsed: Duration) -> Self {
        self.elapsed = Some(elapsed);
        self
    }

    /// The request's method, when known.
    pub fn method_of(&self) -> Option<&'a Method> {
        self.method
    }

    /// The route pattern, when known.
    pub fn route_of(&self) -> Option<&'a str> {
        self.route
    }

    /// The client's address, when known.
    pub fn client_of(&self) -> Option<SocketAddr> {
        self.client
    }
}

/// The outcome label: `allow`, `deny` or `fault`.
pub fn outcome_of(verdict: &Verdict) -> &'static str {
    let trace = verdict.trace();
    match verdict.decision() {
        Decision::Allow(_) => "allow",
        Decision::Deny(Denial::Fault(_)) => "fault",
        Decision::Deny(_) => match trace.deciding_stage().map(|s| trace.outcome(s)) {
            Some(StageOutcome::Faulted(_)) => "fault",
            _ => "deny",
        },
    }
}

/// A status as a label from a closed set (`other` for a status bouncer
/// never answers).
pub fn status_label(status: http::StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "200",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        429 => "429",
        500 => "500",
        503 => "503",
        _ => "other",
    }
}

/// Records one decision: the decision log event (feature `tracing`) and
/// the metrics (feature `metrics`). `id` is the one the adapter puts in
/// the problem body's `instance`.
pub fn decision(id: &DecisionId, verdict: &Verdict, ctx: &DecisionContext<'_>) {
    let trace = verdict.trace();
    let outcome = outcome_of(verdict);
    let stage = match verdict.decision() {
        Decision::Allow(_) => "none",
        Decision::Deny(_) => trace.deciding_stage().map_or("none", Stage::as_str),
    };
    let (status, code) = match verdict.decision() {
        Decision::Allow(_) => (http::StatusCode::OK, "allow"),
        Decision::Deny(d) => (d.status(), d.code().as_str()),
    };
    #[cfg(feature = "metrics")]
    record_metrics(outcome, status_label(status), code, stage, ctx.elapsed);
    #[cfg(feature = "tracing")]
    log_event(id, verdict, ctx, outcome, status, code, stage);
    #[cfg(not(feature = "tracing"))]
    let _ = (id, status);
}

/// The stage a code belongs to, for a denial made outside the gate (a
/// login endpoint's 401, a handler's 404): `none` for faults and 404/429.
pub fn stage_of(code: crate::reason::Code) -> &'static str {
    use crate::reason::{Code, ForbiddenReason};
    match code {
        Code::Authn(_) => Stage::Authentication.as_str(),
        Code::Forbidden(
            ForbiddenReason::BlockedPath | ForbiddenReason::IpBlocked | ForbiddenReason::GeoBlocked,
        ) => Stage::Guards.as_str(),
        Code::Forbidden(ForbiddenReason::AccountSuspended) => Stage::Account.as_str(),
        Code::Forbidden(_) => Stage::Authorization.as_str(),
        _ => "none",
    }
}

/// Records a denial an application made outside the gate with the gate's
/// answers ([`Gate::reject`](crate::Gate::reject) on a login endpoint, a
/// handler's 404), under `id`, which its body names.
pub fn denial(id: &DecisionId, denial: &Denial, ctx: &DecisionContext<'_>) {
    let outcome = match denial {
        Denial::Fault(_) => "fault",
        _ => "deny",
    };
    let code = denial.code().as_str();
    let stage = stage_of(denial.code());
    #[cfg(feature = "metrics")]
    record_metrics(
        outcome,
        status_label(denial.status()),
        code,
        stage,
        ctx.elapsed,
    );
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: TARGET,
        decision_id = %id,
        outcome,
        status = denial.status().as_u16(),
        code,
        stage,
        method = ctx.method.map(display),
        route = ctx.route,
        client = ctx.client.map(|c| display(c.ip())),
        "denied by the application"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (id, outcome, code, stage, ctx);
}

/// Records that the adapter could not decide (`error` names why: a stage
/// panicked, a route's path parameter is missing); the request is
/// answered 500 with `id` in its body.
pub fn undecided(id: &DecisionId, ctx: &DecisionContext<'_>, error: &str) {
    #[cfg(feature = "metrics")]
    record_metrics("fault", "500", "internal_error", "none", ctx.elapsed);
    #[cfg(feature = "tracing")]
    tracing::error!(
        target: TARGET,
        decision_id = %id,
        outcome = "fault",
        status = 500u16,
        code = "internal_error",
        stage = "none",
        method = ctx.method.map(display),
        route = ctx.route,
        client = ctx.client.map(|c| display(c.ip())),
        error,
        "bouncer could not decide"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (id, ctx, error);
}

#[cfg(feature = "metrics")]
fn record_metrics(
    outcome: &'static str,
    status: &'static str,
    code: &'static str,
    stage: &'static str,
    elapsed: Option<Duration>,
) {
    metrics::counter!(
        "bouncer_decisions_total",
        "outcome" => outcome,
        "status" => status,
        "code" => code,
        "stage" => stage
    )
    .increment(1);
    if let Some(elapsed) = elapsed {
        metrics::histogram!(
            "bouncer_decision_duration_seconds",
            "outcome" => outcome,
            "stage" => stage
        )
        .record(elapsed.as_secs_f64());
    }
}

#[cfg(feature = "tracing")]
fn log_event(
    id: &DecisionId,
    verdict: &Verdict,
    ctx: &DecisionContext<'_>,
    outcome: &'static str,
    status: http::StatusCode,
    code: &'static str,
    stage: &'static str,
) {
    let trace = verdict.trace();
    let status = status.as_u16();
    let method = ctx.method.map(display);
    let route = ctx.route;
    let client = ctx.client.map(|c| display(c.ip()));
    let scheme = trace.scheme().map(|s| s.as_str());
    let subject = match verdict.decision() {
        Decision::Allow(caller) => caller.authenticated().map(|a| a.subject()),
        Decision::Deny(_) => trace.subject(),
    };
    let organization = ctx.requirement.and_then(Requirement::organization_id);
    let permission = ctx.requirement.and_then(Requirement::required_permission);
    let resource = ctx.requirement.and_then(Requirement::resource_id);
    match verdict.decision() {
        Decision::Allow(_) => {
            if !id.sampled(allow_sample_rate()) {
                return;
            }
            tracing::info!(
                target: TARGET,
                decision_id = %id, outcome, status, code, stage, scheme, subject,
                organization, permission, resource, method, route, client,
                trace = %trace,
                "allowed"
            );
        }
        Decision::Deny(Denial::Fault(f)) => {
            tracing::warn!(
                target: TARGET,
                decision_id = %id, outcome, status, code, stage, scheme, subject,
                organization, permission, resource, method, route, client,
                trace = %trace, error = %f,
                "fault"
            );
        }
        Decision::Deny(d) => {
            let rule = match d {
                Denial::Forbidden(r) => r.forbidden().rule(),
                _ => None,
            };
            tracing::info!(
                target: TARGET,
                decision_id = %id, outcome, status, code, stage, scheme, subject,
                organization, permission, resource, method, route, client,
                rule = rule.map(|r| r.what()),
                rule_file = rule.map(|r| r.file()),
                rule_line = rule.map(|r| r.line()),
                trace = %trace,
                "denied"
            );
        }
    }
}
