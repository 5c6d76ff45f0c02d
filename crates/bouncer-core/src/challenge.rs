//! `WWW-Authenticate` challenges (RFC 9110 §11), with the Basic (RFC 7617),
//! Bearer (RFC 6750 §3) and step-up (RFC 9470) parameters.
//!
//! A [`Challenge`] is validated when it is built: a value that cannot be
//! sent is a [`ChallengeError`], never a broken header. Rendering follows
//! the sender rules: parameters are comma-separated, `realm` is always a
//! quoted-string (§11.5), other values are quoted when they are not tokens,
//! and only `"` and `\` are escaped.
//!
//! Parsing follows the recipient rules: empty list elements are skipped
//! before, between and after challenges and among one challenge's
//! parameters (RFC 9110 §5.6.1.2: `Basic , realm="a"` is one challenge), and
//! a quoted-string may carry obs-text (%x80-FF), kept as opaque data
//! (§5.5). The parser reads octets ([`Challenge::parse_list_bytes`],
//! [`Challenge::parse_headers`]); a value reads as text with
//! [`Challenge::get`] (exact when it is UTF-8, lossy otherwise) and as the
//! octets received with [`Challenge::get_bytes`]. What we build is plain
//! ASCII; a parsed challenge re-sent with [`Challenge::to_header_value`]
//! carries its octets unchanged.
//!
//! ## Challenges of your own scheme
//!
//! A scheme's fixed challenge is written once, as a [`StaticChallenge`]
//! checked at compile time by [`static_challenge!`](crate::static_challenge):
//! a value that could not be sent does not build, so no request can meet
//! it. [`Challenge::with_context`] then adds what the gate knows about the
//! denial (`error`, `error_description`, `scope`, `acr_values`, `max_age`),
//! so a custom scheme's 401 says what failed:
//!
//! ```
//! use bouncer_core::challenge::{Challenge, StaticChallenge};
//! use bouncer_core::{static_challenge, AuthnReason, ChallengeContext, Reason};
//!
//! const HMAC: StaticChallenge = static_challenge!("HMAC-SHA256", &[("realm", "reports")]);
//!
//! // In `Authenticator::challenge(&self, ctx)`:
//! let ctx = ChallengeContext::new(Reason::Authn(AuthnReason::InvalidCredentials), "the signature is not valid");
//! let c = Challenge::from_static(HMAC).with_context(Some(&ctx));
//! assert_eq!(
//!     c.to_string(),
//!     r#"HMAC-SHA256 realm="reports", error="invalid_token", error_description="the signature is not valid""#
//! );
//! assert_eq!(Challenge::from_static(HMAC).with_context(None).to_string(), r#"HMAC-SHA256 realm="reports""#);
//! ```
//!
//! ## Bearer
//!
//! ```
//! use bouncer_core::challenge::{BearerError, Challenge};
//!
//! let c = Challenge::bearer()
//!     .realm("example")
//!     .error(BearerError::InvalidToken)
//!     .error_description("The access token expired")
//!     .build()?;
//! assert_eq!(
//!     c.to_string(),
//!     r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#
//! );
//! let parsed = Challenge::parse_list(&c.to_string())?;
//! assert_eq!(parsed, vec![c]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::Duration;

use http::HeaderValue;

use crate::reason::{AuthnReason, ForbiddenReason, Reason};
use crate::requirement::StepUp;
use crate::syntax::{self, Cursor, ParamValue, SyntaxError};

/// Why a challenge is being built: handed to
/// [`Authenticator::challenge`](crate::Authenticator::challenge) for the
/// schemes whose challenge should say what failed.
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
    /// The failing scheme's own `error` code, when its rejection set one
    /// ([`Unauthenticated::with_error_code`](crate::Unauthenticated::with_error_code)).
    pub error_code: Option<&'a str>,
}

impl<'a> ChallengeContext<'a> {
    /// A context for `reason` with `description`.
    pub fn new(reason: Reason, description: &'a str) -> Self {
        Self {
            reason,
            description,
            scope: None,
            step_up: None,
            error_code: None,
        }
    }

    /// With the failing scheme's own `error` code.
    pub fn with_error_code(mut self, code: &'a str) -> Self {
        self.error_code = Some(code);
        self
    }

    /// With the scope that was missing.
    pub fn with_scope(mut self, scope: &'a str) -> Self {
        self.scope = Some(scope);
        self
    }

    /// With the unmet step-up requirement.
    pub fn with_step_up(mut self, step_up: &'a StepUp) -> Self {
        self.step_up = Some(step_up);
        self
    }

    /// The `error` code for this context in the OAuth vocabulary of
    /// RFC 6750 §3.1 and RFC 9470 §3 ([`BearerError::for_reason`]); `None`
    /// when no credentials of the scheme were presented.
    pub fn error(&self) -> Option<BearerError> {
        BearerError::for_reason(self.reason)
    }

    /// The step-up's `acr_values`, space-separated, when it names any.
    fn acr_values(&self) -> Option<String> {
        self.step_up
            .map(StepUp::acr_values)
            .filter(|v| !v.is_empty())
            .map(|v| v.join(" "))
    }
}

/// Why a challenge could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The scheme is not a token.
    #[error("auth-scheme `{0}` is not a token")]
    InvalidScheme(String),
    /// A parameter name is not a token.
    #[error("auth-param name `{0}` is not a token")]
    InvalidParamName(String),
    /// A parameter occurs twice (names are case-insensitive).
    #[error("auth-param `{0}` occurs twice")]
    DuplicateParam(String),
    /// A value given to a builder holds characters we do not send
    /// (controls, non-ASCII).
    #[error("the value of `{0}` cannot be sent in a header")]
    InvalidValue(&'static str),
    /// A value breaks its parameter's own character rules (RFC 6750 §3).
    #[error("the value of `{0}` breaks its character rules")]
    InvalidBearerValue(&'static str),
    /// A token68 with characters outside its alphabet.
    #[error("invalid token68")]
    InvalidToken68,
    /// A header value that is not a valid challenge list.
    #[error("malformed challenge list: {0}")]
    Syntax(#[from] SyntaxError),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Param {
    name: String,
    value: ParamValue,
    /// Always send as quoted-string (realm, and every RFC 6750/7617 param).
    quoted: bool,
}

/// One challenge: an auth-scheme with a token68 or auth-params.
///
/// Equality compares the scheme case-insensitively, parameter names
/// case-insensitively and values octet by octet, ignoring how a value was
/// quoted — the same meaning a recipient gives them.
#[derive(Debug, Clone, Eq)]
pub struct Challenge {
    scheme: String,
    token68: Option<String>,
    params: Vec<Param>,
}

impl PartialEq for Challenge {
    fn eq(&self, other: &Self) -> bool {
        self.scheme.eq_ignore_ascii_case(&other.scheme)
            && self.token68 == other.token68
            && self.params.len() == other.params.len()
            && self.params.iter().zip(&other.params).all(|(a, b)| {
                a.name.eq_ignore_ascii_case(&b.name) && a.value.octets() == b.value.octets()
            })
    }
}

impl Challenge {
    /// A challenge for `scheme` with no parameters.
    pub fn new(scheme: &str) -> Result<Self, ChallengeError> {
        if !syntax::is_token(scheme) {
            return Err(ChallengeError::InvalidScheme(scheme.to_owned()));
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            token68: None,
            params: Vec::new(),
        })
    }

    /// A challenge with a scheme known to be a token and no parameters.
    pub(crate) fn bare(scheme: &'static str) -> Self {
        Self {
            scheme: scheme.to_owned(),
            token68: None,
            params: Vec::new(),
        }
    }

    /// Adds a parameter, quoted when the value is not a token (and always
    /// for `realm`, RFC 9110 §11.5).
    pub fn param(self, name: &str, value: &str) -> Result<Self, ChallengeError> {
        let quoted = name.eq_ignore_ascii_case("realm");
        self.push(name, value, quoted)
    }

    /// Adds a parameter that is always sent as a quoted-string.
    pub fn quoted_param(self, name: &str, value: &str) -> Result<Self, ChallengeError> {
        self.push(name, value, true)
    }

    fn push(mut self, name: &str, value: &str, quoted: bool) -> Result<Self, ChallengeError> {
        if !syntax::is_token(name) {
            return Err(ChallengeError::InvalidParamName(name.to_owned()));
        }
        if self.token68.is_some() {
            return Err(ChallengeError::InvalidToken68);
        }
        if self
            .params
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name))
        {
            return Err(ChallengeError::DuplicateParam(name.to_owned()));
        }
        if !syntax::is_quotable(value) {
            return Err(ChallengeError::InvalidValue("auth-param"));
        }
        self.params.push(Param {
            name: name.to_owned(),
            value: ParamValue::from_text(value),
            quoted,
        });
        Ok(self)
    }

    /// Sets a token68 instead of parameters.
    pub fn with_token68(mut self, token68: &str) -> Result<Self, ChallengeError> {
        if !self.params.is_empty() || !syntax::is_token68(token68) {
            return Err(ChallengeError::InvalidToken68);
        }
        self.token68 = Some(token68.to_owned());
        Ok(self)
    }

    /// `Basic realm="…", charset="UTF-8"` (RFC 7617 §2.1).
    pub fn basic(realm: &str) -> Result<Self, ChallengeError> {
        Self::new("Basic")?
            .quoted_param("realm", realm)?
            .quoted_param("charset", "UTF-8")
    }

    /// A builder for a Bearer challenge (RFC 6750 §3, RFC 9470 §3).
    pub fn bearer() -> BearerChallenge {
        BearerChallenge::default()
    }

    /// The challenge a [`StaticChallenge`] describes. Infallible: its
    /// values were checked when it was made (at compile time, with
    /// [`static_challenge!`](crate::static_challenge)). `realm` is sent
    /// quoted, other values as tokens when they are tokens.
    pub fn from_static(c: StaticChallenge) -> Self {
        Self {
            scheme: c.scheme.to_owned(),
            token68: None,
            params: c
                .params
                .iter()
                .map(|(name, value)| Param {
                    name: (*name).to_owned(),
                    value: ParamValue::from_text(value),
                    quoted: name.eq_ignore_ascii_case("realm"),
                })
                .collect(),
        }
    }

    /// Adds what `ctx` says about the denial, for a scheme of your own
    /// (the gate passes `ctx` to the schemes whose challenge should say
    /// what failed, `None` to the others):
    ///
    /// | parameter | when |
    /// |---|---|
    /// | `error` | credentials of this scheme were presented and failed, or step-up: the RFC 6750 / RFC 9470 code of [`ChallengeContext::error`] (`invalid_request`, `invalid_token`, `insufficient_scope`, `insufficient_user_authentication`) |
    /// | `error_description` | with `error`: the gate's fixed description |
    /// | `scope` | a 403 for missing scope |
    /// | `acr_values`, `max_age` | step-up: the route's [`StepUp`] |
    ///
    /// Values are sent quoted, as in the RFC 6750 and RFC 9470 examples.
    /// Never fails: a parameter the challenge already has, or one that
    /// cannot be sent (an `acr` value with a control character, a token68
    /// challenge, which takes no parameters), is left out, so the
    /// challenge itself is always there.
    #[must_use]
    pub fn with_context(self, ctx: Option<&ChallengeContext<'_>>) -> Self {
        let Some(ctx) = ctx else { return self };
        let mut c = self;
        let mut add = |name: &str, value: &str| {
            if let Ok(next) = c.clone().quoted_param(name, value) {
                c = next;
            }
        };
        if let Some(error) = ctx.error() {
            add("error", error.as_str());
            add("error_description", ctx.description);
        }
        if let Some(scope) = ctx.scope {
            add("scope", scope);
        }
        if let Some(acr) = ctx.acr_values() {
            add("acr_values", &acr);
        }
        if let Some(max_age) = ctx.step_up.and_then(StepUp::max_age_limit) {
            add("max_age", &max_age.as_secs().to_string());
        }
        c
    }

    /// The auth-scheme as given.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The token68, if the challenge carries one.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }

    fn find(&self, name: &str) -> Option<&Param> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// A parameter's value as text, by case-insensitive name.
    ///
    /// Exact for every value we build and every parsed value whose octets
    /// are UTF-8. A parsed value with other obs-text (a Latin-1 realm, say)
    /// reads with U+FFFD in place of the invalid sequences; use
    /// [`get_bytes`](Self::get_bytes) for its octets.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).map(|p| p.value.text())
    }

    /// A parameter's value as the octets received (or given), by
    /// case-insensitive name. obs-text is opaque data (RFC 9110 §5.5): these
    /// octets are what to compare, store or re-send.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.find(name).map(|p| p.value.octets())
    }

    /// The parameters in order, as `(name, value)`, values as text (see
    /// [`get`](Self::get)).
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params
            .iter()
            .map(|p| (p.name.as_str(), p.value.text()))
    }

    /// The parameters in order, as `(name, octets)` (see
    /// [`get_bytes`](Self::get_bytes)).
    pub fn params_bytes(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.params
            .iter()
            .map(|p| (p.name.as_str(), p.value.octets()))
    }

    fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        syntax::render(
            &mut out,
            &self.scheme,
            self.token68.as_deref(),
            self.params
                .iter()
                .map(|p| (p.name.as_str(), p.value.octets(), p.quoted)),
        );
        out
    }

    /// The challenge as a header value. Infallible: what a builder took was
    /// validated as visible ASCII, SP and HTAB, and a parsed value adds only
    /// obs-text, all of them valid field octets. A parsed value's octets
    /// are sent unchanged.
    pub fn to_header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.render())
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }

    /// Parses a `WWW-Authenticate` field value (`#challenge`).
    ///
    /// Non-ASCII characters of `value` are obs-text: legal inside
    /// quoted-strings (as their UTF-8 octets), nowhere else.
    pub fn parse_list(value: &str) -> Result<Vec<Challenge>, ChallengeError> {
        Self::parse_list_bytes(value.as_bytes())
    }

    /// Parses a `WWW-Authenticate` field value given as octets, the form it
    /// has on the wire (`HeaderValue::as_bytes`). obs-text (%x80-FF) inside
    /// quoted-strings is kept as opaque data (RFC 9110 §5.5); control
    /// characters are refused.
    pub fn parse_list_bytes(value: &[u8]) -> Result<Vec<Challenge>, ChallengeError> {
        Ok(Cursor::new(value)
            .list()?
            .into_iter()
            .map(Self::from_element)
            .collect())
    }

    /// Parses every `WWW-Authenticate` field line of a header map, in order
    /// (several lines are one comma-separated list, RFC 9110 §5.3). Each
    /// line is read as octets, so obs-text in a quoted-string parses (which
    /// `HeaderValue::to_str` would refuse).
    pub fn parse_headers(headers: &http::HeaderMap) -> Result<Vec<Challenge>, ChallengeError> {
        let mut out = Vec::new();
        for v in headers.get_all(http::header::WWW_AUTHENTICATE) {
            out.extend(Self::parse_list_bytes(v.as_bytes())?);
        }
        Ok(out)
    }

    fn from_element(e: syntax::Element) -> Self {
        Self {
            params: e
                .params
                .into_iter()
                .map(|(name, value)| {
                    let quoted = name.eq_ignore_ascii_case("realm");
                    Param {
                        name,
                        value,
                        quoted,
                    }
                })
                .collect(),
            scheme: e.scheme,
            token68: e.token68,
        }
    }
}

/// The challenge in `WWW-Authenticate` syntax. Exact for every challenge
/// we build and every parsed one whose values are UTF-8; a parsed value
/// with other obs-text shows U+FFFD ([`Challenge::to_header_value`] keeps
/// its octets).
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.render()))
    }
}

/// The `error` codes of RFC 6750 §3.1 and RFC 9470 §3.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BearerError {
    /// Malformed request or header.
    InvalidRequest,
    /// The token is expired, revoked, malformed or otherwise invalid.
    InvalidToken,
    /// The token lacks a scope the request needs (sent with 403).
    InsufficientScope,
    /// Stronger or fresher user authentication is needed (RFC 9470).
    InsufficientUserAuthentication,
}

impl BearerError {
    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InsufficientUserAuthentication => "insufficient_user_authentication",
        }
    }

    /// The error a Bearer challenge carries for a denial reason, or `None`
    /// when the reason names no bearer error (no token was presented, or the
    /// scheme was not accepted: RFC 6750 §3.1).
    pub const fn for_reason(reason: Reason) -> Option<Self> {
        match reason {
            Reason::Authn(r) => match r {
                AuthnReason::MissingCredentials | AuthnReason::UnsupportedScheme => None,
                AuthnReason::MalformedCredentials => Some(Self::InvalidRequest),
                AuthnReason::MfaRequired => Some(Self::InsufficientUserAuthentication),
                _ => Some(Self::InvalidToken),
            },
            Reason::Forbidden(ForbiddenReason::InsufficientScope) => Some(Self::InsufficientScope),
            Reason::Forbidden(_) => None,
        }
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builder for a Bearer challenge. Values are checked against RFC 6750 §3
/// in [`build`](Self::build).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct BearerChallenge {
    realm: Option<String>,
    error: Option<BearerError>,
    error_description: Option<String>,
    error_uri: Option<String>,
    scope: Option<String>,
    acr_values: Option<String>,
    max_age: Option<u64>,
    resource_metadata: Option<String>,
}

/// `%x20-21 / %x23-5B / %x5D-7E`: what RFC 6750 allows in
/// `error_description` (no `"` and no `\`).
fn is_nqschar(b: u8) -> bool {
    matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// `%x21 / %x23-5B / %x5D-7E`: RFC 6750's NQCHAR (scope tokens, URIs).
fn is_nqchar(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// One or more NQCHAR words separated by single spaces (`scope`,
/// `acr_values`).
fn is_nqchar_list(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ')
            .all(|t| !t.is_empty() && t.bytes().all(is_nqchar))
}

impl BearerChallenge {
    /// The protection space.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// The error code.
    pub fn error(mut self, error: BearerError) -> Self {
        self.error = Some(error);
        self
    }

    /// Sets the error code when `Some`.
    pub fn maybe_error(mut self, error: Option<BearerError>) -> Self {
        self.error = error;
        self
    }

    /// A human-readable explanation (NQSCHAR only).
    pub fn error_description(mut self, text: impl Into<String>) -> Self {
        self.error_description = Some(text.into());
        self
    }

    /// A URI of a page explaining the error.
    pub fn error_uri(mut self, uri: impl Into<String>) -> Self {
        self.error_uri = Some(uri.into());
        self
    }

    /// The scope needed, as space-separated scope tokens.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// RFC 9470 acceptable authentication context classes, space-separated.
    pub fn acr_values(mut self, values: impl Into<String>) -> Self {
        self.acr_values = Some(values.into());
        self
    }

    /// RFC 9470 maximum age of the authentication, in seconds.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age.as_secs());
        self
    }

    /// RFC 9728 protected-resource metadata URL.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// Sets what `ctx` says about the denial: `error` and
    /// `error_description` when the context names an error
    /// ([`ChallengeContext::error`]), `scope`, and the step-up's
    /// `acr_values` and `max_age`. `None` leaves the builder as it is.
    ///
    /// A `scope` or `acr_values` that RFC 6750 would refuse (a `"` in an
    /// `acr` value, say) is left out rather than failing
    /// [`build`](Self::build), so the step-up 401 keeps its `error`.
    pub fn context(mut self, ctx: Option<&ChallengeContext<'_>>) -> Self {
        let Some(ctx) = ctx else { return self };
        if let Some(error) = ctx.error() {
            self = self.error(error).error_description(ctx.description);
        }
        if let Some(scope) = ctx.scope.filter(|s| is_nqchar_list(s)) {
            self = self.scope(scope);
        }
        if let Some(acr) = ctx.acr_values().filter(|a| is_nqchar_list(a)) {
            self = self.acr_values(acr);
        }
        if let Some(max_age) = ctx.step_up.and_then(StepUp::max_age_limit) {
            self = self.max_age(max_age);
        }
        self
    }

    /// Validates every value and builds the challenge.
    pub fn build(self) -> Result<Challenge, ChallengeError> {
        let mut c = Challenge::new("Bearer")?;
        if let Some(realm) = &self.realm {
            c = c.quoted_param("realm", realm)?;
        }
        if let Some(error) = self.error {
            c = c.quoted_param("error", error.as_str())?;
        }
        if let Some(d) = &self.error_description {
            if !d.bytes().all(is_nqschar) {
                return Err(ChallengeError::InvalidBearerValue("error_description"));
            }
            c = c.quoted_param("error_description", d)?;
        }
        if let Some(u) = &self.error_uri {
            if u.is_empty() || !u.bytes().all(is_nqchar) {
                return Err(ChallengeError::InvalidBearerValue("error_uri"));
            }
            c = c.quoted_param("error_uri", u)?;
        }
        if let Some(s) = &self.scope {
            if !is_nqchar_list(s) {
                return Err(ChallengeError::InvalidBearerValue("scope"));
            }
            c = c.quoted_param("scope", s)?;
        }
        if let Some(a) = &self.acr_values {
            if !is_nqchar_list(a) {
                return Err(ChallengeError::InvalidBearerValue("acr_values"));
            }
            c = c.quoted_param("acr_values", a)?;
        }
        if let Some(m) = self.max_age {
            c = c.quoted_param("max_age", &m.to_string())?;
        }
        if let Some(u) = &self.resource_metadata {
            if u.is_empty() || !u.bytes().all(is_nqchar) {
                return Err(ChallengeError::InvalidBearerValue("resource_metadata"));
            }
            c = c.quoted_param("resource_metadata", u)?;
        }
        Ok(c)
    }
}

/// A challenge written in the source: a scheme and parameters, all
/// `&'static str`, checked by a `const fn` so that it can be checked at
/// compile time. Make one with [`static_challenge!`](crate::static_challenge)
/// (a compile error when a value could not be sent), or with
/// [`StaticChallenge::new`] in a `const` of your own; turn it into a
/// [`Challenge`] with [`Challenge::from_static`], which cannot fail.
///
/// The checks are those of [`Challenge::new`] and [`Challenge::param`]: the
/// scheme and every parameter name are tokens, no name occurs twice
/// (case-insensitively), and every value is HTAB, SP or visible ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StaticChallenge {
    scheme: &'static str,
    params: &'static [(&'static str, &'static str)],
}

/// Why a [`StaticChallenge`] could not be made; the index is the offending
/// parameter's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum StaticChallengeError {
    /// The scheme is not a token.
    #[error("the auth-scheme is not a token")]
    InvalidScheme,
    /// A parameter name is not a token.
    #[error("the name of auth-param {0} is not a token")]
    InvalidParamName(usize),
    /// A parameter name occurs twice (names are case-insensitive).
    #[error("auth-param {0} repeats an earlier name")]
    DuplicateParam(usize),
    /// A value holds characters that cannot be sent (controls, non-ASCII).
    #[error("the value of auth-param {0} cannot be sent in a header")]
    InvalidValue(usize),
}

impl StaticChallengeError {
    /// A fixed message, for a `const` panic (the compile error of
    /// [`static_challenge!`](crate::static_challenge)).
    pub const fn message(self) -> &'static str {
        match self {
            Self::InvalidScheme => "static challenge: the auth-scheme is not a token",
            Self::InvalidParamName(_) => "static challenge: an auth-param name is not a token",
            Self::DuplicateParam(_) => "static challenge: an auth-param name occurs twice",
            Self::InvalidValue(_) => {
                "static challenge: an auth-param value holds characters that cannot be sent"
            }
        }
    }
}

impl StaticChallenge {
    /// Checks `scheme` and `params`. A `const fn`: in a `const` it runs at
    /// compile time. It never panics, at compile time or at run time.
    pub const fn new(
        scheme: &'static str,
        params: &'static [(&'static str, &'static str)],
    ) -> Result<Self, StaticChallengeError> {
        if !const_is_token(scheme.as_bytes()) {
            return Err(StaticChallengeError::InvalidScheme);
        }
        let mut rest = params;
        let mut i = 0;
        while let [(name, value), tail @ ..] = rest {
            if !const_is_token(name.as_bytes()) {
                return Err(StaticChallengeError::InvalidParamName(i));
            }
            if !const_is_quotable(value.as_bytes()) {
                return Err(StaticChallengeError::InvalidValue(i));
            }
            let mut later = tail;
            while let [(other, _), more @ ..] = later {
                if const_eq_ignore_case(name.as_bytes(), other.as_bytes()) {
                    // Name the second occurrence.
                    return Err(StaticChallengeError::DuplicateParam(
                        i + tail.len() - more.len(),
                    ));
                }
                later = more;
            }
            rest = tail;
            i += 1;
        }
        Ok(Self { scheme, params })
    }

    /// The auth-scheme.
    pub const fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The parameters, as `(name, value)`.
    pub const fn params(&self) -> &'static [(&'static str, &'static str)] {
        self.params
    }
}

impl From<StaticChallenge> for Challenge {
    fn from(c: StaticChallenge) -> Self {
        Self::from_static(c)
    }
}

/// A non-empty `token`, in a `const fn`.
const fn const_is_token(mut b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    while let [c, rest @ ..] = b {
        if !syntax::is_tchar(*c) {
            return false;
        }
        b = rest;
    }
    true
}

/// HTAB, SP and VCHAR only (what [`Challenge::param`] accepts), in a
/// `const fn`.
const fn const_is_quotable(mut b: &[u8]) -> bool {
    while let [c, rest @ ..] = b {
        if !(*c == b'\t' || (*c >= b' ' && *c <= b'~')) {
            return false;
        }
        b = rest;
    }
    true
}

/// ASCII case-insensitive equality, in a `const fn`.
const fn const_eq_ignore_case(mut a: &[u8], mut b: &[u8]) -> bool {
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, ra @ ..], [y, rb @ ..]) if x.eq_ignore_ascii_case(y) => {
                a = ra;
                b = rb;
            }
            _ => return false,
        }
    }
}

/// A [`StaticChallenge`] checked at compile time: a scheme and parameters
/// that could not be sent are a compile error, never a broken header and
/// never a panic at run time.
///
/// ```
/// use bouncer_core::challenge::{Challenge, StaticChallenge};
/// use bouncer_core::static_challenge;
///
/// const API_KEY: StaticChallenge = static_challenge!("ApiKey", &[("realm", "api"), ("header", "X-API-Key")]);
/// assert_eq!(Challenge::from_static(API_KEY).to_string(), r#"ApiKey realm="api", header=X-API-Key"#);
/// assert_eq!(Challenge::from(static_challenge!("Negotiate")).to_string(), "Negotiate");
/// ```
///
/// ```compile_fail
/// // A space in the scheme: does not compile.
/// const BAD: bouncer_core::challenge::StaticChallenge =
///     bouncer_core::static_challenge!("Api Key", &[("realm", "api")]);
/// ```
///
/// ```compile_fail
/// // A line break in a value: does not compile.
/// const BAD: bouncer_core::challenge::StaticChallenge =
///     bouncer_core::static_challenge!("ApiKey", &[("realm", "api\r\nSet-Cookie: x")]);
/// ```
#[macro_export]
macro_rules! static_challenge {
    ($scheme:expr $(,)?) => {
        $crate::static_challenge!($scheme, &[])
    };
    ($scheme:expr, $params:expr $(,)?) => {{
        // Evaluated by the compiler: an invalid challenge fails the build.
        #[allow(clippy::panic)]
        const CHECKED: $crate::challenge::StaticChallenge =
            match $crate::challenge::StaticChallenge::new($scheme, $params) {
                ::core::result::Result::Ok(c) => c,
                ::core::result::Result::Err(e) => ::core::panic!("{}", e.message()),
            };
        CHECKED
    }};
}

/// Renders several challenges on one field line, comma-separated. Prefer
/// one field line per challenge for interoperability (RFC 9110 §11.6.1);
/// this is for logs and tests. Text, as [`Challenge`]'s `Display`.
pub fn render_list(challenges: &[Challenge]) -> String {
    challenges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9110_multi_challenge_example_renders_and_parses() {
        let wire =
            r#"Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"""#;
        let basic = Challenge::new("Basic")
            .unwrap()
            .param("realm", "simple")
            .unwrap();
        let newauth = Challenge::new("Newauth")
            .unwrap()
            .param("realm", "apps")
            .unwrap()
            .param("type", "1")
            .unwrap()
            .param("title", r#"Login to "apps""#)
            .unwrap();
        assert_eq!(render_list(&[basic.clone(), newauth.clone()]), wire);
        let parsed = Challenge::parse_list(wire).unwrap();
        assert_eq!(parsed, vec![basic.clone(), newauth.clone()]);
        assert_eq!(parsed[1].get("title"), Some(r#"Login to "apps""#));
        // RFC 7235's order parses to the same two challenges, reversed.
        let old =
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#;
        assert_eq!(Challenge::parse_list(old).unwrap(), vec![newauth, basic]);
    }

    #[test]
    fn rfc6750_examples_render_exactly() {
        let c = Challenge::bearer().realm("example").build().unwrap();
        assert_eq!(c.to_string(), r#"Bearer realm="example""#);
        let c = Challenge::bearer()
            .realm("example")
            .error(BearerError::InvalidToken)
            .error_description("The access token expired")
            .build()
            .unwrap();
        assert_eq!(
            c.to_string(),
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#
        );
        assert_eq!(Challenge::parse_list(&c.to_string()).unwrap(), vec![c]);
    }

    #[test]
    fn rfc9470_step_up_challenge() {
        let c = Challenge::bearer()
            .error(BearerError::InsufficientUserAuthentication)
            .error_description("A different authentication level is required")
            .acr_values("myACR")
            .build()
            .unwrap();
        assert_eq!(
            c.to_string(),
            r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR""#
        );
        let c = Challenge::bearer()
            .error(BearerError::InsufficientUserAuthentication)
            .max_age(Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(c.get("max_age"), Some("5"));
        assert!(c.to_string().contains(r#"max_age="5""#));
    }

    #[test]
    fn basic_carries_charset() {
        let c = Challenge::basic("api").unwrap();
        assert_eq!(c.to_string(), r#"Basic realm="api", charset="UTF-8""#);
    }

    #[test]
    fn bearer_values_are_checked() {
        assert!(Challenge::bearer()
            .error_description("say \"hi\"")
            .build()
            .is_err());
        assert!(Challenge::bearer()
            .error_description("back\\slash")
            .build()
            .is_err());
        assert!(Challenge::bearer().scope("a  b").build().is_err());
        assert!(Challenge::bearer().scope("").build().is_err());
        assert!(Challenge::bearer().realm("line\nbreak").build().is_err());
        assert!(Challenge::bearer()
            .scope("documents:read documents:write")
            .build()
            .is_ok());
    }

    #[test]
    fn construction_rejects_bad_names_and_duplicates() {
        assert!(Challenge::new("Bad Scheme").is_err());
        assert!(Challenge::new("").is_err());
        let c = Challenge::new("X").unwrap().param("a", "1").unwrap();
        assert!(c.clone().param("A", "2").is_err());
        assert!(c.param("b c", "2").is_err());
    }

    #[test]
    fn empty_and_escaped_values_round_trip() {
        let c = Challenge::new("X")
            .unwrap()
            .param("realm", "")
            .unwrap()
            .param("p", r#"a,b "q" \ z"#)
            .unwrap();
        let s = c.to_string();
        assert_eq!(s, r#"X realm="", p="a,b \"q\" \\ z""#);
        assert_eq!(Challenge::parse_list(&s).unwrap(), vec![c]);
    }

    #[test]
    fn parse_tolerates_empty_elements_and_case() {
        let parsed =
            Challenge::parse_list(r#" , bearer Realm="a" , , Basic realm="b",charset="UTF-8""#)
                .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].get("realm"), Some("a"));
        assert_eq!(parsed[1].get("charset"), Some("UTF-8"));
    }

    #[test]
    fn empty_element_between_scheme_and_first_param() {
        let basic = Challenge::new("Basic")
            .unwrap()
            .param("realm", "foo")
            .unwrap();
        assert_eq!(
            Challenge::parse_list(r#"Basic , realm="foo""#).unwrap(),
            vec![basic.clone()]
        );
        let bearer = Challenge::bearer()
            .error(BearerError::InvalidToken)
            .build()
            .unwrap();
        assert_eq!(
            Challenge::parse_list(r#"Bearer , error="invalid_token""#).unwrap(),
            vec![bearer.clone()]
        );
        assert_eq!(
            Challenge::parse_list(
                r#", , Basic  ,realm="foo" , , Bearer ,, error="invalid_token" ,"#
            )
            .unwrap(),
            vec![basic, bearer]
        );
        // Without SP after the scheme the comma ends the challenge, and
        // `realm="foo"` is no challenge.
        assert!(Challenge::parse_list(r#"Basic, realm="foo""#).is_err());
    }

    #[test]
    fn obs_text_realm_from_a_header_map() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_bytes(b"Basic realm=\"foo-\xe4\", charset=\"UTF-8\"").unwrap(),
        );
        h.append(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_bytes("Bearer realm=\"f\u{f6}\u{f6}\"".as_bytes()).unwrap(),
        );
        let parsed = Challenge::parse_headers(&h).unwrap();
        assert_eq!(parsed[0].get_bytes("realm"), Some(&b"foo-\xe4"[..]));
        assert_eq!(parsed[0].get("realm"), Some("foo-\u{fffd}"));
        assert_eq!(parsed[1].get("realm"), Some("f\u{f6}\u{f6}"));
        // Re-sent octet for octet; the text form is lossy only where the
        // octets are not UTF-8.
        assert_eq!(
            parsed[0].to_header_value().as_bytes(),
            b"Basic realm=\"foo-\xe4\", charset=UTF-8"
        );
        assert_eq!(
            parsed[0].to_string(),
            "Basic realm=\"foo-\u{fffd}\", charset=UTF-8"
        );
        assert_eq!(parsed[1].to_string(), "Bearer realm=\"f\u{f6}\u{f6}\"");
        // A different octet is a different value.
        let other =
            Challenge::parse_list_bytes(b"Basic realm=\"foo-\xf6\", charset=UTF-8").unwrap();
        assert_eq!(other[0].get("realm"), parsed[0].get("realm"));
        assert_ne!(other[0], parsed[0]);
        // Builders still send ASCII only.
        assert!(Challenge::basic("f\u{f6}\u{f6}").is_err());
    }

    #[test]
    fn token68_challenge() {
        let c = Challenge::new("Negotiate")
            .unwrap()
            .with_token68("abc+/==")
            .unwrap();
        assert_eq!(c.to_string(), "Negotiate abc+/==");
        assert_eq!(
            Challenge::parse_list("Negotiate abc+/==, Basic realm=\"x\"").unwrap()[0],
            c
        );
    }

    const API_KEY: StaticChallenge = crate::static_challenge!(
        "ApiKey",
        &[
            ("realm", "api"),
            ("header", "X-API-Key"),
            ("hint", "see docs")
        ]
    );

    #[test]
    fn a_static_challenge_renders_like_the_builder() {
        let built = Challenge::new("ApiKey")
            .and_then(|c| c.param("realm", "api"))
            .and_then(|c| c.param("header", "X-API-Key"))
            .and_then(|c| c.param("hint", "see docs"))
            .unwrap();
        let c = Challenge::from_static(API_KEY);
        assert_eq!(c, built);
        assert_eq!(c.to_string(), built.to_string());
        assert_eq!(
            c.to_string(),
            r#"ApiKey realm="api", header=X-API-Key, hint="see docs""#
        );
        assert_eq!(Challenge::parse_list(&c.to_string()).unwrap(), vec![c]);
        assert_eq!(API_KEY.scheme(), "ApiKey");
        assert_eq!(API_KEY.params().len(), 3);
    }

    #[test]
    fn static_challenge_errors_name_the_parameter_and_never_panic() {
        use StaticChallengeError as E;
        let new = StaticChallenge::new;
        assert_eq!(new("", &[]), Err(E::InvalidScheme));
        assert_eq!(new("Api Key", &[]), Err(E::InvalidScheme));
        assert_eq!(
            new("K", &[("a", "1"), ("b c", "2")]),
            Err(E::InvalidParamName(1))
        );
        assert_eq!(new("K", &[("", "1")]), Err(E::InvalidParamName(0)));
        assert_eq!(
            new("K", &[("a", "1"), ("b", "2"), ("A", "3")]),
            Err(E::DuplicateParam(2))
        );
        assert_eq!(
            new("K", &[("a", "1"), ("b", "x\r\ny")]),
            Err(E::InvalidValue(1))
        );
        assert_eq!(new("K", &[("a", "caf\u{e9}")]), Err(E::InvalidValue(0)));
        assert!(new("K", &[("a", ""), ("b", "tab\there")]).is_ok());
        assert!(E::DuplicateParam(2)
            .message()
            .starts_with("static challenge:"));
    }

    proptest::proptest! {
        /// The `const` checks accept exactly what the run-time builder does.
        #[test]
        fn static_checks_agree_with_the_builder(
            scheme in "[ -~\t\r\n\u{e9}]{0,6}",
            params in proptest::collection::vec(("[a-cA-C \\-]{0,3}", "[ -~\t\n\u{e9}]{0,4}"), 0..4),
        ) {
            let mut built = Challenge::new(&scheme);
            for (n, v) in &params {
                built = built.and_then(|c| c.param(n, v));
            }
            let scheme: &'static str = Box::leak(scheme.into_boxed_str());
            let params: &'static [(&'static str, &'static str)] = Box::leak(
                params
                    .into_iter()
                    .map(|(n, v)| -> (&'static str, &'static str) {
                        (Box::leak(n.into_boxed_str()), Box::leak(v.into_boxed_str()))
                    })
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            );
            let checked = StaticChallenge::new(scheme, params);
            proptest::prop_assert_eq!(checked.is_ok(), built.is_ok(), "{:?} {:?}", checked, built);
            if let (Ok(s), Ok(b)) = (checked, built) {
                proptest::prop_assert_eq!(Challenge::from_static(s).to_header_value(), b.to_header_value());
            }
        }
    }

    fn ctx(reason: Reason) -> ChallengeContext<'static> {
        ChallengeContext::new(reason, "what failed")
    }

    #[test]
    fn with_context_renders_the_error_and_the_step_up() {
        let plain = || Challenge::from_static(API_KEY);
        assert_eq!(plain().with_context(None), plain());
        // No credentials of the scheme: no error (RFC 6750 §3.1).
        let missing = ctx(Reason::Authn(AuthnReason::MissingCredentials));
        assert_eq!(plain().with_context(Some(&missing)), plain());
        let bad = ctx(Reason::Authn(AuthnReason::InvalidCredentials));
        let c = plain().with_context(Some(&bad));
        assert_eq!(c.get("error"), Some("invalid_token"));
        assert_eq!(c.get("error_description"), Some("what failed"));
        let malformed = ctx(Reason::Authn(AuthnReason::MalformedCredentials));
        let c = plain().with_context(Some(&malformed));
        assert_eq!(c.get("error"), Some("invalid_request"));

        let step_up = StepUp::new()
            .acr(["urn:a", "urn:b"])
            .max_age(Duration::from_secs(60));
        let mfa = ctx(Reason::Authn(AuthnReason::MfaRequired)).with_step_up(&step_up);
        assert_eq!(
            plain().with_context(Some(&mfa)).to_string(),
            r#"ApiKey realm="api", header=X-API-Key, hint="see docs", error="insufficient_user_authentication", error_description="what failed", acr_values="urn:a urn:b", max_age="60""#
        );
        let scope =
            ctx(Reason::Forbidden(ForbiddenReason::InsufficientScope)).with_scope("doc:write");
        let c = plain().with_context(Some(&scope));
        assert_eq!(c.get("error"), Some("insufficient_scope"));
        assert_eq!(c.get("scope"), Some("doc:write"));
    }

    #[test]
    fn with_context_leaves_out_what_cannot_be_sent_and_keeps_the_challenge() {
        // An acr value that cannot be sent is left out, the rest stays.
        let step_up = StepUp::new()
            .acr(["urn:a\nX: y"])
            .max_age(Duration::from_secs(5));
        let mfa = ctx(Reason::Authn(AuthnReason::MfaRequired)).with_step_up(&step_up);
        let c = Challenge::from_static(API_KEY).with_context(Some(&mfa));
        assert_eq!(c.get("acr_values"), None);
        assert_eq!(c.get("max_age"), Some("5"));
        assert_eq!(c.get("error"), Some("insufficient_user_authentication"));
        // A parameter the scheme already sends is not doubled.
        const OWN: StaticChallenge = crate::static_challenge!("K", &[("error", "custom")]);
        let bad = ctx(Reason::Authn(AuthnReason::InvalidCredentials));
        let c = Challenge::from_static(OWN).with_context(Some(&bad));
        assert_eq!(c.get("error"), Some("custom"));
        assert_eq!(c.get("error_description"), Some("what failed"));
        // A token68 challenge takes no parameters: unchanged.
        let t = Challenge::new("Negotiate")
            .unwrap()
            .with_token68("abc=")
            .unwrap();
        assert_eq!(t.clone().with_context(Some(&bad)), t);
    }

    #[test]
    fn bearer_context_sets_the_rfc6750_and_rfc9470_parameters() {
        let step_up = StepUp::new().amr(["mfa"]).max_age(Duration::from_secs(300));
        let mfa = ctx(Reason::Authn(AuthnReason::MfaRequired)).with_step_up(&step_up);
        let c = Challenge::bearer()
            .realm("r")
            .context(Some(&mfa))
            .build()
            .unwrap();
        // amr alone names no acr_values.
        assert_eq!(
            c.to_string(),
            r#"Bearer realm="r", error="insufficient_user_authentication", error_description="what failed", max_age="300""#
        );
        let c = Challenge::bearer()
            .realm("r")
            .context(None)
            .build()
            .unwrap();
        assert_eq!(c.to_string(), r#"Bearer realm="r""#);
        // An acr value RFC 6750 refuses is left out; the error stays.
        let quoted = StepUp::new().acr([r#"urn:"x""#]);
        let mfa = ctx(Reason::Authn(AuthnReason::MfaRequired)).with_step_up(&quoted);
        let c = Challenge::bearer()
            .realm("r")
            .context(Some(&mfa))
            .build()
            .unwrap();
        assert_eq!(c.get("error"), Some("insufficient_user_authentication"));
        assert_eq!(c.get("acr_values"), None);
        let unsupported = ctx(Reason::Authn(AuthnReason::UnsupportedScheme));
        let c = Challenge::bearer()
            .realm("r")
            .context(Some(&unsupported))
            .build()
            .unwrap();
        assert_eq!(c.to_string(), r#"Bearer realm="r""#);
    }
}
