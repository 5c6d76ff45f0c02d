//! # bouncer-actix
//!
//! bouncer for [actix-web]: middleware that answers every request with
//! allow, **401** (with correct `WWW-Authenticate` challenges), **403**, or
//! a 500/503 fault — never the wrong one, and byte for byte the answer the
//! axum adapter gives (`http-contract.md` §6: both render through
//! [`bouncer_core::render`]).
//!
//! **Depend on this crate** with bouncer-core (and bouncer-authn /
//! bouncer-authz if you use the built-in schemes and policies). It does
//! not depend on them: bring your own `Authenticator` and it works.
//!
//! | piece | what it does |
//! |---|---|
//! | [`Bouncer`] | a shared handle on the gate |
//! | [`Guards`] | stage 1 (blocked paths, IP, country) on every request, before routing: `App::wrap` |
//! | [`Require`] | stages 2–5 for one [`RouteRequirement`]; denied requests never reach an extractor or the handler: `Route::wrap`, `Resource::wrap`, `Scope::wrap` |
//! | [`Principal`] / [`MaybePrincipal`] / `Option<Principal>` | extractors for the caller ([`extract`] compares them) |
//! | [`BouncerRejection`] | a [`ResponseError`](actix_web::ResponseError): status, challenges, `Retry-After`, `application/problem+json` |
//! | [`ProtectedResourceMetadataExt`] | RFC 9728 `/.well-known/oauth-protected-resource` |
//! | [`request_parts`] | the request as `http` 1 parts, for bouncer APIs that read headers |
//!
//! No optional features: everything above is always built.
//!
//! The client address is the TCP peer ([`HttpRequest::peer_addr`]); proxy
//! headers are read by the guards' trusted-proxy settings, never by this
//! crate. A panicking stage is a 500; a fault is a 500, or a 503 with
//! `Retry-After`. Each decision gets a
//! [`bouncer_core::DecisionId`]: a denial's problem body names it
//! in `instance` (`urn:bouncer:decision:<id>`), and core's decision log
//! ([`bouncer_core::logging`], target `bouncer::decision`) records it with
//! the stage, the code, the subject and the route pattern
//! (`match_pattern()`) — never a credential.
//!
//! actix-web 4 is built on `http` 0.2 and bouncer on `http` 1: the
//! middleware copies the method, URI and header fields (every field line,
//! in order) into `http` 1 types for the gate, and copies the rendered
//! denial back.
//!
//! ## Example
//!
//! ```
//! use actix_web::{web, App, HttpServer};
//! use bouncer_actix::{Bouncer, Principal, RouteRequirement};
//! use bouncer_core::Gate;
//!
//! async fn me(Principal(who): Principal) -> String {
//!     who.subject().to_owned()
//! }
//!
//! async fn documents(Principal(who): Principal, org: web::Path<String>) -> String {
//!     format!("{} reads {org}", who.subject())
//! }
//!
//! fn app(cfg: &mut web::ServiceConfig, bouncer: &Bouncer) {
//!     let read = RouteRequirement::authenticated()
//!         .permission("documents:read")
//!         .organization_from("org");
//!     cfg.route("/me", web::get().to(me).wrap(bouncer.require(RouteRequirement::authenticated())))
//!         .service(
//!             web::resource("/orgs/{org}/documents")
//!                 .route(web::get().to(documents).wrap(bouncer.require(read))),
//!         );
//! }
//!
//! # fn serve(gate: Gate) -> std::io::Result<actix_web::dev::Server> {
//! let bouncer = Bouncer::new(gate);
//! let server = HttpServer::new(move || {
//!     let b = bouncer.clone();
//!     App::new()
//!         .configure(|cfg| app(cfg, &b))
//!         // Wrapped last: the outermost middleware, before routing.
//!         .wrap(bouncer.guards())
//! })
//! .bind("127.0.0.1:0")?
//! .run();
//! # Ok(server)
//! # }
//! ```
//!
//! Per-method requirements go on the route (`web::get().to(h).wrap(..)`):
//! then a method the resource does not serve is actix-web's 405, as in the
//! axum adapter, rather than a 401.
//!
//! [actix-web]: https://docs.rs/actix-web
//! [`HttpRequest::peer_addr`]: actix_web::HttpRequest::peer_addr

mod convert;
pub mod extract;
mod metadata;
mod middleware;
mod rejection;

use std::sync::Arc;

use actix_web::HttpResponse;
use bouncer_core::logging::DecisionContext;
use bouncer_core::render::RenderOptions;
use bouncer_core::{Decision, DecisionId, Denial, Fault, Gate, Verdict};

pub use bouncer_core::route::RouteRequirement;
pub use convert::{headers, request_parts};
pub use extract::{MaybePrincipal, Principal};
pub use metadata::{ProtectedResourceMetadata, ProtectedResourceMetadataExt, WELL_KNOWN_PATH};
pub use middleware::{
    Guards, GuardsFuture, GuardsMiddleware, Require, RequireFuture, RequireMiddleware,
};
pub use rejection::BouncerRejection;

/// A shared handle on a [`Gate`] and the response settings. Cheap to
/// clone; `Send + Sync`, so one handle serves every actix-web worker.
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

    /// The stage-1 middleware for the whole app (`App::wrap`).
    pub fn guards(&self) -> Guards {
        Guards::new(self.clone())
    }

    /// The middleware enforcing `requirement` on a route, resource or
    /// scope. Prefer [`try_require`](Self::try_require), which also checks
    /// the requirement's names against the authorizer when the app is
    /// built.
    pub fn require(&self, requirement: impl Into<RouteRequirement>) -> Require {
        Require::new(self.clone(), requirement)
    }

    /// As [`require`](Self::require), after checking the requirement
    /// against the gate's authorizer ([`Gate::validate`]): a permission or
    /// role the authorizer does not define (a typo) is an error when the
    /// app is built, instead of a 403 on every request.
    ///
    /// ```
    /// use actix_web::web;
    /// use bouncer_actix::{Bouncer, RouteRequirement};
    /// use bouncer_core::UnknownName;
    ///
    /// fn routes(cfg: &mut web::ServiceConfig, bouncer: &Bouncer) -> Result<(), UnknownName> {
    ///     let read = bouncer.try_require(RouteRequirement::authenticated().permission("documents:read"))?;
    ///     cfg.route("/docs", web::get().to(|| async { "docs" }).wrap(read));
    ///     Ok(())
    /// }
    /// ```
    pub fn try_require(
        &self,
        requirement: impl Into<RouteRequirement>,
    ) -> Result<Require, bouncer_core::UnknownName> {
        let requirement = requirement.into();
        self.gate.validate(requirement.base())?;
        Ok(Require::new(self.clone(), requirement))
    }

    /// `denial` as this handle answers it (with or without `detail`).
    pub fn rejection(&self, denial: Denial) -> BouncerRejection {
        let r = BouncerRejection::new(denial);
        if self.expose_detail {
            r
        } else {
            r.without_detail()
        }
    }

    /// Logs the verdict and turns it into a response (denials only).
    fn respond(&self, ctx: &DecisionContext<'_>, verdict: Verdict) -> HttpResponse {
        let id = self.log(ctx, &verdict);
        match verdict.into_parts().0 {
            Decision::Deny(d) => self.named(d, &id).to_response(),
            Decision::Allow(_) => {
                self.undecided(ctx, "an allowed verdict was answered as a denial")
            }
        }
    }

    /// `denial` as this handle answers it, its body naming decision `id`.
    fn named(&self, denial: Denial, id: &DecisionId) -> BouncerRejection {
        BouncerRejection::new(denial).with_options(
            RenderOptions::new()
                .expose_detail(self.expose_detail)
                .instance(id.urn()),
        )
    }

    /// One decision log event (and the metrics) under a fresh id.
    fn log(&self, ctx: &DecisionContext<'_>, verdict: &Verdict) -> DecisionId {
        let id = DecisionId::new();
        bouncer_core::logging::decision(&id, verdict, ctx);
        id
    }

    /// Logs why no decision could be made and answers 500.
    fn undecided(&self, ctx: &DecisionContext<'_>, error: &str) -> HttpResponse {
        let id = DecisionId::new();
        bouncer_core::logging::undecided(&id, ctx, error);
        self.named(
            Denial::Fault(Fault::internal_msg("bouncer middleware failed")),
            &id,
        )
        .to_response()
    }
}
