//! The `Authorization` request header (RFC 9110 §11.6.2):
//! `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
//!
//! The parser is bounded ([`MAX_AUTHORIZATION_LEN`]), treats the scheme
//! case-insensitively, refuses more than one `Authorization` field, and
//! never panics on any bytes.
//!
//! ```
//! use bouncer_core::authorization::Credentials;
//!
//! let c = Credentials::parse("bearer mF_9.B5f-4.1JqM")?;
//! assert!(c.is_scheme("Bearer"));
//! assert_eq!(c.token68(), Some("mF_9.B5f-4.1JqM"));
//! # Ok::<(), bouncer_core::authorization::AuthorizationError>(())
//! ```

use std::fmt;

use http::header::AUTHORIZATION;
use http::HeaderMap;

use crate::syntax::{Cursor, SyntaxError};

/// The longest `Authorization` value accepted, in bytes. Large enough for
/// JWTs with many claims; anything longer is malformed.
pub const MAX_AUTHORIZATION_LEN: usize = 16 * 1024;

/// Why an `Authorization` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// More than one `Authorization` field line.
    #[error("more than one Authorization field")]
    Multiple,
    /// Longer than the configured bound.
    #[error("the Authorization value is longer than {0} bytes")]
    TooLong(usize),
    /// Bytes outside visible ASCII, SP and HTAB.
    #[error("the Authorization value is not visible ASCII")]
    NotAscii,
    /// Not `credentials` syntax.
    #[error("malformed Authorization value: {0}")]
    Syntax(#[from] SyntaxError),
}

/// Parsed credentials: a scheme with a token68 or auth-params. `Debug`
/// redacts the token and the parameter values.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    scheme: String,
    token68: Option<String>,
    params: Vec<(String, String)>,
}

impl Credentials {
    /// Parses one `Authorization` value.
    pub fn parse(value: &str) -> Result<Self, AuthorizationError> {
        Self::parse_bounded(value, MAX_AUTHORIZATION_LEN)
    }

    /// Parses one value with an explicit length bound.
    pub fn parse_bounded(value: &str, max_len: usize) -> Result<Self, AuthorizationError> {
        if value.len() > max_len {
            return Err(AuthorizationError::TooLong(max_len));
        }
        let trimmed = value.trim_matches(|c| c == ' ' || c == '\t');
        let mut cursor = Cursor::new(trimmed);
        let e = cursor.element(false)?;
        Ok(Self {
            scheme: e.scheme,
            token68: e.token68,
            params: e.params,
        })
    }

    /// Reads the single `Authorization` field of a request. `Ok(None)` when
    /// there is none.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, AuthorizationError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(AuthorizationError::Multiple);
        }
        if first.len() > MAX_AUTHORIZATION_LEN {
            return Err(AuthorizationError::TooLong(MAX_AUTHORIZATION_LEN));
        }
        let s = first.to_str().map_err(|_| AuthorizationError::NotAscii)?;
        Self::parse(s).map(Some)
    }

    /// The scheme as sent.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Case-insensitive scheme comparison (RFC 9110 §11.1).
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The token68, if present.
    pub fn token68(&self) -> Option<&str> {
        self.token68.as_deref()
    }

    /// A parameter by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the credentials carry nothing after the scheme.
    pub fn is_empty(&self) -> bool {
        self.token68.is_none() && self.params.is_empty()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("scheme", &self.scheme)
            .field("token68", &self.token68.as_ref().map(|_| "<redacted>"))
            .field(
                "params",
                &self
                    .params
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Whether `s` is a `token68` (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`), the syntax of Basic and Bearer credentials.
pub fn is_token68(s: &str) -> bool {
    crate::syntax::is_token68(s)
}

/// The scheme name of the first `Authorization` field, without parsing the
/// rest: enough to decide which authenticator the credentials are for.
/// `None` when absent or not even a token.
pub fn scheme_of(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let v = v.trim_start_matches([' ', '\t']);
    let end = v.find([' ', '\t']).unwrap_or(v.len());
    let scheme = v.get(..end)?;
    crate::syntax::is_token(scheme).then_some(scheme)
}

/// Whether the first `Authorization` field uses `scheme`
/// (case-insensitively): what an authenticator's `recognizes` asks.
pub fn has_scheme(headers: &HeaderMap, scheme: &str) -> bool {
    scheme_of(headers).is_some_and(|s| s.eq_ignore_ascii_case(scheme))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn parses_token68_and_params() {
        let c = Credentials::parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert!(c.is_scheme("basic"));
        assert_eq!(c.token68(), Some("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
        let c = Credentials::parse(r#"Digest username="a", realm="b""#).unwrap();
        assert_eq!(c.param("USERNAME"), Some("a"));
    }

    #[test]
    fn several_spaces_after_scheme_are_allowed() {
        let c = Credentials::parse("Bearer    abc").unwrap();
        assert_eq!(c.token68(), Some("abc"));
    }

    #[test]
    fn rejects_junk() {
        for s in [
            "",
            "Bearer abc def",
            "Bearer a\"b",
            "Bearer abc,",
            "=abc",
            "Bearer a=b=c",
        ] {
            assert!(Credentials::parse(s).is_err(), "{s:?}");
        }
        assert!(Credentials::parse("Bearer").unwrap().is_empty());
    }

    #[test]
    fn two_fields_are_refused() {
        let mut h = HeaderMap::new();
        h.append(AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        h.append(AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(
            Credentials::from_headers(&h),
            Err(AuthorizationError::Multiple)
        );
    }

    #[test]
    fn length_is_bounded() {
        let long = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN));
        assert!(matches!(
            Credentials::parse(&long),
            Err(AuthorizationError::TooLong(_))
        ));
    }

    #[test]
    fn debug_redacts() {
        let c = Credentials::parse("Bearer s3cr3t").unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn scheme_of_reads_only_the_scheme() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("  BEARER x y z"));
        assert_eq!(scheme_of(&h), Some("BEARER"));
    }
}
