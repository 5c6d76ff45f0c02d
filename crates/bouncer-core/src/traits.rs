//! The traits the other crates (and you) implement. Each is small,
//! `Send + Sync`, and object-safe, so the gate holds them as `Arc<dyn _>`.
//!
//! Each is also implemented for `Arc<T>` and `Box<T>` of an implementor
//! (`T` may be `dyn Trait`), as tower does for `Box<S>`: a shared stage is
//! handed to the [`GateBuilder`](crate::GateBuilder) like any other, and
//! the same `Arc` can sit in two gates or stay with the application.
//! The forwarding adds no allocation: the boxed future of `T` is returned
//! as it is.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::challenge::Challenge;
use crate::identity::{Authenticated, Identity, SchemeName};
use crate::outcome::{AccessError, AuthnError, Fault};
use crate::reason::Reason;
use crate::request::RequestContext;
use crate::requirement::{Requirement, StepUp};

/// Authenticates requests that carry one kind of credentials.
///
/// Three outcomes, and the gate maps each to exactly one answer:
///
/// | you return | meaning | the gate answers |
/// |---|---|---|
/// | `Ok(Some(identity))` | valid credentials | goes on to the account stage |
/// | `Ok(None)` | "not mine": no credentials of my kind | tries other schemes; `missing_credentials` if none |
/// | `Err(AuthnError::Rejected(r))` | "mine, and they fail" | 401 with `r`'s reason; your challenge carries the error |
/// | `Err(AuthnError::Fault(f))` | "I broke" (store down, bug) | 500, or 503 with `Retry-After` — never 401 |
///
/// [`recognizes`](Authenticator::recognizes) must be cheap and must not
/// verify anything: the gate calls it on every registered authenticator to
/// tell `unsupported_scheme` (credentials of a scheme the route does not
/// accept) from `missing_credentials`.
///
/// ```
/// use async_trait::async_trait;
/// use bouncer_core::{
///     AuthnError, AuthnReason, Authenticator, Challenge, Identity, RequestContext, SchemeName,
///     ChallengeContext,
/// };
///
/// /// `X-Shared-Secret: <secret>` for one internal caller.
/// struct SharedSecret { secret: Vec<u8> }
///
/// #[async_trait]
/// impl Authenticator for SharedSecret {
///     fn scheme(&self) -> SchemeName { SchemeName::from_static("shared_secret") }
///
///     fn recognizes(&self, req: &RequestContext<'_>) -> bool {
///         req.headers().contains_key("x-shared-secret")
///     }
///
///     async fn authenticate(&self, req: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
///         let Some(value) = req.headers().get("x-shared-secret") else { return Ok(None) };
///         // Use a constant-time comparison (e.g. `subtle`) in real code.
///         if value.as_bytes() == self.secret.as_slice() {
///             Ok(Some(Identity::service("internal", self.scheme())))
///         } else {
///             Err(AuthnReason::InvalidCredentials.into())
///         }
///     }
///
///     fn challenge(&self, _error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
///         None // no registered scheme: the gate lists the route's other challenges
///     }
/// }
/// ```
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The scheme's name, as routes list it.
    fn scheme(&self) -> SchemeName;

    /// Whether the request carries credentials of this kind (cheap; no
    /// verification).
    fn recognizes(&self, request: &RequestContext<'_>) -> bool;

    /// Verifies the credentials.
    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError>;

    /// The challenge this scheme offers on a 401 (and on a 403 for missing
    /// scope). `error` is `Some` only for the scheme that was tried and
    /// failed. Schemes without a registered challenge return `None`.
    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge>;
}

/// Why a challenge is being built, for the scheme that failed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ChallengeContext<'a> {
    /// The denial reason.
    pub reason: Reason,
    /// A fixed description, suitable for `error_description`.
    pub description: &'a str,
    /// The scope that was missing (`insufficient_scope`).
    pub scope: Option<&'a str>,
    /// The unmet step-up requirement (`mfa_required`).
    pub step_up: Option<&'a StepUp>,
}

impl<'a> ChallengeContext<'a> {
    /// A context for `reason` with `description`.
    pub fn new(reason: Reason, description: &'a str) -> Self {
        Self {
            reason,
            description,
            scope: None,
            step_up: None,
        }
    }
}

/// An identity-independent rule, run before authentication (stage 1):
/// blocked paths, client IP, country.
pub trait RequestGuard: Send + Sync + 'static {
    /// `Ok(())` to let the request go on.
    fn check(&self, request: &RequestContext<'_>) -> Result<(), AccessError>;
}

/// The state of an account.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AccountState {
    /// May use the API.
    #[default]
    Active,
    /// Temporarily barred.
    Suspended,
    /// Permanently barred.
    Disabled,
}

/// Where account states live (stage 3).
#[async_trait]
pub trait AccountDirectory: Send + Sync + 'static {
    /// The state of the identity's account.
    async fn state(&self, identity: &Identity) -> Result<AccountState, Fault>;
}

/// Decides whether an authenticated caller may do what the route requires
/// (stage 4: tenant, elevation, permission, scope, access list, read-only).
#[async_trait]
pub trait Authorizer: Send + Sync + 'static {
    /// `Ok(())` to allow.
    async fn authorize(
        &self,
        caller: &Authenticated,
        request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Result<(), AccessError>;
}

/// Where a [`Gate`](crate::Gate) reads the time. The gate reads it once
/// per decision and hands that reading to every stage as
/// [`RequestContext::now`], so a token's `exp`/`nbf`, a session's timeout
/// and the step-up `max_age` are all judged at the same instant, and a test
/// can move that instant ([`GateBuilder::clock`](crate::GateBuilder::clock)).
///
/// Implemented by [`SystemClock`] (the default), by any
/// `Fn() -> SystemTime + Send + Sync`, and by `Arc`s of clocks.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use bouncer_core::{Clock, Gate};
///
/// let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let gate = Gate::builder().clock(move || at).build();
/// assert_eq!(gate.now(), at);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock, [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

impl<F> Clock for F
where
    F: Fn() -> SystemTime + Send + Sync + 'static,
{
    fn now(&self) -> SystemTime {
        self()
    }
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// The boxed future an `#[async_trait]` method returns.
type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Implements the four traits for a smart pointer by forwarding to the
/// pointee. Written out instead of with `#[async_trait]`, which would box
/// the pointee's already boxed future a second time.
macro_rules! forward_to_pointee {
    ($($ptr:ident),*) => {$(
        impl<T: Authenticator + ?Sized> Authenticator for $ptr<T> {
            fn scheme(&self) -> SchemeName {
                (**self).scheme()
            }

            fn recognizes(&self, request: &RequestContext<'_>) -> bool {
                (**self).recognizes(request)
            }

            fn authenticate<'life0, 'life1, 'life2, 'async_trait>(
                &'life0 self,
                request: &'life1 RequestContext<'life2>,
            ) -> BoxFuture<'async_trait, Result<Option<Identity>, AuthnError>>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                'life2: 'async_trait,
                Self: 'async_trait,
            {
                (**self).authenticate(request)
            }

            fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
                (**self).challenge(error)
            }
        }

        impl<T: RequestGuard + ?Sized> RequestGuard for $ptr<T> {
            fn check(&self, request: &RequestContext<'_>) -> Result<(), AccessError> {
                (**self).check(request)
            }
        }

        impl<T: AccountDirectory + ?Sized> AccountDirectory for $ptr<T> {
            fn state<'life0, 'life1, 'async_trait>(
                &'life0 self,
                identity: &'life1 Identity,
            ) -> BoxFuture<'async_trait, Result<AccountState, Fault>>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                Self: 'async_trait,
            {
                (**self).state(identity)
            }
        }

        impl<T: Authorizer + ?Sized> Authorizer for $ptr<T> {
            fn authorize<'life0, 'life1, 'life2, 'life3, 'life4, 'async_trait>(
                &'life0 self,
                caller: &'life1 Authenticated,
                request: &'life2 RequestContext<'life3>,
                requirement: &'life4 Requirement,
            ) -> BoxFuture<'async_trait, Result<(), AccessError>>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                'life2: 'async_trait,
                'life3: 'async_trait,
                'life4: 'async_trait,
                Self: 'async_trait,
            {
                (**self).authorize(caller, request, requirement)
            }
        }
    )*};
}

forward_to_pointee!(Arc, Box);
