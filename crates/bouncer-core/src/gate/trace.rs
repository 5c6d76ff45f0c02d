//! What each stage decided: [`Stage`], [`StageOutcome`], the per-request
//! [`Trace`], and the [`Verdict`] that pairs it with the decision.
//!
//! A leaf of the gate: it names no other gate module.

use std::fmt;

use crate::identity::{Identity, SchemeName};
use crate::outcome::{Decision, Denial};
use crate::reason::Code;

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
            Self::StepUp => "step-up",
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

impl StageOutcome {
    /// The outcome of a stage that ended the request with `denial`.
    pub(crate) fn of(denial: &Denial) -> Self {
        match denial {
            Denial::Fault(f) => Self::Faulted(f.code()),
            d => Self::Denied(d.code()),
        }
    }
}

/// What each stage decided, for logs and tests. Allocation-free.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    outcomes: [StageOutcome; 5],
    scheme: Option<SchemeName>,
    subject: Option<Subject>,
}

/// The authenticated identity, kept for its subject (a reference count,
/// no copy); two are equal when their subjects are.
#[derive(Debug, Clone)]
struct Subject(Identity);

impl PartialEq for Subject {
    fn eq(&self, other: &Self) -> bool {
        self.0.subject() == other.0.subject()
    }
}

impl Eq for Subject {}

impl Trace {
    pub(super) fn set(&mut self, stage: Stage, outcome: StageOutcome) {
        if let Some(slot) = self.outcomes.get_mut(stage.index()) {
            *slot = outcome;
        }
    }

    /// Marks every stage after the guards `outcome`.
    pub(super) fn set_after_guards(&mut self, outcome: StageOutcome) {
        for s in [
            Stage::Authentication,
            Stage::Account,
            Stage::Authorization,
            Stage::StepUp,
        ] {
            self.set(s, outcome);
        }
    }

    pub(super) fn set_scheme(&mut self, scheme: SchemeName) {
        self.scheme = Some(scheme);
    }

    pub(super) fn set_identity(&mut self, identity: &Identity) {
        self.subject = Some(Subject(identity.clone()));
    }

    /// The authenticated subject, once stage 2 passed (also on a 403 or a
    /// step-up 401).
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_ref().map(|s| s.0.subject())
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
    pub(super) fn new(decision: Decision, trace: Trace) -> Self {
        Self { decision, trace }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::{AuthnReason, ForbiddenReason};

    #[test]
    fn the_deciding_stage_is_the_first_that_denied_or_faulted() {
        let mut t = Trace::default();
        assert_eq!(t.deciding_stage(), None);
        t.set(Stage::Guards, StageOutcome::Passed);
        t.set(
            Stage::Authentication,
            StageOutcome::Denied(Code::Authn(AuthnReason::InvalidToken)),
        );
        assert_eq!(t.deciding_stage(), Some(Stage::Authentication));
        assert_eq!(t.outcome(Stage::Account), StageOutcome::NotRun);
    }

    #[test]
    fn display_names_every_stage_and_the_scheme() {
        let mut t = Trace::default();
        t.set(Stage::Guards, StageOutcome::Passed);
        t.set_after_guards(StageOutcome::Skipped);
        t.set(
            Stage::Authorization,
            StageOutcome::Denied(Code::Forbidden(ForbiddenReason::NotShared)),
        );
        t.set_scheme(SchemeName::BEARER);
        assert_eq!(
            t.to_string(),
            "guards=pass authentication=skip account=skip authorization=deny(not_shared) step-up=skip scheme=bearer"
        );
    }
}
