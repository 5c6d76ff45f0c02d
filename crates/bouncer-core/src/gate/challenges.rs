//! The challenges a denial carries, and the denials that carry them: the
//! 401 of stage 2, the RFC 9470 401 of stage 5, and the 403s of stages 1
//! and 4 (with the `insufficient_scope` challenge).
//!
//! One rule for which challenges carry error parameters ([`ErrorTo`]):
//! nobody when no credentials of an accepted scheme were presented, the
//! failing scheme when they were; for a step-up, the caller's scheme if it
//! can meet the step-up, else every accepted scheme that can
//! ([`Authenticator::supports_step_up`]), else every accepted scheme and
//! the fallback, so a step-up 401 always carries the RFC 9470 parameters.
//!
//! [`Authenticator::supports_step_up`]: crate::Authenticator::supports_step_up

use crate::challenge::{Challenge, ChallengeContext};
use crate::identity::{Authenticated, SchemeName};
use crate::outcome::{
    AccessError, Denial, ForbiddenDenial, Unauthenticated, UnauthenticatedDenial,
};
use crate::reason::{AuthnReason, Code, Reason};
use crate::requirement::{Requirement, StepUp};
use crate::traits::Authenticator;

use super::builder::Config;

/// Which challenges carry the error parameters.
enum ErrorTo<'a> {
    /// None (no credentials were presented, or not of an accepted scheme).
    Nobody,
    /// The scheme that was tried and failed.
    Scheme(&'a SchemeName, ChallengeContext<'a>),
    /// Every accepted scheme that can meet the step-up.
    SteppingUp(&'a StepUp, ChallengeContext<'a>),
    /// Every accepted scheme, and the fallback (a step-up that no scheme
    /// with a challenge can meet).
    Every(ChallengeContext<'a>),
}

impl<'a> ErrorTo<'a> {
    /// The context for `a`'s challenge, `None` for a plain one.
    fn context_for(&self, a: &dyn Authenticator) -> Option<&ChallengeContext<'a>> {
        match self {
            Self::Nobody => None,
            Self::Scheme(s, c) => (**s == a.scheme()).then_some(c),
            Self::SteppingUp(step_up, c) => a.supports_step_up(step_up).then_some(c),
            Self::Every(c) => Some(c),
        }
    }
}

/// The 401 for `unauthenticated` on a route with `requirement`, `failing` naming
/// the scheme that was tried.
pub(super) fn unauthenticated(
    config: &Config,
    requirement: &Requirement,
    failing: Option<&SchemeName>,
    unauthenticated: Unauthenticated,
) -> Denial {
    let reason = Reason::Authn(unauthenticated.reason());
    let mut ctx = ChallengeContext::new(reason, unauthenticated.description());
    if let Some(step_up) = unauthenticated.step_up() {
        ctx = ctx.with_step_up(step_up);
    }
    let to = match failing {
        Some(scheme) => ErrorTo::Scheme(scheme, ctx),
        None => ErrorTo::Nobody,
    };
    let challenges = challenges(config, requirement, to);
    let status = config
        .profile
        .status_of(Code::Authn(unauthenticated.reason()));
    Denial::Unauthenticated(Box::new(UnauthenticatedDenial {
        unauthenticated,
        status,
        challenges,
    }))
}

/// The RFC 9470 401 of stage 5, for a caller authenticated by `scheme`.
pub(super) fn step_up(
    config: &Config,
    requirement: &Requirement,
    scheme: &SchemeName,
    step_up: &StepUp,
) -> Denial {
    let unauthenticated =
        Unauthenticated::new(AuthnReason::MfaRequired).with_step_up(step_up.clone());
    let ctx = ChallengeContext::new(
        Reason::Authn(AuthnReason::MfaRequired),
        unauthenticated.description(),
    )
    .with_step_up(step_up);
    // The parameters go where authenticating again could help: the
    // caller's scheme if it can meet the step-up, else the accepted
    // schemes that can (a caller with an API key is sent to Bearer), else
    // everywhere, so that the 401 carries them in any case.
    let can_say =
        |a: &dyn Authenticator| a.supports_step_up(step_up) && a.challenge(Some(&ctx)).is_some();
    let accepted = || {
        config
            .authenticators
            .iter()
            .map(AsRef::as_ref)
            .filter(|a| requirement.accepts(&a.scheme()))
    };
    let to = if accepted().any(|a| a.scheme() == *scheme && can_say(a)) {
        ErrorTo::Scheme(scheme, ctx)
    } else if accepted().any(can_say) {
        ErrorTo::SteppingUp(step_up, ctx)
    } else {
        ErrorTo::Every(ctx)
    };
    let challenges = challenges(config, requirement, to);
    Denial::Unauthenticated(Box::new(UnauthenticatedDenial {
        unauthenticated,
        status: http::StatusCode::UNAUTHORIZED,
        challenges,
    }))
}

/// The denial for a guard's (stage 1) or the authorizer's (stage 4)
/// refusal. A 403 for missing scope carries the caller's scheme's
/// `insufficient_scope` challenge.
pub(super) fn access(
    config: &Config,
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
                let ctx = ChallengeContext::new(reason, forbidden.reason().description())
                    .with_scope(scope);
                challenges = config
                    .authenticators
                    .iter()
                    .filter(|a| a.scheme() == *caller.scheme() && requirement.accepts(&a.scheme()))
                    .find_map(|a| a.challenge(Some(&ctx)))
                    .into_iter()
                    .collect();
            }
            Denial::Forbidden(Box::new(ForbiddenDenial {
                forbidden,
                challenges,
            }))
        }
        AccessError::NotFound => Denial::NotFound,
        AccessError::Fault(fault) => Denial::Fault(fault),
    }
}

/// The challenges for the accepted schemes, in registration order, one
/// per scheme name, with the error parameters where `to` says.
fn challenges(config: &Config, requirement: &Requirement, to: ErrorTo<'_>) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::with_capacity(2);
    for a in config
        .authenticators
        .iter()
        .filter(|a| requirement.accepts(&a.scheme()))
    {
        let ctx = to.context_for(a.as_ref());
        if let Some(c) = a.challenge(ctx) {
            push_challenge(&mut out, c, ctx.is_some());
        }
    }
    if out.is_empty() {
        let ctx = match &to {
            ErrorTo::Every(c) => Some(c),
            _ => None,
        };
        out.push(fallback_challenge(&config.realm, ctx));
    }
    out
}

/// `Bearer realm=…` for a route none of whose schemes has a challenge
/// (API keys, sessions): plain (contract §2), except on a step-up, which
/// always carries the RFC 9470 parameters.
fn fallback_challenge(realm: &str, step_up: Option<&ChallengeContext<'_>>) -> Challenge {
    let plain = || Challenge::bearer().realm(realm).build();
    Challenge::bearer()
        .realm(realm)
        .context(step_up)
        .build()
        .or_else(|_| plain())
        .unwrap_or_else(|_| Challenge::bare("Bearer"))
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
