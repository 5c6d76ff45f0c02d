//! The challenges a denial carries, and the denials that carry them: the
//! 401 of stage 2, the RFC 9470 401 of stage 5, and the 403s of stages 1
//! and 4 (with the `insufficient_scope` challenge).
//!
//! One rule for which challenges carry error parameters ([`ErrorTo`]):
//! nobody when no credentials of an accepted scheme were presented, the
//! failing scheme when they were, and every accepted scheme for a step-up
//! whose scheme has no challenge of its own.

use crate::challenge::Challenge;
use crate::identity::{Authenticated, SchemeName};
use crate::outcome::{AccessError, Denial, Refused, Rejection, Unauthenticated};
use crate::reason::{AuthnReason, Code, Reason};
use crate::requirement::{Requirement, StepUp};
use crate::traits::ChallengeContext;

use super::builder::Config;

/// Which challenges carry the error parameters.
enum ErrorTo<'a> {
    /// None (no credentials were presented, or not of an accepted scheme).
    Nobody,
    /// The scheme that was tried and failed.
    Scheme(&'a SchemeName, ChallengeContext<'a>),
    /// Every accepted scheme (step-up for a scheme without a challenge).
    Every(ChallengeContext<'a>),
}

/// The 401 for `rejection` on a route with `requirement`, `failing` naming
/// the scheme that was tried.
pub(super) fn unauthenticated(
    config: &Config,
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
    let challenges = challenges(config, requirement, to);
    let status = config.profile.status_of(Code::Authn(rejection.reason()));
    Denial::Unauthenticated(Box::new(Unauthenticated {
        rejection,
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
    let rejection = Rejection::new(AuthnReason::MfaRequired).with_step_up(step_up.clone());
    let mut ctx = ChallengeContext::new(
        Reason::Authn(AuthnReason::MfaRequired),
        rejection.description(),
    );
    ctx.step_up = Some(step_up);
    // A scheme without a challenge of its own (a session) still needs
    // the RFC 9470 parameters, on the route's other challenges.
    let own = config
        .authenticators
        .iter()
        .find(|a| a.scheme() == *scheme)
        .and_then(|a| a.challenge(Some(&ctx)));
    let to = match own {
        Some(_) => ErrorTo::Scheme(scheme, ctx),
        None => ErrorTo::Every(ctx),
    };
    let challenges = challenges(config, requirement, to);
    Denial::Unauthenticated(Box::new(Unauthenticated {
        rejection,
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
                let mut ctx = ChallengeContext::new(reason, forbidden.reason().description());
                ctx.scope = Some(scope);
                challenges = config
                    .authenticators
                    .iter()
                    .filter(|a| a.scheme() == *caller.scheme() && requirement.accepts(&a.scheme()))
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

/// The challenges for the accepted schemes, in registration order, one
/// per scheme name, with the error parameters where `to` says.
fn challenges(config: &Config, requirement: &Requirement, to: ErrorTo<'_>) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::with_capacity(2);
    for a in config
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
        out.push(fallback_challenge(&config.realm));
    }
    out
}

fn fallback_challenge(realm: &str) -> Challenge {
    Challenge::bearer()
        .realm(realm)
        .build()
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
