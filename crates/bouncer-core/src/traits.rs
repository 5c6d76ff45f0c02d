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

use crate::challenge::{Challenge, ChallengeContext};
use crate::identity::{Authenticated, Identity, SchemeName};
use crate::outcome::{AccessError, AuthnError, Fault};
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
/// | `Err(AuthnError::Unauthenticated(r))` | "mine, and they fail" | 401 with `r`'s reason; your challenge carries the error |
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
    /// scope). `error` is `Some` for the schemes whose challenge should
    /// say what failed: the scheme that was tried and failed, and on a
    /// step-up 401 the schemes that [`supports_step_up`](Self::supports_step_up).
    /// Schemes without a registered challenge return `None`; a scheme of
    /// your own can add the context with
    /// [`Challenge::with_context`](crate::Challenge::with_context).
    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge>;

    /// Whether authenticating again with this scheme could meet `step_up`:
    /// whether its credentials can carry `acr`, `amr` or a fresh
    /// `auth_time` (OIDC tokens, sessions that record MFA). Default `false`
    /// (API keys, signatures, client certificates).
    ///
    /// A step-up 401 (stage 5) puts `error="insufficient_user_authentication"`
    /// and the route's `acr_values`/`max_age` on the challenges of the
    /// schemes that can meet it, even when the caller came with another
    /// one: the caller's own scheme if it can, else every accepted scheme
    /// that can, else (none can) every accepted scheme, so a step-up 401
    /// always carries them.
    fn supports_step_up(&self, step_up: &StepUp) -> bool {
        let _ = step_up;
        false
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

    /// Checks, when the application is built, that `requirement` names
    /// only permissions and roles this authorizer defines, so that a
    /// misspelt name is a start-up error
    /// ([`Gate::validate`](crate::Gate::validate), which adapters call for
    /// each route) instead of a 403 on every request. Organizations and
    /// resources come from the request and are not checked. Default:
    /// `Ok(())`, nothing to check.
    fn validate(&self, requirement: &Requirement) -> Result<(), UnknownName> {
        let _ = requirement;
        Ok(())
    }
}

/// A name a route requirement uses that the authorizer does not define
/// ([`Authorizer::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownName {
    kind: NameKind,
    name: String,
}

/// What kind of name an [`UnknownName`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// A permission (`resource:action`).
    Permission,
    /// A role.
    Role,
}

impl UnknownName {
    /// A permission the authorizer does not define.
    pub fn permission(name: impl Into<String>) -> Self {
        Self {
            kind: NameKind::Permission,
            name: name.into(),
        }
    }

    /// A role the authorizer does not define.
    pub fn role(name: impl Into<String>) -> Self {
        Self {
            kind: NameKind::Role,
            name: name.into(),
        }
    }

    /// What kind of name it is.
    pub fn kind(&self) -> NameKind {
        self.kind
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            NameKind::Permission => "permission",
            NameKind::Role => "role",
        };
        write!(f, "unknown {kind} `{}`", self.name)
    }
}

impl std::error::Error for UnknownName {}

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

            fn supports_step_up(&self, step_up: &StepUp) -> bool {
                (**self).supports_step_up(step_up)
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

            fn validate(&self, requirement: &Requirement) -> Result<(), UnknownName> {
                (**self).validate(requirement)
            }
        }
    )*};
}

forward_to_pointee!(Arc, Box);

#[cfg(test)]
mod tests {
    use super::*;

    /// Knows one permission.
    struct OnePermission;

    #[async_trait]
    impl Authorizer for OnePermission {
        async fn authorize(
            &self,
            _: &Authenticated,
            _: &RequestContext<'_>,
            _: &Requirement,
        ) -> Result<(), AccessError> {
            Ok(())
        }

        fn validate(&self, requirement: &Requirement) -> Result<(), UnknownName> {
            match requirement.required_permission() {
                Some(p) if p != "documents:read" => Err(UnknownName::permission(p)),
                _ => Ok(()),
            }
        }
    }

    #[test]
    fn validate_is_forwarded_through_pointers_and_the_gate() {
        let typo = Requirement::authenticated().permission("documents:raed");
        let err = UnknownName::permission("documents:raed");
        assert_eq!(Arc::new(OnePermission).validate(&typo), Err(err.clone()));
        let boxed: Box<dyn Authorizer> = Box::new(OnePermission);
        assert_eq!(boxed.validate(&typo), Err(err.clone()));
        let gate = crate::Gate::builder()
            .authorizer(Arc::new(OnePermission))
            .build();
        assert_eq!(gate.validate(&typo), Err(err));
        let ok = Requirement::authenticated().permission("documents:read");
        assert_eq!(gate.validate(&ok), Ok(()));
        // Without an authorizer there is nothing to check.
        assert_eq!(crate::Gate::builder().build().validate(&typo), Ok(()));
        let e = UnknownName::role("edtor");
        assert_eq!((e.kind(), e.name()), (NameKind::Role, "edtor"));
        assert_eq!(e.to_string(), "unknown role `edtor`");
    }
}
