//! Errors in a policy file, placed at their file, line and column.
//!
//! Every loader of a policy file — the policy document
//! ([`policy`](crate::policy)) and the `[guards]` table
//! ([`GuardConfig`](crate::GuardConfig)) — reports through these types, so
//! both depend on this module and not on each other.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;

/// A policy load error, with its place in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {kind}")]
pub struct PolicyError {
    /// The file name (or a label for in-memory text).
    pub file: String,
    /// 1-based line (0 when not tied to a place).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The problem.
    pub kind: PolicyErrorKind,
}

impl PolicyError {
    /// An error not tied to a place in `file` (line and column 0).
    pub(crate) fn unplaced(file: impl Into<String>, kind: PolicyErrorKind) -> Self {
        Self {
            file: file.into(),
            line: 0,
            column: 0,
            kind,
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> &PolicyErrorKind {
        &self.kind
    }

    /// The file name (or the label given for in-memory text).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line and column (`(0, 0)` when not tied to a place).
    pub fn position(&self) -> (usize, usize) {
        (self.line, self.column)
    }
}

/// What is wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// Not valid TOML, or not the expected shape.
    #[error("{0}")]
    Syntax(String),
    /// The file could not be read.
    #[error("cannot read the policy: {0}")]
    Io(String),
    /// An organization role that is not defined.
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    /// A global role that is not defined.
    #[error("unknown global role `{0}`")]
    UnknownGlobalRole(String),
    /// A role defined twice.
    #[error("role `{0}` is defined twice")]
    DuplicateRole(String),
    /// Role inheritance loops back on itself.
    #[error("role inheritance cycle: {}", .0.join(" -> "))]
    RoleCycle(Vec<String>),
    /// A member listed twice in one organization.
    #[error("`{member}` is listed twice in organization `{organization}`")]
    DuplicateMember {
        /// The organization.
        organization: String,
        /// The member.
        member: String,
    },
    /// A CIDR range that does not parse.
    #[error("invalid CIDR range `{0}`")]
    BadCidr(String),
    /// A permission not in the declared `permissions` list.
    #[error("unknown permission `{0}` (not listed in `permissions`)")]
    UnknownPermission(String),
    /// A permission not of the form `resource:action`.
    #[error("invalid permission `{0}`: expected `resource:action`")]
    InvalidPermission(String),
    /// An account state other than active, suspended or disabled.
    #[error("unknown account state `{0}`: expected active, suspended or disabled")]
    BadState(String),
    /// A blocked-path pattern that does not compile.
    #[error("invalid blocked-path pattern `{0}`: {1}")]
    BadPattern(String, String),
    /// A header name that is not valid.
    #[error("invalid header name `{0}`")]
    BadHeader(String),
    /// A country code that is not two ASCII letters or digits.
    #[error("invalid country code `{0}`: expected two letters or digits")]
    BadCountry(String),
    /// A `max_forwarded_hops` outside 1 to 256.
    #[error("invalid max_forwarded_hops `{0}`: expected 1 to 256")]
    BadHopLimit(i64),
}

/// A byte range in the policy text.
pub(crate) type Span = Range<usize>;

/// An error before it is placed in a file.
pub(crate) type Located = (PolicyErrorKind, Option<Span>);

/// Places `kind` at `span` of `text` (line and column 0 without a span).
pub(crate) fn locate(file: &str, text: &str, (kind, span): Located) -> PolicyError {
    let (line, column) = match span {
        Some(s) => {
            let before = text.get(..s.start.min(text.len())).unwrap_or("");
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        }
        None => (0, 0),
    };
    PolicyError {
        file: file.to_owned(),
        line,
        column,
        kind,
    }
}

/// Parses `text` as TOML into `T`; a syntax or shape error is placed in
/// `file`.
pub(crate) fn parse_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, PolicyError> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().to_owned();
        locate(file, text, (PolicyErrorKind::Syntax(message), e.span()))
    })
}

/// Reads a policy file; returns its display name and text.
pub(crate) fn read_file(path: &Path) -> Result<(String, String), PolicyError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(e) => Err(PolicyError::unplaced(
            file,
            PolicyErrorKind::Io(e.to_string()),
        )),
    }
}
