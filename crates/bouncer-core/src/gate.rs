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

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::authorization::Credentials;
use crate::challenge::Challenge;
use crate::identity::{Authenticated, Identity, SchemeName};
use crate::outcome::{
    AccessError, AuthnError, Caller, Decision, Denial, Fault, Forbidden, Refused, Rejection,
    Unauthenticated,
};
use crate::reason::{AuthnReason, Code, ForbiddenReason, Reason};
use crate::request::RequestContext;
use crate::requirement::{Authentication, Requirement, StepUp};
use crate::traits::{
    AccountDirectory, AccountState, Authenticator, Authorizer, ChallengeContext, RequestGuard,
};

/// How malformed credentials are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    /// The contract's rule: malformed credentials are 401 with challenges.
    #[default]
    Default,
    /// Strict RFC 6750 §3.1: malformed credentials are 400
    /// (`invalid_request`), still with the challenges.
    StrictRfc6750,
}

impl Profile {
    /// The status `code` is sent with under this profile: as
    /// [`Code::status`], except `malformed_credentials`, which is 400 under
    /// [`Profile::StrictRfc6750`].
    pub const fn status_of(self, code: Code) -> http::StatusCode {
        match (self, code) {
            (Self::StrictRfc6750, Code::Authn(AuthnReason::MalformedCredentials)) => {
                http::StatusCode::BAD_REQUEST
            }
            _ => code.status(),
        }
    }
}

/// One of the five stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// 1: request guards.
    Guards,
    /// 2: authentication.
    Authentication,
    /// 3: account state.
    Account,
    /// 4: authorization.
    Authorization,
    /// 5: step-up.
    StepUp,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 5] = [
        Self::Guards,
        Self::Authentication,
        Self::Account,
        Self::Authorization,
        Self::StepUp,
    ];

    /// A short name for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Guards => "guards",
            Self::Authentication => "authentication",
            Self::Account => "account",
            Self::Authorization => "authorization",
            Self::StepUp => "step_up",
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::Guards => 0,
            Self::Authentication => 1,
            Self::Account => 2,
            Self::Authorization => 3,
            Self::StepUp => 4,
        }
    }
}

/// What one stage decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StageOutcome {
    /// Not reached (an earlier stage decided).
    #[default]
    NotRun,
    /// Not needed for this route.
    Skipped,
    /// Passed.
    Passed,
    /// Denied with this code.
    Denied(Code),
    /// Errored (500/503).
    Faulted(Code),
}

/// What each stage decided, for logs and tests. Allocation-free.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    outcomes: [StageOutcome; 5],
    scheme: Option<SchemeName>,
}

impl Trace {
    fn set(&mut self, stage: Stage, outcome: StageOutcome) {
        if let Some(slot) = self.outcomes.get_mut(stage.index()) {
            *slot = outcome;
        }
    }

    /// What `stage` decided.
    pub fn outcome(&self, stage: Stage) -> StageOutcome {
        self.outcomes
            .get(stage.index())
            .copied()
            .unwrap_or_default()
    }

    /// The stage that denied or faulted, if any.
    pub fn deciding_stage(&self) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| {
            matches!(
                self.outcome(*s),
                StageOutcome::Denied(_) | StageOutcome::Faulted(_)
            )
        })
    }

    /// The scheme that authenticated (or was tried).
    pub fn scheme(&self) -> Option<&SchemeName> {
        self.scheme.as_ref()
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in Stage::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}=", stage.as_str())?;
            match self.outcome(*stage) {
                StageOutcome::NotRun => f.write_str("-")?,
                StageOutcome::Skipped => f.write_str("skip")?,
                StageOutcome::Passed => f.write_str("pass")?,
                StageOutcome::Denied(c) => write!(f, "deny({c})")?,
                StageOutcome::Faulted(c) => write!(f, "fault({c})")?,
            }
        }
        if let Some(s) = &self.scheme {
            write!(f, " scheme={s}")?;
        }
        Ok(())
    }
}

/// A decision with its trace.
#[derive(Debug)]
#[must_use]
pub struct Verdict {
    decision: Decision,
    trace: Trace,
}

impl Verdict {
    /// The decision.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Both, by value.
    pub fn into_parts(self) -> (Decision, Trace) {
        (self.decision, self.trace)
    }
}

/// Proof that the request guards (stage 1) passed for a request, so a
/// route-level layer can run stages 2–5 without repeating them. Only
/// [`Gate::guard`] makes one.
#[derive(Debug, Clone, Copy)]
pub struct GuardsPassed(());

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

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
    guards: Vec<Arc<dyn RequestGuard>>,
    authenticators: Vec<Arc<dyn Authenticator>>,
    accounts: Option<Arc<dyn AccountDirectory>>,
    authorizer: Option<Arc<dyn Authorizer>>,
    profile: Profile,
    realm: String,
    preflight_passes: bool,
    clock: Clock,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("guards", &self.guards.len())
            .field(
                "authenticators",
                &self
                    .authenticators
                    .iter()
                    .map(|a| a.scheme())
                    .collect::<Vec<_>>(),
            )
            .field("accounts", &self.accounts.is_some())
            .field("authorizer", &self.authorizer.is_some())
            .field("profile", &self.profile)
            .field("realm", &self.realm)
            .finish()
    }
}

/// Builds a [`Gate`].
#[must_use]
pub struct GateBuilder {
    gate: Gate,
}

impl GateBuilder {
    /// Adds a request guard (stage 1). Guards run in the order added.
    pub fn guard(mut self, guard: impl RequestGuard) -> Self {
        self.gate.guards.push(Arc::new(guard));
        self
    }

    /// Adds a shared request guard.
    pub fn guard_arc(mut self, guard: Arc<dyn RequestGuard>) -> Self {
        self.gate.guards.push(guard);
        self
    }

    /// Adds an authenticator (stage 2). When a request carries credentials
    /// of several accepted schemes, the first one added wins; challenges are
    /// listed in this order too (put Basic first for old clients).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.gate.authenticators.push(Arc::new(authenticator));
        self
    }

    /// Adds a shared authenticator.
    pub fn authenticator_arc(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.gate.authenticators.push(authenticator);
        self
    }

    /// Sets the account directory (stage 3). Without one, every account is
    /// active.
    pub fn accounts(mut self, accounts: impl AccountDirectory) -> Self {
        self.gate.accounts = Some(Arc::new(accounts));
        self
    }

    /// Sets a shared account directory.
    pub fn accounts_arc(mut self, accounts: Arc<dyn AccountDirectory>) -> Self {
        self.gate.accounts = Some(accounts);
        self
    }

    /// Sets the authorizer (stage 4). A route that needs a permission,
    /// organization or resource without an authorizer is a 500, not an
    /// allow.
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.gate.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// Sets a shared authorizer.
    pub fn authorizer_arc(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.gate.authorizer = Some(authorizer);
        self
    }

    /// Chooses how malformed credentials are answered.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.gate.profile = profile;
        self
    }

    /// The realm of the fallback Bearer challenge, used when no accepted
    /// scheme has a registered challenge (API keys, sessions).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.gate.realm = realm.into();
        self
    }

    /// Whether CORS preflights pass stages 2–5 (default `true`: a preflight
    /// never carries credentials, so demanding them would break CORS).
    pub fn cors_preflight_passes(mut self, passes: bool) -> Self {
        self.gate.preflight_passes = passes;
        self
    }

    /// Replaces the clock used for step-up freshness (tests).
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.gate.clock = Arc::new(clock);
        self
    }

    /// Builds the gate.
    pub fn build(self) -> Gate {
        self.gate
    }
}

impl Gate {
    /// A builder with no stages configured.
    pub fn builder() -> GateBuilder {
        GateBuilder {
            gate: Gate {
                guards: Vec::new(),
                authenticators: Vec::new(),
                accounts: None,
                authorizer: None,
                profile: Profile::Default,
                realm: "bouncer".to_owned(),
                preflight_passes: true,
                clock: Arc::new(SystemTime::now),
            },
        }
    }

    /// The authenticators, in order.
    pub fn authenticators(&self) -> &[Arc<dyn Authenticator>] {
        &self.authenticators
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Runs stage 1 only. On success, returns the proof to pass to
    /// [`decide_guarded`](Self::decide_guarded).
    /// The denial is boxed: it is the cold path.
    pub fn guard(&self, request: &RequestContext<'_>) -> Result<GuardsPassed, Box<Verdict>> {
        let mut trace = Trace::default();
        match self.run_guards(request, &mut trace) {
            Ok(()) => Ok(GuardsPassed(())),
            Err(denial) => Err(Box::new(Verdict {
                decision: Decision::Deny(denial),
                trace,
            })),
        }
    }

    /// Runs all five stages.
    pub async fn decide(&self, request: &RequestContext<'_>, requirement: &Requirement) -> Verdict {
        let mut trace = Trace::default();
        if let Err(denial) = self.run_guards(request, &mut trace) {
            return Verdict {
                decision: Decision::Deny(denial),
                trace,
            };
        }
        self.decide_after_guards(request, requirement, trace).await
    }

    /// Runs stages 2–5 for a request whose guards already passed.
    pub async fn decide_guarded(
        &self,
        _proof: GuardsPassed,
        request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Verdict {
        let mut trace = Trace::default();
        trace.set(Stage::Guards, StageOutcome::Passed);
        self.decide_after_guards(request, requirement, trace).await
    }

    fn run_guards(&self, request: &RequestContext<'_>, trace: &mut Trace) -> Result<(), Denial> {
        for guard in &self.guards {
            match guard.check(request) {
                Ok(()) => {}
                Err(e) => {
                    let denial = self.access_denial(e, None, None);
                    trace.set(Stage::Guards, outcome_of(&denial));
                    return Err(denial);
                }
            }
        }
        trace.set(Stage::Guards, StageOutcome::Passed);
        Ok(())
    }

    async fn decide_after_guards(
        &self,
        request: &RequestContext<'_>,
        requirement: &Requirement,
        mut trace: Trace,
    ) -> Verdict {
        let skip_rest = |trace: &mut Trace| {
            for s in [
                Stage::Authentication,
                Stage::Account,
                Stage::Authorization,
                Stage::StepUp,
            ] {
                trace.set(s, StageOutcome::Skipped);
            }
        };
        if requirement.authentication() == Authentication::Public
            || (self.preflight_passes && request.is_cors_preflight())
        {
            skip_rest(&mut trace);
            return Verdict {
                decision: Decision::Allow(Caller::Anonymous),
                trace,
            };
        }

        // Stage 2: authentication.
        let identity = match self.authenticate(request, requirement, &mut trace).await {
            Ok(Some(identity)) => identity,
            Ok(None) => {
                skip_rest(&mut trace);
                trace.set(Stage::Authentication, StageOutcome::Passed);
                return Verdict {
                    decision: Decision::Allow(Caller::Anonymous),
                    trace,
                };
            }
            Err(denial) => {
                trace.set(Stage::Authentication, outcome_of(&denial));
                return Verdict {
                    decision: Decision::Deny(denial),
                    trace,
                };
            }
        };
        trace.set(Stage::Authentication, StageOutcome::Passed);

        // Stage 3: account.
        if let Some(accounts) = &self.accounts {
            let denial = match accounts.state(&identity).await {
                Ok(AccountState::Active) => None,
                Ok(_) => Some(Denial::Forbidden(Box::new(Refused {
                    forbidden: Forbidden::new(ForbiddenReason::AccountSuspended),
                    challenges: Vec::new(),
                }))),
                Err(fault) => Some(Denial::Fault(fault)),
            };
            if let Some(denial) = denial {
                trace.set(Stage::Account, outcome_of(&denial));
                return Verdict {
                    decision: Decision::Deny(denial),
                    trace,
                };
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
        match &self.authorizer {
            Some(authorizer) => {
                if let Err(e) = authorizer.authorize(&caller, request, requirement).await {
                    let denial = self.access_denial(e, Some(&caller), Some(requirement));
                    trace.set(Stage::Authorization, outcome_of(&denial));
                    return Verdict {
                        decision: Decision::Deny(denial),
                        trace,
                    };
                }
                trace.set(Stage::Authorization, StageOutcome::Passed);
            }
            None if needs_authz => {
                let denial = Denial::Fault(Fault::misconfigured(
                    "the route needs authorization but the gate has no authorizer",
                ));
                trace.set(Stage::Authorization, outcome_of(&denial));
                return Verdict {
                    decision: Decision::Deny(denial),
                    trace,
                };
            }
            None => trace.set(Stage::Authorization, StageOutcome::Skipped),
        }

        // Stage 5: step-up.
        match requirement.step_up_requirement() {
            Some(step_up) if !step_up.is_satisfied_by(caller.auth_context(), (self.clock)()) => {
                let denial = self.step_up_denial(requirement, caller.scheme(), step_up);
                trace.set(Stage::StepUp, outcome_of(&denial));
                return Verdict {
                    decision: Decision::Deny(denial),
                    trace,
                };
            }
            Some(_) => trace.set(Stage::StepUp, StageOutcome::Passed),
            None => trace.set(Stage::StepUp, StageOutcome::Skipped),
        }

        Verdict {
            decision: Decision::Allow(Caller::Authenticated(caller)),
            trace,
        }
    }

    /// Stage 2. `Ok(None)` means anonymous on an optional route.
    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
        requirement: &Requirement,
        trace: &mut Trace,
    ) -> Result<Option<Identity>, Denial> {
        let chosen = self
            .authenticators
            .iter()
            .find(|a| requirement.accepts(&a.scheme()) && a.recognizes(request));
        let Some(authenticator) = chosen else {
            return self.no_accepted_credentials(request, requirement, trace);
        };
        let scheme = authenticator.scheme();
        trace.scheme = Some(scheme.clone());
        match authenticator.authenticate(request).await {
            Ok(Some(mut identity)) => {
                // The identity names the scheme that really verified it, so
                // later challenges (scope, step-up) come from that scheme.
                identity.set_scheme(scheme);
                Ok(Some(identity))
            }
            Ok(None) => self.no_accepted_credentials(request, requirement, trace),
            Err(AuthnError::Rejected(rejection)) => {
                Err(self.unauthenticated(requirement, Some(&scheme), rejection))
            }
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
        let other = self.authenticators.iter().find(|a| a.recognizes(request));
        let reason = if let Some(other) = other {
            trace.scheme = Some(other.scheme());
            Some(AuthnReason::UnsupportedScheme)
        } else {
            match Credentials::from_headers(request.headers()) {
                Ok(None) => None,
                Ok(Some(_)) => Some(AuthnReason::UnsupportedScheme),
                Err(_) => Some(AuthnReason::MalformedCredentials),
            }
        };
        match reason {
            None if requirement.authentication() == Authentication::Optional => Ok(None),
            None => Err(self.unauthenticated(
                requirement,
                None,
                Rejection::new(AuthnReason::MissingCredentials),
            )),
            Some(reason) => Err(self.unauthenticated(requirement, None, Rejection::new(reason))),
        }
    }

    /// The 401 the gate would answer for `rejection` on a route with
    /// `requirement`, `failing` naming the scheme that was tried. For flows
    /// outside the gate (a login endpoint) that must answer exactly like it.
    pub fn reject(
        &self,
        requirement: &Requirement,
        failing: Option<&SchemeName>,
        rejection: Rejection,
    ) -> Denial {
        self.unauthenticated(requirement, failing, rejection)
    }

    fn unauthenticated(
        &self,
        requirement: &Requirement,
        failing: Option<&SchemeName>,
        rejection: Rejection,
    ) -> Denial {
        let reason = Reason::Authn(rejection.reason());
        let mut ctx = ChallengeContext::new(reason, rejection.description());
        ctx.step_up = rejection.step_up();
        let to = match failing {
            Some(scheme) => ErrorTo::Scheme(scheme, ctx),
            None => ErrorTo::Nobody,
        };
        let challenges = self.challenges(requirement, to);
        let status = self.profile.status_of(Code::Authn(rejection.reason()));
        Denial::Unauthenticated(Box::new(Unauthenticated {
            rejection,
            status,
            challenges,
        }))
    }

    fn step_up_denial(
        &self,
        requirement: &Requirement,
        scheme: &SchemeName,
        step_up: &StepUp,
    ) -> Denial {
        let rejection = Rejection::new(AuthnReason::MfaRequired).with_step_up(step_up.clone());
        let mut ctx = ChallengeContext::new(
            Reason::Authn(AuthnReason::MfaRequired),
            rejection.description(),
        );
        ctx.step_up = Some(step_up);
        // A scheme without a challenge of its own (a session) still needs
        // the RFC 9470 parameters, on the route's other challenges.
        let own = self
            .authenticators
            .iter()
            .find(|a| a.scheme() == *scheme)
            .and_then(|a| a.challenge(Some(&ctx)));
        let to = match own {
            Some(_) => ErrorTo::Scheme(scheme, ctx),
            None => ErrorTo::Every(ctx),
        };
        let challenges = self.challenges(requirement, to);
        Denial::Unauthenticated(Box::new(Unauthenticated {
            rejection,
            status: http::StatusCode::UNAUTHORIZED,
            challenges,
        }))
    }

    /// The challenges for the accepted schemes, in registration order, one
    /// per scheme name, with the error parameters where `to` says.
    fn challenges(&self, requirement: &Requirement, to: ErrorTo<'_>) -> Vec<Challenge> {
        let mut out: Vec<Challenge> = Vec::with_capacity(2);
        for a in self
            .authenticators
            .iter()
            .filter(|a| requirement.accepts(&a.scheme()))
        {
            let ctx = match &to {
                ErrorTo::Nobody => None,
                ErrorTo::Scheme(s, c) => (**s == a.scheme()).then_some(c),
                ErrorTo::Every(c) => Some(c),
            };
            if let Some(c) = a.challenge(ctx) {
                push_challenge(&mut out, c, ctx.is_some());
            }
        }
        if out.is_empty() {
            out.push(self.fallback_challenge());
        }
        out
    }

    fn fallback_challenge(&self) -> Challenge {
        Challenge::bearer()
            .realm(self.realm.clone())
            .build()
            .unwrap_or_else(|_| Challenge::bare("Bearer"))
    }

    fn access_denial(
        &self,
        error: AccessError,
        caller: Option<&Authenticated>,
        requirement: Option<&Requirement>,
    ) -> Denial {
        match error {
            AccessError::Forbidden(forbidden) => {
                let mut challenges = Vec::new();
                if let (Some(caller), Some(requirement), Some(scope)) =
                    (caller, requirement, forbidden.scope())
                {
                    let reason = Reason::Forbidden(forbidden.reason());
                    let mut ctx = ChallengeContext::new(reason, forbidden.reason().description());
                    ctx.scope = Some(scope);
                    challenges = self
                        .authenticators
                        .iter()
                        .filter(|a| {
                            a.scheme() == *caller.scheme() && requirement.accepts(&a.scheme())
                        })
                        .find_map(|a| a.challenge(Some(&ctx)))
                        .into_iter()
                        .collect();
                }
                Denial::Forbidden(Box::new(Refused {
                    forbidden,
                    challenges,
                }))
            }
            AccessError::NotFound => Denial::NotFound,
            AccessError::Fault(fault) => Denial::Fault(fault),
        }
    }
}

/// Which challenges carry the error parameters.
enum ErrorTo<'a> {
    /// None (no credentials were presented, or not of an accepted scheme).
    Nobody,
    /// The scheme that was tried and failed.
    Scheme(&'a SchemeName, ChallengeContext<'a>),
    /// Every accepted scheme (step-up for a scheme without a challenge).
    Every(ChallengeContext<'a>),
}

/// Adds `c` unless a challenge of the same scheme is there; a failing
/// scheme's challenge (with its error) replaces a plain one.
fn push_challenge(out: &mut Vec<Challenge>, c: Challenge, failing: bool) {
    match out
        .iter_mut()
        .find(|x| x.scheme().eq_ignore_ascii_case(c.scheme()))
    {
        Some(existing) if failing => *existing = c,
        Some(_) => {}
        None => out.push(c),
    }
}

fn outcome_of(denial: &Denial) -> StageOutcome {
    match denial {
        Denial::Fault(f) => StageOutcome::Faulted(f.code()),
        d => StageOutcome::Denied(d.code()),
    }
}
