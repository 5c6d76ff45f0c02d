//! Denial reasons and their reason codes (contract §3).
//!
//! Two enums, one per status: [`AuthnReason`] is always 401 (authenticating
//! again could change the answer), [`ForbiddenReason`] is always 403 (it
//! could not). Both are `#[non_exhaustive]` so that a new reason is not a
//! breaking change.

use std::fmt;

use http::StatusCode;

/// Why a request was not authenticated. Always answered with 401 and a
/// challenge (or 400 for malformed credentials under the strict RFC 6750
/// profile).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthnReason {
    /// No credentials of any kind.
    MissingCredentials,
    /// `Authorization` present but not valid syntax for its scheme.
    MalformedCredentials,
    /// Credentials of a scheme the route does not accept.
    UnsupportedScheme,
    /// Wrong password, unknown user or unknown API key (indistinguishable).
    InvalidCredentials,
    /// A token that fails verification or validation (but is not expired).
    InvalidToken,
    /// A token whose `exp` is in the past, beyond the leeway.
    TokenExpired,
    /// A token whose `jti` was revoked.
    TokenRevoked,
    /// An unknown, expired or ended session.
    SessionInvalid,
    /// Stronger or fresher authentication is needed (MFA, `max_age`).
    MfaRequired,
}

impl AuthnReason {
    /// Every reason, in contract order.
    pub const ALL: &'static [AuthnReason] = &[
        Self::MissingCredentials,
        Self::MalformedCredentials,
        Self::UnsupportedScheme,
        Self::InvalidCredentials,
        Self::InvalidToken,
        Self::TokenExpired,
        Self::TokenRevoked,
        Self::SessionInvalid,
        Self::MfaRequired,
    ];

    /// The reason code sent as `code` in the problem body.
    pub const fn code(self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::MalformedCredentials => "malformed_credentials",
            Self::UnsupportedScheme => "unsupported_scheme",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidToken => "invalid_token",
            Self::TokenExpired => "token_expired",
            Self::TokenRevoked => "token_revoked",
            Self::SessionInvalid => "session_invalid",
            Self::MfaRequired => "mfa_required",
        }
    }

    /// The status: 401 for every authentication reason.
    pub const fn status(self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }

    /// A fixed, safe description: it never names the account or echoes a
    /// credential.
    pub const fn description(self) -> &'static str {
        match self {
            Self::MissingCredentials => "authentication is required",
            Self::MalformedCredentials => "the credentials are not valid syntax for their scheme",
            Self::UnsupportedScheme => "this resource does not accept that authentication scheme",
            Self::InvalidCredentials => "the credentials are not valid",
            Self::InvalidToken => "the access token is not valid",
            Self::TokenExpired => "the access token has expired",
            Self::TokenRevoked => "the access token has been revoked",
            Self::SessionInvalid => "the session is not valid",
            Self::MfaRequired => "stronger or more recent authentication is required",
        }
    }
}

impl fmt::Display for AuthnReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why an identified (or identity-independent) request is refused. Always
/// answered with 403.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ForbiddenReason {
    /// A hidden or server-internal path (dotfiles, `.git/`).
    BlockedPath,
    /// The client IP is in a denied range.
    IpBlocked,
    /// The client's country is denied.
    GeoBlocked,
    /// The account is suspended or disabled.
    AccountSuspended,
    /// Not a member of the organization, or the token is bound to another.
    TenantMismatch,
    /// The route needs an elevated global role the caller lacks.
    ElevationRequired,
    /// The caller's roles do not grant the permission.
    InsufficientPermission,
    /// The roles grant it, but the token's scope does not include it.
    InsufficientScope,
    /// The resource is private and not shared with the caller.
    NotShared,
    /// The resource is read-only and the method would change it.
    ReadOnly,
}

impl ForbiddenReason {
    /// Every reason, in contract order.
    pub const ALL: &'static [ForbiddenReason] = &[
        Self::BlockedPath,
        Self::IpBlocked,
        Self::GeoBlocked,
        Self::AccountSuspended,
        Self::TenantMismatch,
        Self::ElevationRequired,
        Self::InsufficientPermission,
        Self::InsufficientScope,
        Self::NotShared,
        Self::ReadOnly,
    ];

    /// The reason code sent as `code` in the problem body.
    pub const fn code(self) -> &'static str {
        match self {
            Self::BlockedPath => "blocked_path",
            Self::IpBlocked => "ip_blocked",
            Self::GeoBlocked => "geo_blocked",
            Self::AccountSuspended => "account_suspended",
            Self::TenantMismatch => "tenant_mismatch",
            Self::ElevationRequired => "elevation_required",
            Self::InsufficientPermission => "insufficient_permission",
            Self::InsufficientScope => "insufficient_scope",
            Self::NotShared => "not_shared",
            Self::ReadOnly => "read_only",
        }
    }

    /// The status: 403 for every authorization reason.
    pub const fn status(self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    /// A fixed, safe description.
    pub const fn description(self) -> &'static str {
        match self {
            Self::BlockedPath => "this path is not served",
            Self::IpBlocked => "requests from this address are not allowed",
            Self::GeoBlocked => "requests from this country are not allowed",
            Self::AccountSuspended => "the account is suspended",
            Self::TenantMismatch => "the caller does not belong to this organization",
            Self::ElevationRequired => "this resource requires an elevated role",
            Self::InsufficientPermission => "the caller's roles do not grant this permission",
            Self::InsufficientScope => "the access token's scope does not include this permission",
            Self::NotShared => "this resource is not shared with the caller",
            Self::ReadOnly => "this resource is read-only",
        }
    }
}

impl fmt::Display for ForbiddenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Either kind of reason, for code that handles both (challenge building,
/// traces, logs).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A 401 reason.
    Authn(AuthnReason),
    /// A 403 reason.
    Forbidden(ForbiddenReason),
}

impl Reason {
    /// The reason code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Authn(r) => r.code(),
            Self::Forbidden(r) => r.code(),
        }
    }

    /// The status the reason maps to.
    pub const fn status(self) -> StatusCode {
        match self {
            Self::Authn(r) => r.status(),
            Self::Forbidden(r) => r.status(),
        }
    }
}

impl From<AuthnReason> for Reason {
    fn from(r: AuthnReason) -> Self {
        Self::Authn(r)
    }
}

impl From<ForbiddenReason> for Reason {
    fn from(r: ForbiddenReason) -> Self {
        Self::Forbidden(r)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Every code a bouncer response can carry as `code` in its problem body:
/// the 19 reason codes of the contract, and the four codes of answers that
/// are not 401/403 (`not_found`, `too_many_requests`, `internal_error`,
/// `service_unavailable`). One vocabulary for every adapter, the decision
/// log, metrics and the explain tools: no string literals elsewhere.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// A 401 reason.
    Authn(AuthnReason),
    /// A 403 reason.
    Forbidden(ForbiddenReason),
    /// 404: the resource does not exist.
    NotFound,
    /// 429: too many failed attempts.
    TooManyRequests,
    /// 500: a bug, or a misconfiguration.
    InternalError,
    /// 503: a dependency is unreachable.
    ServiceUnavailable,
}

impl Code {
    /// Every code: the 401 reasons, the 403 reasons, then the others.
    pub const ALL: &'static [Code] = &[
        Self::Authn(AuthnReason::MissingCredentials),
        Self::Authn(AuthnReason::MalformedCredentials),
        Self::Authn(AuthnReason::UnsupportedScheme),
        Self::Authn(AuthnReason::InvalidCredentials),
        Self::Authn(AuthnReason::InvalidToken),
        Self::Authn(AuthnReason::TokenExpired),
        Self::Authn(AuthnReason::TokenRevoked),
        Self::Authn(AuthnReason::SessionInvalid),
        Self::Authn(AuthnReason::MfaRequired),
        Self::Forbidden(ForbiddenReason::BlockedPath),
        Self::Forbidden(ForbiddenReason::IpBlocked),
        Self::Forbidden(ForbiddenReason::GeoBlocked),
        Self::Forbidden(ForbiddenReason::AccountSuspended),
        Self::Forbidden(ForbiddenReason::TenantMismatch),
        Self::Forbidden(ForbiddenReason::ElevationRequired),
        Self::Forbidden(ForbiddenReason::InsufficientPermission),
        Self::Forbidden(ForbiddenReason::InsufficientScope),
        Self::Forbidden(ForbiddenReason::NotShared),
        Self::Forbidden(ForbiddenReason::ReadOnly),
        Self::NotFound,
        Self::TooManyRequests,
        Self::InternalError,
        Self::ServiceUnavailable,
    ];

    /// The wire form, e.g. `missing_credentials`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Authn(r) => r.code(),
            Self::Forbidden(r) => r.code(),
            Self::NotFound => "not_found",
            Self::TooManyRequests => "too_many_requests",
            Self::InternalError => "internal_error",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }

    /// The code for a wire form, `None` for anything else.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// The status this code is sent with by default. (Under the strict
    /// RFC 6750 profile `malformed_credentials` is 400 instead: see
    /// [`Profile::status_of`](crate::Profile::status_of).)
    pub const fn status(self) -> StatusCode {
        match self {
            Self::Authn(r) => r.status(),
            Self::Forbidden(r) => r.status(),
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The 401/403 reason, for the codes that are one.
    pub const fn reason(self) -> Option<Reason> {
        match self {
            Self::Authn(r) => Some(Reason::Authn(r)),
            Self::Forbidden(r) => Some(Reason::Forbidden(r)),
            _ => None,
        }
    }

    /// A fixed, safe description (the problem body's `detail`).
    pub const fn description(self) -> &'static str {
        match self {
            Self::Authn(r) => r.description(),
            Self::Forbidden(r) => r.description(),
            Self::NotFound => "the resource does not exist",
            Self::TooManyRequests => "too many failed attempts",
            Self::InternalError => "an internal error occurred",
            Self::ServiceUnavailable => "a service this request depends on is unavailable",
        }
    }
}

impl From<AuthnReason> for Code {
    fn from(r: AuthnReason) -> Self {
        Self::Authn(r)
    }
}

impl From<ForbiddenReason> for Code {
    fn from(r: ForbiddenReason) -> Self {
        Self::Forbidden(r)
    }
}

impl From<Reason> for Code {
    fn from(r: Reason) -> Self {
        match r {
            Reason::Authn(r) => Self::Authn(r),
            Reason::Forbidden(r) => Self::Forbidden(r),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or(UnknownCode)
    }
}

/// A string that is not one of bouncer's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a bouncer code")]
pub struct UnknownCode;

#[cfg(feature = "serde")]
impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        let codes = AuthnReason::ALL
            .iter()
            .map(|r| r.code())
            .chain(ForbiddenReason::ALL.iter().map(|r| r.code()));
        for code in codes {
            assert!(seen.insert(code), "duplicate code {code}");
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(seen.len(), 19);
    }

    #[test]
    fn every_code_round_trips_and_is_unique() {
        let mut seen = HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            assert_eq!(c.as_str().parse::<Code>(), Ok(*c));
            assert_eq!(c.reason().map(Code::from), c.reason().map(|_| *c));
        }
        assert_eq!(seen.len(), 23);
        assert_eq!(Code::parse("Missing_Credentials"), None);
        assert_eq!(Code::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(Code::ServiceUnavailable.status().as_u16(), 503);
    }

    #[test]
    fn statuses_follow_the_one_rule() {
        for r in AuthnReason::ALL {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        for r in ForbiddenReason::ALL {
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
        }
    }
}
