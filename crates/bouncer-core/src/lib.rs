//! # bouncer-core
//!
//! The vocabulary of [bouncer]: the decision every request gets — allow,
//! **401** (not authenticated, with a challenge), **403** (not allowed), or
//! a fault (500/503) — and the staged [`Gate`] that makes it.
//!
//! **Depend on this crate** when you write your own authenticator, guard or
//! authorizer, or a framework adapter. It has no runtime, no framework and
//! no crypto: `http`, `thiserror`, `async-trait`, and `serde` behind a
//! feature.
//!
//! | feature | adds |
//! |---|---|
//! | `serde` | `Serialize` for [`Problem`] |
//! | `json` | `Problem::to_json` and the `render` module, the one renderer every adapter sends denials through (pulls in `serde_json`) |
//! | `tracing` | the decision log: one `tracing` event per decision, target `bouncer::decision` (the `logging` module) |
//! | `metrics` | `bouncer_decisions_total` and `bouncer_decision_duration_seconds` through the `metrics` facade (the `logging` module) |
//!
//! ## The one rule
//!
//! **401** when authenticating (again, or more strongly) could change the
//! answer; **403** when it could not. The [`Gate`] runs five stages in
//! order and the first that denies decides:
//!
//! 1. request guards ([`RequestGuard`]) → 403
//! 2. authentication ([`Authenticator`]) → 401 + challenges
//! 3. account state ([`AccountDirectory`]) → 403
//! 4. authorization ([`Authorizer`]) → 403 (404 for a missing resource)
//! 5. step-up ([`StepUp`]) → 401 + RFC 9470 challenge
//!
//! A stage that errors is a [`Fault`]: 500, or 503 with `Retry-After`.
//! Never 401/403, never allow.
//!
//! ## Invariants the types enforce
//!
//! - A [`Denial`] has exactly one status; 401s always carry at least one
//!   [`Challenge`].
//! - [`Authenticated`] can only be built by the gate, and it is what an
//!   [`Authorizer`] receives.
//! - Challenges are validated when built: a value that cannot be sent is a
//!   [`ChallengeError`], not a broken header; a fixed [`StaticChallenge`]
//!   is checked at compile time ([`static_challenge!`]).
//! - One clock: the gate reads its [`Clock`] once per decision, and every
//!   stage sees that time as [`RequestContext::now`].
//!
//! ## Example
//!
//! ```
//! use bouncer_core::{Challenge, Credentials};
//!
//! // Parse credentials (scheme is case-insensitive, the length is bounded).
//! let c = Credentials::parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")?;
//! assert!(c.is_scheme("basic"));
//!
//! // Build and render a challenge (RFC 9110 §11 syntax).
//! let ch = Challenge::basic("api")?;
//! assert_eq!(ch.to_string(), r#"Basic realm="api", charset="UTF-8""#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See [`Gate`] for a whole decision, [`Authenticator`] for writing your
//! own scheme, and the [`guide`] for which API produces which answer.
//!
//! [bouncer]: https://github.com/bouncer-rs/bouncer

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod authorization;
pub mod challenge;
mod decision_id;
mod gate;
pub mod guide;
mod identity;
#[cfg(any(feature = "tracing", feature = "metrics"))]
pub mod logging;
#[cfg(feature = "serde")]
pub mod metadata;
mod outcome;
pub mod problem;
pub mod reason;
#[cfg(feature = "json")]
pub mod render;
mod request;
mod requirement;
pub mod route;
mod syntax;
mod traits;

pub use authorization::{AuthorizationError, Credentials};
pub use challenge::{
    BearerChallenge, BearerError, Challenge, ChallengeContext, ChallengeError, StaticChallenge,
};
pub use decision_id::{DecisionId, DECISION_URN_PREFIX};
pub use gate::{Gate, GateBuilder, GuardsPassed, Profile, Stage, StageOutcome, Trace, Verdict};
pub use identity::{
    AuthContext, Authenticated, CredentialInfo, Identity, PrincipalKind, SchemeName,
};
pub use outcome::{
    AccessError, AuthnError, Caller, Decision, Denial, Fault, Forbidden, ForbiddenDenial,
    InternalError, PolicyRule, Unauthenticated, UnauthenticatedDenial, Unavailable,
};
pub use problem::{Problem, PROBLEM_JSON};
pub use reason::{AuthnReason, Code, ForbiddenReason, Reason};
#[cfg(feature = "json")]
pub use render::{RenderOptions, Rendered};
pub use request::RequestContext;
pub use requirement::{Authentication, Requirement, StepUp};
pub use traits::{
    AccountDirectory, AccountState, Authenticator, Authorizer, Clock, NameKind, RequestGuard,
    SystemClock, UnknownName,
};

/// Re-exported so implementors use the same macro version.
pub use async_trait::async_trait;
