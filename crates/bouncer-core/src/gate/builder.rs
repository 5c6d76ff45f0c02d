//! How a gate is put together: [`GateBuilder`] and the [`Profile`] it
//! answers malformed credentials with.
//!
//! The builder only collects [`Config`]; [`Gate::builder`](crate::Gate::builder)
//! and [`GateBuilder::build`] live beside the gate, so this module never
//! names it (the gate's modules form no cycle).

use std::sync::Arc;

use crate::reason::{AuthnReason, Code};
use crate::traits::{
    AccountDirectory, Authenticator, Authorizer, Clock, RequestGuard, SystemClock,
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

/// What a gate is made of: its stages, in order, and its settings.
pub(super) struct Config {
    pub(super) guards: Vec<Arc<dyn RequestGuard>>,
    pub(super) authenticators: Vec<Arc<dyn Authenticator>>,
    pub(super) accounts: Option<Arc<dyn AccountDirectory>>,
    pub(super) authorizer: Option<Arc<dyn Authorizer>>,
    pub(super) profile: Profile,
    pub(super) realm: String,
    pub(super) preflight_passes: bool,
    pub(super) clock: Arc<dyn Clock>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            guards: Vec::new(),
            authenticators: Vec::new(),
            accounts: None,
            authorizer: None,
            profile: Profile::Default,
            realm: "bouncer".to_owned(),
            preflight_passes: true,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Builds a [`Gate`](crate::Gate): start with
/// [`Gate::builder`](crate::Gate::builder), end with
/// [`build`](GateBuilder::build).
#[must_use]
pub struct GateBuilder {
    pub(super) config: Config,
}

impl GateBuilder {
    /// Adds a request guard (stage 1). Guards run in the order added.
    ///
    /// Every stage may also be given shared, as an `Arc` (or `Box`) of an
    /// implementor or of a `dyn` trait object: the traits are implemented
    /// for both.
    pub fn guard(mut self, guard: impl RequestGuard) -> Self {
        self.config.guards.push(Arc::new(guard));
        self
    }

    /// Adds an authenticator (stage 2). When a request carries credentials
    /// of several accepted schemes, the first one added wins; challenges are
    /// listed in this order too (put Basic first for old clients).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.config.authenticators.push(Arc::new(authenticator));
        self
    }

    /// Sets the account directory (stage 3). Without one, every account is
    /// active.
    pub fn accounts(mut self, accounts: impl AccountDirectory) -> Self {
        self.config.accounts = Some(Arc::new(accounts));
        self
    }

    /// Sets the authorizer (stage 4). A route that needs a permission,
    /// organization or resource without an authorizer is a 500, not an
    /// allow.
    pub fn authorizer(mut self, authorizer: impl Authorizer) -> Self {
        self.config.authorizer = Some(Arc::new(authorizer));
        self
    }

    /// Chooses how malformed credentials are answered.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.config.profile = profile;
        self
    }

    /// The realm of the fallback Bearer challenge, used when no accepted
    /// scheme has a registered challenge (API keys, sessions).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config.realm = realm.into();
        self
    }

    /// Whether CORS preflights pass stages 2–5 (default `true`: a preflight
    /// never carries credentials, so demanding them would break CORS).
    pub fn cors_preflight_passes(mut self, passes: bool) -> Self {
        self.config.preflight_passes = passes;
        self
    }

    /// Replaces the clock (default [`SystemClock`]). The gate reads it once
    /// per decision; every stage sees that reading as
    /// [`RequestContext::now`](crate::RequestContext::now), and step-up
    /// freshness is judged against it. A closure `|| time` is a clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }
}
