//! Fakes for tests: an authenticator whose every outcome is a table entry,
//! and a guard that refuses paths — so a test says what each credential
//! does instead of writing a scheme.
//!
//! ```
//! use bouncer_core::{AuthnReason, Gate, Identity, SchemeName};
//! use bouncer_test::fakes::FakeAuthenticator;
//!
//! let bearer = FakeAuthenticator::bearer("api")
//!     .accept("alice", Identity::user("alice", SchemeName::BEARER).with_roles(["editor"]))
//!     .reject("old", AuthnReason::TokenExpired)
//!     .unavailable("down")
//!     .panic_on("boom");
//! let gate = Gate::builder().authenticator(bearer).build();
//! # let _ = gate;
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bouncer_core::authorization::{has_scheme, Credentials};
use bouncer_core::challenge::BearerError;
use bouncer_core::{
    AccessError, Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Fault,
    ForbiddenReason, Identity, RequestContext, RequestGuard, SchemeName,
};
use http::HeaderName;

/// What a credential value does.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// Authenticates as this identity.
    Accept(Identity),
    /// Fails with this 401 reason.
    Reject(AuthnReason),
    /// The backend broke (500).
    Internal,
    /// The backend is unreachable (503, retry after 5 s).
    Unavailable,
    /// The authenticator panics (the adapters must answer 500).
    Panic,
}

#[derive(Debug, Clone)]
enum Source {
    /// `Authorization: <scheme> <value>`.
    Authorization(&'static str),
    /// A header of its own.
    Header(HeaderName),
}

/// An authenticator answering from a table: credential value → outcome;
/// values not in the table are `invalid_credentials` (or `invalid_token`
/// for Bearer).
#[derive(Debug, Clone)]
pub struct FakeAuthenticator {
    scheme: SchemeName,
    source: Source,
    realm: Option<String>,
    outcomes: HashMap<String, Outcome>,
    unknown: AuthnReason,
    waits: usize,
    calls: Arc<AtomicUsize>,
}

impl FakeAuthenticator {
    /// `Authorization: Bearer <value>`, with RFC 6750 challenges in `realm`
    /// (carrying `error`, `scope`, `acr_values` and `max_age` as the gate
    /// asks).
    pub fn bearer(realm: &str) -> Self {
        Self {
            scheme: SchemeName::BEARER,
            source: Source::Authorization("bearer"),
            realm: Some(realm.to_owned()),
            outcomes: HashMap::new(),
            unknown: AuthnReason::InvalidToken,
            waits: 0,
            calls: Arc::default(),
        }
    }

    /// Credentials in header `name` under `scheme`, with no challenge of
    /// their own (as API keys).
    pub fn header(scheme: SchemeName, name: &'static str) -> Self {
        Self {
            scheme,
            source: Source::Header(HeaderName::from_static(name)),
            realm: None,
            outcomes: HashMap::new(),
            unknown: AuthnReason::InvalidCredentials,
            waits: 0,
            calls: Arc::default(),
        }
    }

    /// `value` has `outcome`.
    pub fn on(mut self, value: &str, outcome: Outcome) -> Self {
        self.outcomes.insert(value.to_owned(), outcome);
        self
    }

    /// `value` authenticates as `identity`.
    pub fn accept(self, value: &str, identity: Identity) -> Self {
        self.on(value, Outcome::Accept(identity))
    }

    /// `value` fails with `reason`.
    pub fn reject(self, value: &str, reason: AuthnReason) -> Self {
        self.on(value, Outcome::Reject(reason))
    }

    /// `value` finds the backend broken (500).
    pub fn internal(self, value: &str) -> Self {
        self.on(value, Outcome::Internal)
    }

    /// `value` finds the backend unreachable (503).
    pub fn unavailable(self, value: &str) -> Self {
        self.on(value, Outcome::Unavailable)
    }

    /// `value` makes the authenticator panic.
    pub fn panic_on(self, value: &str) -> Self {
        self.on(value, Outcome::Panic)
    }

    /// Every authentication first waits `turns` times (returns `Pending`
    /// and wakes itself), as a key fetch or a store call does, so an
    /// adapter's path for stages that do not answer at once is tested.
    pub fn waiting(mut self, turns: usize) -> Self {
        self.waits = turns;
        self
    }

    /// How many authentications have started, counted across clones: a
    /// stage that runs twice for one request shows here.
    pub fn calls(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.calls)
    }

    fn credential(&self, request: &RequestContext<'_>) -> Result<Option<String>, AuthnError> {
        match &self.source {
            Source::Header(name) => Ok(request
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())),
            Source::Authorization(_) => {
                let creds = Credentials::from_headers(request.headers())
                    .map_err(|_| AuthnError::from(AuthnReason::MalformedCredentials))?;
                let Some(creds) = creds else { return Ok(None) };
                let token = creds.token68().ok_or(AuthnReason::MalformedCredentials)?;
                Ok(Some(token.to_owned()))
            }
        }
    }
}

#[async_trait]
impl Authenticator for FakeAuthenticator {
    fn scheme(&self) -> SchemeName {
        self.scheme.clone()
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        match &self.source {
            Source::Header(name) => request.headers().contains_key(name),
            Source::Authorization(scheme) => has_scheme(request.headers(), scheme),
        }
    }

    #[allow(clippy::panic)] // a fake that panics on request, on purpose
    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        if !self.recognizes(request) {
            return Ok(None);
        }
        self.calls.fetch_add(1, Ordering::SeqCst);
        for _ in 0..self.waits {
            YieldOnce(false).await;
        }
        let Some(value) = self.credential(request)? else {
            return Ok(None);
        };
        match self.outcomes.get(&value) {
            Some(Outcome::Accept(id)) => Ok(Some(id.clone())),
            Some(Outcome::Reject(reason)) => Err((*reason).into()),
            Some(Outcome::Internal) => Err(Fault::internal_msg("fake backend broke").into()),
            Some(Outcome::Unavailable) => {
                Err(
                    Fault::unavailable("fake backend", Duration::from_secs(5), "unreachable")
                        .into(),
                )
            }
            Some(Outcome::Panic) => panic!("fake authenticator asked to panic"),
            None => Err(self.unknown.into()),
        }
    }

    fn challenge(&self, context: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let realm = self.realm.as_ref()?;
        let mut b = Challenge::bearer().realm(realm.clone());
        if let Some(ctx) = context {
            b = b.maybe_error(BearerError::for_reason(ctx.reason));
            if let Some(scope) = ctx.scope {
                b = b.scope(scope);
            }
            if let Some(step) = ctx.step_up {
                if !step.acr_values().is_empty() {
                    b = b.acr_values(step.acr_values().join(" "));
                }
                if let Some(age) = step.max_age_limit() {
                    b = b.max_age(age);
                }
            }
        }
        b.build().ok()
    }
}

/// Pending once (waking itself at once), then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A guard refusing every path that starts with one of its prefixes
/// (`blocked_path`).
#[derive(Debug, Clone, Default)]
pub struct FakePathGuard {
    prefixes: Vec<String>,
}

impl FakePathGuard {
    /// Refuses paths starting with any of `prefixes`.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(prefixes: I) -> Self {
        Self {
            prefixes: prefixes.into_iter().map(Into::into).collect(),
        }
    }
}

impl RequestGuard for FakePathGuard {
    fn check(&self, request: &RequestContext<'_>) -> Result<(), AccessError> {
        if self.prefixes.iter().any(|p| request.path().starts_with(p)) {
            Err(ForbiddenReason::BlockedPath.into())
        } else {
            Ok(())
        }
    }
}
