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
    fn statuses_follow_the_one_rule() {
        for r in AuthnReason::ALL {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        for r in ForbiddenReason::ALL {
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
        }
    }
}
