//! The [`Gate`]: the five stages of the contract, run in order, returning
//! exactly one [`Decision`] and a [`Trace`] of what each stage decided.
//!
//! | stage | implemented by | denial |
//! |---|---|---|
//! | 1 guards | [`RequestGuard`] | 403 |
//! | 2 authentication | [`Authenticator`] | 401 + challenges |
//! | 3 account | [`AccountDirectory`] | 403 `account_suspended` |
//! | 4 authorization | [`Authorizer`] | 403 (or 404 for a missing resource) |
//! | 5 step-up | the route's [`StepUp`] | 401 + RFC 9470 challenge |
//!
//! The first stage that denies decides. A stage that errors ends the
//! request with 500/503: nothing fails open.
//!
//! The files follow the request: this one runs the stages; `builder`
//! holds what the gate is made of, `challenges` the denials and the
//! challenges they carry, `trace` what each stage decided. Dependencies
//! point one way, from here to the others; none of them names the gate.
//!
//! [`RequestGuard`]: crate::RequestGuard
//! [`Authenticator`]: crate::Authenticator
//! [`AccountDirectory`]: crate::AccountDirectory
//! [`Authorizer`]: crate::Authorizer
//! [`StepUp`]: crate::StepUp
//! [`Decision`]: crate::Decision

mod builder;
mod challenges;
mod trace;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::authorization::Credentials;
use crate::identity::{Authenticated, Identity, SchemeName};
use crate::outcome::{
    AuthnError, Caller, Decision, Denial, Fault, Forbidden, ForbiddenDenial, Unauthenticated,
};
use crate::reason::{AuthnReason, ForbiddenReason};
use crate::request::RequestContext;
use crate::requirement::{Authentication, Requirement};
use crate::traits::{AccountState, Authenticator};

pub use builder::{GateBuilder, Profile};
pub use trace::{Stage, StageOutcome, Trace, Verdict};

use builder::Config;

/// Proof that the request guards (stage 1) passed for a request, so a
/// route-level layer can run stages 2–5 without repeating them. Only
/// [`Gate::guard`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct GuardsPassed(());

/// The staged pipeline. Build it once with [`Gate::builder`] and share it
/// (it is cheap to clone behind an `Arc`).
///
/// ```
/// # use bouncer_core::*;
/// # use async_trait::async_trait;
/// # struct Key;
/// # #[async_trait]
/// # impl Authenticator for Key {
/// #     fn scheme(&self) -> SchemeName { SchemeName::API_KEY }
/// #     fn recognizes(&self, r: &RequestContext<'_>) -> bool { r.headers().contains_key("x-api-key") }
/// #     async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
/// #         Ok(r.headers().get("x-api-key").map(|_| Identity::service("svc", SchemeName::API_KEY)))
/// #     }
/// #     fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> { None }
/// # }
/// # tokio_test_block_on(async {
/// let gate = Gate::builder().realm("api").authenticator(Key).build();
/// let req = http::Request::get("/me").body(()).unwrap();
/// let (parts, _) = req.into_parts();
/// let verdict = gate.decide(&RequestContext::from_parts(&parts), &Requirement::authenticated()).await;
/// let denial = verdict.decision().denial().unwrap();
/// assert_eq!(denial.status(), 401);
/// assert_eq!(denial.code(), "missing_credentials");
/// assert_eq!(denial.challenges()[0].to_string(), r#"Bearer realm="api""#);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct Gate {
    config: Config,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.debug_struct("Gate")
            .field("guards", &c.guards.len())
            .field(
                "authenticators",
                &c.authenticators
                    .iter()
                    .map(|a| a.scheme())
                    .collect::<Vec<_>>(),
            )
            .field("accounts", &c.accounts.is_some())
            .field("authorizer", &c.authorizer.is_some())
            .field("profile", &c.profile)
            .field("realm", &c.realm)
            .finish()
    }
}

impl GateBuilder {
    /// Builds the gate.
    pub fn build(self) -> Gate {
        Gate {
            config: self.config,
        }
    }
}

impl Gate {
    /// A builder with no stages configured.
    pub fn builder() -> GateBuilder {
        GateBuilder {
            config: Config::default(),
        }
    }

    /// The authenticators, in order.
    pub fn authenticators(&self) -> &[Arc<dyn Authenticator>] {
        &self.config.authenticators
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.config.profile
    }

    /// Checks `requirement` against the authorizer when the application
    /// is built ([`Authorizer::validate`](crate::Authorizer::validate)):
    /// adapters call it for each route, so a permission or role the
    /// authorizer does not define fails at start-up, not as a 403 at run
    /// time. `Ok(())` without an authorizer.
    pub fn validate(&self, requirement: &Requirement) -> Result<(), crate::UnknownName> {
        match &self.config.authorizer {
            Some(authorizer) => authorizer.validate(requirement),
            None => Ok(()),
        }
    }

    /// The gate's time: what its [`Clock`](crate::Clock) reads now. For
    /// flows outside the gate (a login endpoint, MFA completion) that must
    /// agree with the decisions, such as the `auth_time` they record.
    pub fn now(&self) -> SystemTime {
        self.config.clock.now()
    }

    /// `request` at the gate's time: one clock reading per decision, seen
    /// by every stage.
    fn at_now<'a>(&self, request: &RequestContext<'a>) -> RequestContext<'a> {
        request.with_now(self.now())
    }

    /// Runs stage 1 only. On success, returns the proof to pass to
    /// [`decide_guarded`](Self::decide_guarded).
    /// The denial is boxed: it is the cold path.
    pub fn guard(&self, request: &RequestContext<'_>) -> Result<GuardsPassed, Box<Verdict>> {
        let request = self.at_now(request);
        let mut trace = Trace::default();
        match self.run_guards(&request, &mut trace) {
            Ok(()) => Ok(GuardsPassed(())),
            Err(denial) => Err(Box::new(Verdict::new(Decision::Deny(denial), trace))),
        }
    }

    /// Runs all five stages.
    pub async fn decide(&self, request: &RequestContext<'_>, requirement: &Requirement) -> Verdict {
        let request = self.at_now(request);
        let mut trace = Trace::default();
        if let Err(denial) = self.run_guards(&request, &mut trace) {
            return Verdict::new(Decision::Deny(denial), trace);
        }
        self.decide_after_guards(&request, requirement, trace).await
    }

    /// Runs stages 2–5 for a request whose guards already passed.
    pub async fn decide_guarded(
        &self,
        _proof: GuardsPassed,
        request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Verdict {
        let request = self.at_now(request);
        let mut trace = Trace::default();
        trace.set(Stage::Guards, StageOutcome::Passed);
        self.decide_after_guards(&request, requirement, trace).await
    }

    /// The 401 the gate would answer for `unauthenticated` on a route with
    /// `requirement`, `failing` naming the scheme that was tried. For flows
    /// outside the gate (a login endpoint) that must answer exactly like it.
    pub fn reject(
        &self,
        requirement: &Requirement,
        failing: Option<&SchemeName>,
        unauthenticated: Unauthenticated,
    ) -> Denial {
        challenges::unauthenticated(&self.config, requirement, failing, unauthenticated)
    }

    /// Stage 1.
    fn run_guards(&self, request: &RequestContext<'_>, trace: &mut Trace) -> Result<(), Denial> {
        for guard in &self.config.guards {
            if let Err(e) = guard.check(request) {
                let denial = challenges::access(&self.config, e, None, None);
                trace.set(Stage::Guards, StageOutcome::of(&denial));
                return Err(denial);
            }
        }
        trace.set(Stage::Guards, StageOutcome::Passed);
        Ok(())
    }

    /// Stages 2–5, `request` already at the gate's time.
    async fn decide_after_guards(
        &self,
        request: &RequestContext<'_>,
        requirement: &Requirement,
        mut trace: Trace,
    ) -> Verdict {
        let deny = |trace: &mut Trace, stage: Stage, denial: Denial| {
            trace.set(stage, StageOutcome::of(&denial));
            Verdict::new(Decision::Deny(denial), std::mem::take(trace))
        };
        if requirement.authentication() == Authentication::Public
            || (self.config.preflight_passes && request.is_cors_preflight())
        {
            trace.set_after_guards(StageOutcome::Skipped);
            return Verdict::new(Decision::Allow(Caller::Anonymous), trace);
        }

        // Stage 2: authentication.
        let identity = match self.authenticate(request, requirement, &mut trace).await {
            Ok(Some(identity)) => identity,
            Ok(None) => {
                trace.set_after_guards(StageOutcome::Skipped);
                trace.set(Stage::Authentication, StageOutcome::Passed);
                return Verdict::new(Decision::Allow(Caller::Anonymous), trace);
            }
            Err(denial) => return deny(&mut trace, Stage::Authentication, denial),
        };
        trace.set(Stage::Authentication, StageOutcome::Passed);
        trace.set_identity(&identity);

        // Stage 3: account.
        if let Some(accounts) = &self.config.accounts {
            let denial = match accounts.state(&identity).await {
                Ok(AccountState::Active) => None,
                Ok(_) => Some(Denial::Forbidden(Box::new(ForbiddenDenial {
                    forbidden: Forbidden::new(ForbiddenReason::AccountSuspended),
                    challenges: Vec::new(),
                }))),
                Err(fault) => Some(Denial::Fault(fault)),
            };
            if let Some(denial) = denial {
                return deny(&mut trace, Stage::Account, denial);
            }
            trace.set(Stage::Account, StageOutcome::Passed);
        } else {
            trace.set(Stage::Account, StageOutcome::Skipped);
        }

        // Stage 4: authorization.
        let caller = Authenticated::new(identity);
        let needs_authz = requirement.required_permission().is_some()
            || requirement.organization_id().is_some()
            || requirement.resource_id().is_some()
            || requirement.is_elevated();
        match &self.config.authorizer {
            Some(authorizer) => {
                if let Err(e) = authorizer.authorize(&caller, request, requirement).await {
                    let denial =
                        challenges::access(&self.config, e, Some(&caller), Some(requirement));
                    return deny(&mut trace, Stage::Authorization, denial);
                }
                trace.set(Stage::Authorization, StageOutcome::Passed);
            }
            None if needs_authz => {
                let denial = Denial::Fault(Fault::misconfigured(
                    "the route needs authorization but the gate has no authorizer",
                ));
                return deny(&mut trace, Stage::Authorization, denial);
            }
            None => trace.set(Stage::Authorization, StageOutcome::Skipped),
        }

        // Stage 5: step-up.
        match requirement.step_up_requirement() {
            Some(step_up) if !step_up.is_satisfied_by(caller.auth_context(), request.now()) => {
                let denial =
                    challenges::step_up(&self.config, requirement, caller.scheme(), step_up);
                return deny(&mut trace, Stage::StepUp, denial);
            }
            Some(_) => trace.set(Stage::StepUp, StageOutcome::Passed),
            None => trace.set(Stage::StepUp, StageOutcome::Skipped),
        }

        Verdict::new(Decision::Allow(Caller::Authenticated(caller)), trace)
    }

    /// Stage 2. `Ok(None)` means anonymous on an optional route.
    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
        requirement: &Requirement,
        trace: &mut Trace,
    ) -> Result<Option<Identity>, Denial> {
        let chosen = self
            .config
            .authenticators
            .iter()
            .find(|a| requirement.accepts(&a.scheme()) && a.recognizes(request));
        let Some(authenticator) = chosen else {
            return self.no_accepted_credentials(request, requirement, trace);
        };
        let scheme = authenticator.scheme();
        trace.set_scheme(scheme.clone());
        match authenticator.authenticate(request).await {
            Ok(Some(mut identity)) => {
                // The identity names the scheme that really verified it, so
                // later challenges (scope, step-up) come from that scheme.
                identity.set_scheme(scheme);
                Ok(Some(identity))
            }
            Ok(None) => self.no_accepted_credentials(request, requirement, trace),
            Err(AuthnError::Unauthenticated(unauthenticated)) => Err(challenges::unauthenticated(
                &self.config,
                requirement,
                Some(&scheme),
                unauthenticated,
            )),
            Err(AuthnError::Fault(fault)) => Err(Denial::Fault(fault)),
        }
    }

    /// No accepted scheme recognised the request: unsupported, malformed,
    /// missing, or anonymous-on-optional.
    fn no_accepted_credentials(
        &self,
        request: &RequestContext<'_>,
        requirement: &Requirement,
        trace: &mut Trace,
    ) -> Result<Option<Identity>, Denial> {
        let other = self
            .config
            .authenticators
            .iter()
            .find(|a| a.recognizes(request));
        let reason = if let Some(other) = other {
            trace.set_scheme(other.scheme());
            Some(AuthnReason::UnsupportedScheme)
        } else {
            match Credentials::from_headers(request.headers()) {
                Ok(None) => None,
                Ok(Some(_)) => Some(AuthnReason::UnsupportedScheme),
                Err(_) => Some(AuthnReason::MalformedCredentials),
            }
        };
        let unauthenticated = match reason {
            None if requirement.authentication() == Authentication::Optional => return Ok(None),
            None => Unauthenticated::new(AuthnReason::MissingCredentials),
            Some(reason) => Unauthenticated::new(reason),
        };
        Err(challenges::unauthenticated(
            &self.config,
            requirement,
            None,
            unauthenticated,
        ))
    }
}
