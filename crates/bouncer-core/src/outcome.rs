//! What stages return when they do not allow, and what the gate makes of
//! it.
//!
//! One word per status, at two levels:
//!
//! | status | a stage returns | the gate's [`Denial`] holds |
//! |---|---|---|
//! | 401 | [`Unauthenticated`] (an authenticator, inside [`AuthnError`]) | [`UnauthenticatedDenial`]: that, the status and every challenge the route offers |
//! | 403 | [`Forbidden`] (a guard, the account stage or an authorizer, inside [`AccessError`]) | [`ForbiddenDenial`]: that and its `insufficient_scope` challenge |
//! | 500/503 | [`Fault`] | the same [`Fault`] |
//!
//! Adapters turn a [`Denial`] into their framework's response type (the
//! axum and actix adapters call it `BouncerRejection`, after axum's word for
//! a response an extractor answers with).

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};

use crate::challenge::Challenge;
use crate::identity::Authenticated;
use crate::problem::Problem;
use crate::reason::{AuthnReason, Code, ForbiddenReason, Reason};
use crate::requirement::StepUp;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// An authenticator's "these are my credentials, and they fail" (401).
/// The gate wraps it, with the route's challenges, in an
/// [`UnauthenticatedDenial`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unauthenticated {
    reason: AuthnReason,
    description: Option<Cow<'static, str>>,
    step_up: Option<StepUp>,
    /// Rarely set: boxed, so that a 401 stays small on the common
    /// path.
    extra: Option<Box<UnauthenticatedExtra>>,
}

/// What a scheme adds to its 401 beyond reason and description.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct UnauthenticatedExtra {
    error_code: Option<&'static str>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Unauthenticated {
    /// A 401 for `reason` with its standard description.
    pub const fn new(reason: AuthnReason) -> Self {
        Self {
            reason,
            description: None,
            step_up: None,
            extra: None,
        }
    }

    /// The scheme's own `error` code for its challenge, where the scheme
    /// defines codes beyond RFC 6750's (DPoP's `invalid_dpop_proof` and
    /// `use_dpop_nonce`, RFC 9449 §7.1, §9). Handed to the failing
    /// scheme's [`challenge`](crate::Authenticator::challenge) as
    /// [`ChallengeContext::error_code`](crate::ChallengeContext::error_code);
    /// the problem body's `code` stays the reason's.
    pub fn with_error_code(mut self, code: &'static str) -> Self {
        self.extra.get_or_insert_with(Box::default).error_code = Some(code);
        self
    }

    /// Adds a response header field the 401 must carry besides its
    /// challenges (DPoP's `DPoP-Nonce`, RFC 9449 §9). Every adapter sends
    /// it through the one renderer, except the fields the renderer writes
    /// itself (`content-type`, `content-length`, `cache-control`,
    /// `www-authenticate`, `retry-after`), which it leaves out. Keep it
    /// free of user input.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.extra
            .get_or_insert_with(Box::default)
            .headers
            .push((name, value));
        self
    }

    /// The scheme's own `error` code, if it set one.
    pub fn error_code(&self) -> Option<&'static str> {
        self.extra.as_ref().and_then(|e| e.error_code)
    }

    /// The extra response header fields.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        self.extra.as_ref().map_or(&[], |e| e.headers.as_slice())
    }

    /// Replaces the description sent as `error_description` and `detail`.
    /// Keep it fixed and free of user input.
    pub fn with_description(mut self, text: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Attaches the step-up requirement that was not met (for
    /// `mfa_required`, so the challenge can carry `acr_values`/`max_age`).
    pub fn with_step_up(mut self, step_up: StepUp) -> Self {
        self.step_up = Some(step_up);
        self
    }

    /// The reason.
    pub fn reason(&self) -> AuthnReason {
        self.reason
    }

    /// The description.
    pub fn description(&self) -> &str {
        self.description
            .as_deref()
            .unwrap_or(self.reason.description())
    }

    /// The unmet step-up requirement, if any.
    pub fn step_up(&self) -> Option<&StepUp> {
        self.step_up.as_ref()
    }
}

impl fmt::Display for Unauthenticated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.description())
    }
}

impl StdError for Unauthenticated {}

impl From<AuthnReason> for Unauthenticated {
    fn from(reason: AuthnReason) -> Self {
        Self::new(reason)
    }
}

/// Where the rule or role behind a refusal is written: a policy file's
/// name and line, and what stands there (`role "editor"`, `member "bob"
/// of "acme"`). An authorizer that knows positions attaches it to its
/// [`Forbidden`] ([`Forbidden::with_rule`]); the decision log and `bouncer
/// explain` print it. Shared (`Arc`): attaching it allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRule {
    file: Arc<str>,
    line: u32,
    what: Arc<str>,
}

impl PolicyRule {
    /// The rule `what` at `file`:`line` (1-based).
    pub fn new(file: impl Into<Arc<str>>, line: u32, what: impl Into<Arc<str>>) -> Self {
        Self {
            file: file.into(),
            line,
            what: what.into(),
        }
    }

    /// The file's name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// What stands there.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} ({})", self.file, self.line, self.what)
    }
}

/// A stage's "you may not" (403). The gate wraps it in a
/// [`ForbiddenDenial`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    reason: ForbiddenReason,
    scope: Option<Cow<'static, str>>,
    rule: Option<Arc<PolicyRule>>,
}

impl Forbidden {
    /// A refusal for `reason`.
    pub const fn new(reason: ForbiddenReason) -> Self {
        Self {
            reason,
            scope: None,
            rule: None,
        }
    }

    /// Names the policy rule or role behind the refusal.
    pub fn with_rule(mut self, rule: Arc<PolicyRule>) -> Self {
        self.rule = Some(rule);
        self
    }

    /// The policy rule or role behind the refusal, when the authorizer
    /// knows it.
    pub fn rule(&self) -> Option<&PolicyRule> {
        self.rule.as_deref()
    }

    /// `insufficient_scope` naming the scope the request needs.
    pub fn insufficient_scope(scope: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: ForbiddenReason::InsufficientScope,
            scope: Some(scope.into()),
            rule: None,
        }
    }

    /// The reason.
    pub fn reason(&self) -> ForbiddenReason {
        self.reason
    }

    /// The missing scope, for `insufficient_scope`.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.reason.description())?;
        if let Some(scope) = &self.scope {
            write!(f, " (needs scope `{scope}`)")?;
        }
        Ok(())
    }
}

impl StdError for Forbidden {}

impl From<ForbiddenReason> for Forbidden {
    fn from(reason: ForbiddenReason) -> Self {
        Self::new(reason)
    }
}

/// Something broke: never the caller's fault, never 401/403, never allow.
#[derive(Debug)]
#[non_exhaustive]
pub enum Fault {
    /// A bug or an unexpected error (500).
    Internal(InternalError),
    /// The deployment is set up wrong — a rule that cannot be checked, a
    /// stage that is missing (500). Told apart from a bug so that an
    /// operator, not a developer, is the one paged.
    Misconfigured(InternalError),
    /// A backing service is unreachable (503 with `Retry-After`).
    Unavailable(Unavailable),
}

impl Fault {
    /// An internal error with a static context and its cause.
    pub fn internal(context: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Internal(InternalError {
            context,
            source: Some(source.into()),
        })
    }

    /// An internal error with only a context.
    pub fn internal_msg(context: &'static str) -> Self {
        Self::Internal(InternalError {
            context,
            source: None,
        })
    }

    /// A misconfiguration, with a static context saying what is set up
    /// wrong.
    pub fn misconfigured(context: &'static str) -> Self {
        Self::Misconfigured(InternalError {
            context,
            source: None,
        })
    }

    /// A dependency that is down; clients may retry after `retry_after`.
    pub fn unavailable(
        dependency: &'static str,
        retry_after: Duration,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Unavailable(Unavailable {
            dependency,
            retry_after,
            source: Some(source.into()),
        })
    }

    /// The status: 500 or 503.
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// The code sent in the problem body: `internal_error` for bugs and
    /// misconfigurations alike (the caller needs no more), or
    /// `service_unavailable`.
    pub fn code(&self) -> Code {
        match self {
            Self::Internal(_) | Self::Misconfigured(_) => Code::InternalError,
            Self::Unavailable(_) => Code::ServiceUnavailable,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(e) => e.fmt(f),
            Self::Misconfigured(e) => write!(f, "misconfigured: {}", e.context),
            Self::Unavailable(e) => e.fmt(f),
        }
    }
}

impl StdError for Fault {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Internal(e) | Self::Misconfigured(e) => e.source(),
            Self::Unavailable(e) => e.source(),
        }
    }
}

/// A 500: a bug or an error nobody could anticipate.
#[derive(Debug)]
pub struct InternalError {
    context: &'static str,
    source: Option<BoxError>,
}

impl InternalError {
    /// What was being done.
    pub fn context(&self) -> &'static str {
        self.context
    }
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "internal error: {}", self.context)
    }
}

impl StdError for InternalError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|e| &**e as &(dyn StdError + 'static))
    }
}

/// A 503: a backing service (revocation store, session store, key source)
/// is unreachable.
#[derive(Debug)]
pub struct Unavailable {
    dependency: &'static str,
    retry_after: Duration,
    source: Option<BoxError>,
}

impl Unavailable {
    /// Which dependency.
    pub fn dependency(&self) -> &'static str {
        self.dependency
    }

    /// When a retry may succeed.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is unavailable", self.dependency)
    }
}

impl StdError for Unavailable {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_ref()
            .map(|e| &**e as &(dyn StdError + 'static))
    }
}

/// An authenticator's failure: the caller's credentials were bad, or the
/// authenticator itself broke.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthnError {
    /// "My credentials, and they fail": 401.
    Unauthenticated(Unauthenticated),
    /// "I broke": 500/503.
    Fault(Fault),
}

impl From<Unauthenticated> for AuthnError {
    fn from(r: Unauthenticated) -> Self {
        Self::Unauthenticated(r)
    }
}

impl From<AuthnReason> for AuthnError {
    fn from(r: AuthnReason) -> Self {
        Self::Unauthenticated(Unauthenticated::new(r))
    }
}

impl From<Fault> for AuthnError {
    fn from(f: Fault) -> Self {
        Self::Fault(f)
    }
}

/// A refusal from a guard, the account stage or the authorizer.
#[derive(Debug)]
#[non_exhaustive]
pub enum AccessError {
    /// 403.
    Forbidden(Forbidden),
    /// The resource does not exist (404). Only decided after the caller is
    /// known to belong to the resource's organization.
    NotFound,
    /// 500/503.
    Fault(Fault),
}

impl From<Forbidden> for AccessError {
    fn from(f: Forbidden) -> Self {
        Self::Forbidden(f)
    }
}

impl From<ForbiddenReason> for AccessError {
    fn from(r: ForbiddenReason) -> Self {
        Self::Forbidden(Forbidden::new(r))
    }
}

impl From<Fault> for AccessError {
    fn from(f: Fault) -> Self {
        Self::Fault(f)
    }
}

/// A 401 (or, under the strict RFC 6750 profile, a 400 for malformed
/// credentials) with every challenge the route offers.
#[derive(Debug, Clone)]
pub struct UnauthenticatedDenial {
    pub(crate) unauthenticated: Unauthenticated,
    pub(crate) status: StatusCode,
    pub(crate) challenges: Vec<Challenge>,
}

impl UnauthenticatedDenial {
    /// The reason.
    pub fn reason(&self) -> AuthnReason {
        self.unauthenticated.reason()
    }

    /// The 401 as the authenticator (or the gate) gave it.
    pub fn unauthenticated(&self) -> &Unauthenticated {
        &self.unauthenticated
    }

    /// The challenges, one per accepted scheme; never empty.
    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }
}

/// A 403, with a Bearer `insufficient_scope` challenge when the token's
/// scope was what fell short.
#[derive(Debug, Clone)]
pub struct ForbiddenDenial {
    pub(crate) forbidden: Forbidden,
    pub(crate) challenges: Vec<Challenge>,
}

impl ForbiddenDenial {
    /// The reason.
    pub fn reason(&self) -> ForbiddenReason {
        self.forbidden.reason()
    }

    /// The refusal as the stage gave it.
    pub fn forbidden(&self) -> &Forbidden {
        &self.forbidden
    }

    /// Challenges sent with the 403 (RFC 6750 `insufficient_scope`).
    pub fn challenges(&self) -> &[Challenge] {
        &self.challenges
    }
}

/// Every way a request can be turned away. Each variant has exactly one
/// status.
#[derive(Debug)]
#[non_exhaustive]
pub enum Denial {
    /// 401 (or 400 under the strict profile) with challenges.
    Unauthenticated(Box<UnauthenticatedDenial>),
    /// 403.
    Forbidden(Box<ForbiddenDenial>),
    /// 404 for a resource that does not exist.
    NotFound,
    /// 429: too many failed attempts; retry after the given time.
    TooManyRequests(Duration),
    /// 500 or 503.
    Fault(Fault),
}

impl Denial {
    /// A 403 without challenges (for flows outside the gate).
    pub fn forbidden(forbidden: Forbidden) -> Self {
        Self::Forbidden(Box::new(ForbiddenDenial {
            forbidden,
            challenges: Vec::new(),
        }))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(u) => u.status,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Fault(f) => f.status(),
        }
    }

    /// The code sent as `code` in the problem body.
    pub fn code(&self) -> Code {
        match self {
            Self::Unauthenticated(u) => Code::Authn(u.reason()),
            Self::Forbidden(r) => Code::Forbidden(r.reason()),
            Self::NotFound => Code::NotFound,
            Self::TooManyRequests(_) => Code::TooManyRequests,
            Self::Fault(f) => f.code(),
        }
    }

    /// The 401/403 reason, if the denial is one.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Self::Unauthenticated(u) => Some(Reason::Authn(u.reason())),
            Self::Forbidden(r) => Some(Reason::Forbidden(r.reason())),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` challenges to send.
    pub fn challenges(&self) -> &[Challenge] {
        match self {
            Self::Unauthenticated(u) => &u.challenges,
            Self::Forbidden(r) => &r.challenges,
            _ => &[],
        }
    }

    /// Header fields to send besides the challenges and `Retry-After`
    /// (those an authenticator set with [`Unauthenticated::with_header`]).
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        match self {
            Self::Unauthenticated(u) => u.unauthenticated.headers(),
            _ => &[],
        }
    }

    /// The `Retry-After` to send, for 429 and 503.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::TooManyRequests(d) => Some(*d),
            Self::Fault(Fault::Unavailable(u)) => Some(u.retry_after()),
            _ => None,
        }
    }

    /// The RFC 9457 body. With `expose_detail` false, `detail` is omitted
    /// (for production profiles that want nothing but the code).
    pub fn problem(&self, expose_detail: bool) -> Problem {
        let detail: Cow<'static, str> = match self {
            Self::Unauthenticated(u) => match &u.unauthenticated.description {
                Some(d) => d.clone(),
                None => Cow::Borrowed(u.reason().description()),
            },
            other => Cow::Borrowed(other.code().description()),
        };
        Problem::new(self.status(), self.code()).with_detail(Some(detail).filter(|_| expose_detail))
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthenticated(u) => write!(f, "{} {}", u.status.as_u16(), u.unauthenticated),
            Self::Forbidden(r) => write!(f, "403 {}", r.forbidden),
            Self::Fault(fault) => write!(f, "{} {fault}", fault.status().as_u16()),
            other => write!(
                f,
                "{} {}: {}",
                other.status().as_u16(),
                other.code(),
                other.code().description()
            ),
        }
    }
}

impl StdError for Denial {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Fault(f) => Some(f),
            _ => None,
        }
    }
}

impl From<Fault> for Denial {
    fn from(f: Fault) -> Self {
        Self::Fault(f)
    }
}

impl From<Forbidden> for Denial {
    fn from(f: Forbidden) -> Self {
        Self::forbidden(f)
    }
}

impl From<ForbiddenReason> for Denial {
    fn from(r: ForbiddenReason) -> Self {
        Self::forbidden(Forbidden::new(r))
    }
}

/// Who is let through.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Caller {
    /// Nobody authenticated (public or optional-authentication routes).
    Anonymous,
    /// The authenticated caller.
    Authenticated(Authenticated),
}

impl Caller {
    /// The authenticated caller, if any.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        match self {
            Self::Authenticated(a) => Some(a),
            Self::Anonymous => None,
        }
    }
}

/// The gate's answer: allow with the caller, or exactly one denial.
#[must_use]
#[derive(Debug)]
pub enum Decision {
    /// Let the request through.
    Allow(Caller),
    /// Answer with this denial.
    Deny(Denial),
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow(_))
    }

    /// The status a response would carry (200 for allow).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Allow(_) => StatusCode::OK,
            Self::Deny(d) => d.status(),
        }
    }

    /// The denial, if denied.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            Self::Deny(d) => Some(d),
            Self::Allow(_) => None,
        }
    }
}
