//! # bouncer-axum
//!
//! bouncer for [axum] and any [tower] `http` service: a layer that answers
//! every request with allow, **401** (with correct `WWW-Authenticate`
//! challenges), **403**, or a 500/503 fault — never the wrong one.
//!
//! **Depend on this crate** with bouncer-core (and bouncer-authn /
//! bouncer-authz if you use the built-in schemes and policies). It does
//! not depend on them: bring your own `Authenticator` and it works.
//!
//! | piece | what it does |
//! |---|---|
//! | [`Bouncer`] | a shared handle on the gate |
//! | [`GuardLayer`] | stage 1 (blocked paths, IP, country) on every request, before routing |
//! | [`BouncerLayer`] | stages 2–5 for one route's [`RouteRequirement`]; denied requests never reach the handler |
//! | [`Principal`] / `Option<Principal>` | extractors for the caller (required / optional authentication) |
//! | [`BouncerRejection`] | status, challenges, `Retry-After`, `application/problem+json` |
//! | [`ProtectedResourceMetadata`] + [`ProtectedResourceMetadataExt`] | RFC 9728 `/.well-known/oauth-protected-resource` (the document is core's; `.router()` serves it) |
//!
//! No optional features: everything above is always built.
//!
//! The client address comes from axum's `ConnectInfo<SocketAddr>` (serve
//! with `into_make_service_with_connect_info::<SocketAddr>()`); proxy
//! headers are read by the guards' trusted-proxy settings. Each decision
//! gets a [`bouncer_core::DecisionId`]: a denial's problem body
//! names it in `instance` (`urn:bouncer:decision:<id>`), and core's decision
//! log ([`bouncer_core::logging`], target `bouncer::decision`) records it with
//! the stage, the code, the subject and the route pattern (`MatchedPath`) —
//! never a credential.
//!
//! ## Example
//!
//! ```
//! use axum::{routing::get, Router};
//! use bouncer_axum::{Bouncer, Principal, RouteRequirement};
//! use bouncer_core::Gate;
//!
//! async fn me(Principal(who): Principal) -> String {
//!     who.subject().to_owned()
//! }
//!
//! # fn build(gate: Gate) -> Router {
//! let bouncer = Bouncer::new(gate);
//! Router::new()
//!     .route("/me", get(me).route_layer(bouncer.require(RouteRequirement::authenticated())))
//!     .layer(bouncer.guards())
//! # }
//! ```
//!
//! Per-method requirements go on the handler: `get(read.layer(bouncer.require(..)))`.
//! [`Bouncer::try_require`] also checks the requirement against the
//! authorizer when the router is built, so a misspelt permission is a
//! start-up error, not a 403 at run time.
//!
//! [axum]: https://docs.rs/axum
//! [tower]: https://docs.rs/tower

mod extract;
mod future;
mod layer;
mod metadata;
mod rejection;
mod service;

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bouncer_core::logging::DecisionContext;
use bouncer_core::render::RenderOptions;
use bouncer_core::{Decision, DecisionId, Gate, UnknownName, Verdict};

pub use bouncer_core::route::RouteRequirement;
pub use extract::Principal;
pub use future::{GuardFuture, ResponseFuture};
pub use layer::{BouncerLayer, GuardLayer};
pub use metadata::{ProtectedResourceMetadata, ProtectedResourceMetadataExt, WELL_KNOWN_PATH};
pub use rejection::BouncerRejection;
pub use service::{BouncerService, GuardService};

/// A shared handle on a [`Gate`] and the response settings. Cheap to clone.
#[derive(Clone)]
pub struct Bouncer {
    gate: Arc<Gate>,
    expose_detail: bool,
}

impl std::fmt::Debug for Bouncer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bouncer")
            .field("gate", &self.gate)
            .field("expose_detail", &self.expose_detail)
            .finish()
    }
}

impl Bouncer {
    /// A handle on `gate`.
    pub fn new(gate: Gate) -> Self {
        Self::from_arc(Arc::new(gate))
    }

    /// A handle on a shared gate.
    pub fn from_arc(gate: Arc<Gate>) -> Self {
        Self {
            gate,
            expose_detail: true,
        }
    }

    /// Whether problem bodies carry `detail` (default `true`; the details
    /// are fixed texts that never name an account or echo a credential).
    pub fn expose_detail(mut self, expose: bool) -> Self {
        self.expose_detail = expose;
        self
    }

    /// The gate.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The stage-1 layer for the whole router.
    pub fn guards(&self) -> GuardLayer {
        GuardLayer::new(self.clone())
    }

    /// The layer enforcing `requirement` on a route. Prefer
    /// [`try_require`](Self::try_require), which also checks the
    /// requirement's names against the authorizer when the router is
    /// built.
    pub fn require(&self, requirement: impl Into<RouteRequirement>) -> BouncerLayer {
        BouncerLayer::new(self.clone(), requirement)
    }

    /// As [`require`](Self::require), after checking the requirement
    /// against the gate's authorizer ([`Gate::validate`]): a permission or
    /// role the authorizer does not define (a typo) is an error when the
    /// router is built, instead of a 403 on every request.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use bouncer_axum::{Bouncer, RouteRequirement};
    /// use bouncer_core::{Gate, UnknownName};
    ///
    /// # fn build(gate: Gate) -> Result<Router, UnknownName> {
    /// let bouncer = Bouncer::new(gate);
    /// let read = bouncer.try_require(RouteRequirement::authenticated().permission("documents:read"))?;
    /// Ok(Router::new().route("/docs", get(|| async { "docs" }).route_layer(read)))
    /// # }
    /// ```
    pub fn try_require(
        &self,
        requirement: impl Into<RouteRequirement>,
    ) -> Result<BouncerLayer, UnknownName> {
        let requirement = requirement.into();
        self.gate.validate(requirement.base())?;
        Ok(BouncerLayer::new(self.clone(), requirement))
    }

    /// The render options of a denial named `id`.
    pub(crate) fn options(&self, id: &DecisionId) -> RenderOptions {
        RenderOptions::new()
            .expose_detail(self.expose_detail)
            .instance(id.urn())
    }

    /// Logs the verdict and turns it into a response (denials only).
    pub(crate) fn respond(&self, ctx: &DecisionContext<'_>, verdict: Verdict) -> Response {
        let id = self.log(ctx, &verdict);
        match verdict.into_parts().0 {
            Decision::Deny(d) => BouncerRejection::new(d)
                .with_options(self.options(&id))
                .into_response(),
            Decision::Allow(_) => service::internal_error_response(&id),
        }
    }

    /// One decision log event (and the metrics) per decision, under a
    /// fresh decision id. Never a credential.
    pub(crate) fn log(&self, ctx: &DecisionContext<'_>, verdict: &Verdict) -> DecisionId {
        let id = DecisionId::new();
        bouncer_core::logging::decision(&id, verdict, ctx);
        id
    }

    /// Logs why no decision could be made; the 500 to answer.
    pub(crate) fn undecided(&self, ctx: &DecisionContext<'_>, error: &str) -> Response {
        let id = DecisionId::new();
        bouncer_core::logging::undecided(&id, ctx, error);
        service::internal_error_response(&id)
    }
}
