//! The decision: the library's gate on the original request, and the
//! answer in the words every endpoint shares.
//!
//! 1. Stage 1 (request guards) on the original request, before routing.
//! 2. The route table: no route is 404, whatever the credentials.
//! 3. Stages 2–5 with the route's requirement.
//!
//! Denials are rendered by `bouncer_core::render` only, so every endpoint
//! (and the library's HTTP adapters) answers the same request with the
//! same status, challenges, `Retry-After` and problem bytes.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use bouncer_authn::revocation::RevocationStore;
use bouncer_authz::ClientIpResolver;
use bouncer_core::logging::{self, DecisionContext};
use bouncer_core::render::{RenderOptions, Rendered};
use bouncer_core::DecisionId;
use bouncer_core::{
    Caller, Decision, Denial, Fault, ForbiddenReason, Gate, GuardsPassed, RequestContext,
    Requirement, Verdict,
};
use bouncer_session::Sessions;
use futures_util::FutureExt;
use http::{HeaderName, HeaderValue};

use super::original::{Original, Refusal};
use super::routes::RouteTable;

/// The subject of an allowed caller.
pub(crate) const X_BOUNCER_SUBJECT: HeaderName = HeaderName::from_static("x-bouncer-subject");
/// The organization the caller was allowed in (the route's, else the one
/// the credential is bound to).
pub(crate) const X_BOUNCER_ORGANIZATION: HeaderName =
    HeaderName::from_static("x-bouncer-organization");
/// The scheme that authenticated the caller (`bearer`, `basic`, `api_key`,
/// `session`).
pub(crate) const X_BOUNCER_SCHEME: HeaderName = HeaderName::from_static("x-bouncer-scheme");

/// Every identity header, the ones a proxy copies upstream and strips from
/// the client's request.
pub(crate) const IDENTITY_HEADER_NAMES: [&str; 3] = [
    "x-bouncer-subject",
    "x-bouncer-organization",
    "x-bouncer-scheme",
];

/// The identity of an allowed request, as header values for the upstream.
/// Empty for anonymous callers of public routes.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdentityHeaders {
    pub(crate) values: Vec<(HeaderName, HeaderValue)>,
}

impl IdentityHeaders {
    /// The identity headers this answer does not set (for the proxy to
    /// remove from the upstream request).
    pub(crate) fn absent(&self) -> impl Iterator<Item = &'static str> + '_ {
        IDENTITY_HEADER_NAMES
            .into_iter()
            .filter(|h| !self.values.iter().any(|(n, _)| n.as_str() == *h))
    }
}

/// The answer to one question.
#[derive(Debug)]
pub(crate) enum Answer {
    /// 200, with the identity for the upstream.
    Allow(IdentityHeaders),
    /// The denial to render, and the decision's id (its `instance`, and
    /// the id of its decision log line).
    Deny(Denial, DecisionId),
}

/// Everything a decision needs. Shared by the HTTP and gRPC listeners.
pub(crate) struct Service {
    pub(crate) gate: Gate,
    pub(crate) routes: RouteTable,
    /// Trusted proxies (the policy's `[guards]`), also the client-address
    /// resolver of the login throttle.
    pub(crate) trust: ClientIpResolver,
    pub(crate) render: RenderOptions,
    pub(crate) sessions: Option<Sessions>,
    pub(crate) revocations: Option<Arc<dyn RevocationStore>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("gate", &self.gate)
            .field("routes", &self.routes.len())
            .field("sessions", &self.sessions.is_some())
            .finish_non_exhaustive()
    }
}

/// The denial for a description that is not used.
pub(crate) fn refusal(r: Refusal) -> Denial {
    match r {
        Refusal::Untrusted => Denial::from(ForbiddenReason::IpBlocked),
        Refusal::Unusable(why) => Denial::Fault(Fault::misconfigured(why)),
    }
}

fn header_value(text: &str) -> Result<HeaderValue, Fault> {
    HeaderValue::from_bytes(text.as_bytes())
        .map_err(|_| Fault::internal_msg("an identity value cannot be sent as a header"))
}

fn identity_headers(caller: &Caller, requirement: &Requirement) -> Result<IdentityHeaders, Fault> {
    let Some(who) = caller.authenticated() else {
        return Ok(IdentityHeaders::default());
    };
    let mut values = vec![(X_BOUNCER_SUBJECT, header_value(who.subject())?)];
    if let Some(org) = requirement.organization_id().or(who.organization()) {
        values.push((X_BOUNCER_ORGANIZATION, header_value(org)?));
    }
    values.push((X_BOUNCER_SCHEME, header_value(who.scheme().as_str())?));
    Ok(IdentityHeaders { values })
}

impl Service {
    /// Renders the denial of decision `id`: the one renderer, with the
    /// id as the body's `instance`.
    pub(crate) fn render(&self, denial: &Denial, id: &DecisionId) -> Rendered {
        denial.render(&self.render.clone().instance(id.urn()))
    }

    /// Names, logs and renders a denial made outside [`decide`](Self::decide)
    /// (a refused description, a login): one decision log line, whose id
    /// the body's `instance` carries.
    pub(crate) fn refuse(&self, denial: &Denial, ctx: &DecisionContext<'_>) -> Rendered {
        let id = DecisionId::new();
        logging::denial(&id, denial, ctx);
        self.render(denial, &id)
    }

    /// Stage 1 for a request the service answers itself (login, logout).
    pub(crate) fn guard(&self, request: &RequestContext<'_>) -> Result<GuardsPassed, Denial> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.gate.guard(request))) {
            Ok(Ok(proof)) => Ok(proof),
            Ok(Err(verdict)) => {
                let (decision, _) = verdict.into_parts();
                match decision {
                    Decision::Deny(d) => Err(d),
                    Decision::Allow(_) => Err(Denial::Fault(Fault::internal_msg(
                        "the guards allowed and denied at once",
                    ))),
                }
            }
            Err(_) => Err(Denial::Fault(Fault::internal_msg(
                "a request guard panicked",
            ))),
        }
    }

    /// Stages 2–5 for `requirement`, a panicking stage being a 500.
    pub(crate) async fn decide_guarded(
        &self,
        proof: GuardsPassed,
        request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Result<Verdict, Denial> {
        AssertUnwindSafe(self.gate.decide_guarded(proof, request, requirement))
            .catch_unwind()
            .await
            .map_err(|_| Denial::Fault(Fault::internal_msg("a stage panicked")))
    }

    /// The decision about an original request.
    pub(crate) async fn decide(&self, original: &Original) -> Answer {
        let started = Instant::now();
        let id = DecisionId::new();
        let ctx = RequestContext::new(&original.method, &original.uri, &original.headers)
            .with_peer(original.peer);
        let log = DecisionContext::new(&original.method).client(original.peer);
        let deny = |denial: Denial, log: DecisionContext<'_>| {
            logging::denial(&id, &denial, &log.elapsed(started.elapsed()));
            Answer::Deny(denial, id)
        };
        let proof = match self.guard(&ctx) {
            Ok(proof) => proof,
            Err(denial) => return deny(denial, log),
        };
        // A CORS preflight is routed by the method it asks about.
        let routed_method = if ctx.is_cors_preflight() {
            original
                .headers
                .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)
                .and_then(|m| http::Method::from_bytes(m.as_bytes()).ok())
                .unwrap_or_else(|| original.method.clone())
        } else {
            original.method.clone()
        };
        let Some(matched) = self.routes.find(&routed_method, original.uri.path()) else {
            return deny(Denial::NotFound, log);
        };
        let log = log.route(Some(matched.route.pattern()));
        let requirement = match matched.route.requirement().resolve(|n| matched.param(n)) {
            Ok(r) => r,
            Err(fault) => return deny(Denial::Fault(fault), log),
        };
        let verdict = match self.decide_guarded(proof, &ctx, &requirement).await {
            Ok(v) => v,
            Err(denial) => return deny(denial, log),
        };
        let log = log.requirement(&requirement).elapsed(started.elapsed());
        logging::decision(&id, &verdict, &log);
        let (decision, _) = verdict.into_parts();
        match decision {
            Decision::Allow(caller) => match identity_headers(&caller, &requirement) {
                Ok(headers) => Answer::Allow(headers),
                Err(fault) => deny(Denial::Fault(fault), log),
            },
            Decision::Deny(denial) => Answer::Deny(denial, id),
        }
    }
}
