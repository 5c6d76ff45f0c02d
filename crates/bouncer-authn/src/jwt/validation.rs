//! What a token must satisfy beyond its signature (RFC 8725, RFC 9068).
//!
//! Secure by default: `exp` required, `iss` and `aud` checked, leeway of
//! 30 s (at most 60 s), `typ` absent, `JWT` or `at+jwt`, `crit` refused,
//! tokens longer than 8 KiB refused. Weakening any of it goes through
//! [`JwtValidation::dangerous`].

use std::time::Duration;

/// The longest leeway accepted without the dangerous door.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// Validation settings. Fields are private; use the builder methods.
#[derive(Debug, Clone)]
pub struct JwtValidation {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) require_at_jwt: bool,
    pub(crate) required_claims: Vec<String>,
    pub(crate) max_token_len: usize,
    pub(crate) validate_exp: bool,
    pub(crate) validate_aud: bool,
    pub(crate) validate_iss: bool,
    pub(crate) validate_nbf: bool,
    pub(crate) logto_organization_audience: bool,
}

impl JwtValidation {
    /// Tokens from `issuer` for `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuers: vec![issuer.into()],
            audiences: vec![audience.into()],
            leeway: Duration::from_secs(30),
            require_at_jwt: false,
            required_claims: Vec::new(),
            max_token_len: 8 * 1024,
            validate_exp: true,
            validate_aud: true,
            validate_iss: true,
            validate_nbf: true,
            logto_organization_audience: false,
        }
    }

    /// Accepts another issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Accepts another audience (a token is valid if its `aud` holds any).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock-skew allowance for `exp` and `nbf`, capped at 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// Requires the RFC 9068 header `typ: at+jwt`.
    pub fn require_at_jwt(mut self) -> Self {
        self.require_at_jwt = true;
        self
    }

    /// Requires these claims to be present (beyond `exp` and `sub`).
    pub fn require_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_claims
            .extend(claims.into_iter().map(Into::into));
        self
    }

    /// The longest token accepted, in bytes.
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// Also accepts Logto organization tokens, whose `aud` is
    /// `urn:logto:organization:<id>`; such a token is bound to that
    /// organization.
    pub fn accept_logto_organization_audience(mut self) -> Self {
        self.logto_organization_audience = true;
        self
    }

    /// The door to settings that weaken validation.
    pub fn dangerous(self) -> DangerousJwtValidation {
        DangerousJwtValidation(self)
    }

    /// The leeway in force.
    pub fn leeway_in_force(&self) -> Duration {
        self.leeway
    }
}

/// Settings that make tokens easier to forge or replay. Each is named for
/// what it gives up; use them for test vectors and migrations, not in
/// production.
#[derive(Debug, Clone)]
#[must_use]
pub struct DangerousJwtValidation(JwtValidation);

impl DangerousJwtValidation {
    /// Accepts expired tokens and tokens without `exp`.
    pub fn disable_exp_validation(mut self) -> Self {
        self.0.validate_exp = false;
        self
    }

    /// Accepts tokens for any audience, or none.
    pub fn disable_aud_validation(mut self) -> Self {
        self.0.validate_aud = false;
        self
    }

    /// Accepts tokens from any issuer, or none.
    pub fn disable_iss_validation(mut self) -> Self {
        self.0.validate_iss = false;
        self
    }

    /// Ignores `nbf`.
    pub fn disable_nbf_validation(mut self) -> Self {
        self.0.validate_nbf = false;
        self
    }

    /// A leeway beyond 60 s.
    pub fn leeway_unbounded(mut self, leeway: Duration) -> Self {
        self.0.leeway = leeway;
        self
    }

    /// Back to the (weakened) settings.
    pub fn done(self) -> JwtValidation {
        self.0
    }
}

impl From<DangerousJwtValidation> for JwtValidation {
    fn from(d: DangerousJwtValidation) -> Self {
        d.0
    }
}
