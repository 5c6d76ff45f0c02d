//! The `Authorization` request header (RFC 9110 §11.6.2):
//! `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
//!
//! The parser is bounded ([`MAX_AUTHORIZATION_LEN`]), treats the scheme
//! case-insensitively, refuses more than one `Authorization` field, and
//! never panics on any bytes. It reads the field's octets: obs-text
//! (%x80-FF) in a quoted auth-param value is opaque data (RFC 9110 §5.5),
//! read with [`Credentials::param_bytes`]; empty elements of the auth-param
//! list are skipped (`Digest , username="a"`, §5.6.1.2).
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

use crate::syntax::{self, Cursor, ParamValue, SyntaxError};

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
    /// Not `credentials` syntax.
    #[error("malformed Authorization value: {0}")]
    Syntax(#[from] SyntaxError),
}

/// Parsed credentials: a scheme with a token68 or auth-params. `Debug`
/// redacts the token and the parameter values. Equality compares values
/// octet by octet.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    scheme: String,
    token68: Option<String>,
    params: Vec<(String, ParamValue)>,
}

impl Credentials {
    /// Parses one `Authorization` value. Non-ASCII characters are obs-text:
    /// legal inside quoted-strings (as their UTF-8 octets), nowhere else.
    pub fn parse(value: &str) -> Result<Self, AuthorizationError> {
        Self::parse_bounded(value, MAX_AUTHORIZATION_LEN)
    }

    /// Parses one value with an explicit length bound.
    pub fn parse_bounded(value: &str, max_len: usize) -> Result<Self, AuthorizationError> {
        Self::parse_bytes_bounded(value.as_bytes(), max_len)
    }

    /// Parses one value given as octets, the form it has on the wire
    /// (`HeaderValue::as_bytes`).
    pub fn parse_bytes(value: &[u8]) -> Result<Self, AuthorizationError> {
        Self::parse_bytes_bounded(value, MAX_AUTHORIZATION_LEN)
    }

    /// Parses octets with an explicit length bound.
    pub fn parse_bytes_bounded(value: &[u8], max_len: usize) -> Result<Self, AuthorizationError> {
        if value.len() > max_len {
            return Err(AuthorizationError::TooLong(max_len));
        }
        let mut cursor = Cursor::new(syntax::trim_ows(value));
        let e = cursor.element(false)?;
        // `element(false)` only succeeds at the end; credentials are one
        // element, never a list, so nothing may follow.
        if !cursor.at_end() {
            return Err(SyntaxError::Unexpected(value.len()).into());
        }
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
        Self::parse_bytes(first.as_bytes()).map(Some)
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

    /// A parameter's value as text, by case-insensitive name: exact when
    /// its octets are UTF-8 (always for ASCII), with U+FFFD for invalid
    /// sequences otherwise. Compare secrets and identifiers with
    /// [`param_bytes`](Self::param_bytes), which cannot conflate two values.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.find(name).map(ParamValue::text)
    }

    /// A parameter's value as the octets received, by case-insensitive
    /// name (obs-text is opaque data, RFC 9110 §5.5).
    pub fn param_bytes(&self, name: &str) -> Option<&[u8]> {
        self.find(name).map(ParamValue::octets)
    }

    fn find(&self, name: &str) -> Option<&ParamValue> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
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
/// `None` when absent or not even a token. Reads octets, so obs-text later
/// in the value does not hide the scheme.
pub fn scheme_of(headers: &HeaderMap) -> Option<&str> {
    let v = syntax::trim_ows(headers.get(AUTHORIZATION)?.as_bytes());
    let end = v
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(v.len());
    let scheme = std::str::from_utf8(v.get(..end)?).ok()?;
    syntax::is_token(scheme).then_some(scheme)
}

/// Whether the first `Authorization` field uses `scheme`
/// (case-insensitively): what an authenticator's `recognizes` asks.
pub fn has_scheme(headers: &HeaderMap, scheme: &str) -> bool {
    // Asked of every request: compare bytes in place. The same answer as
    // `scheme_of(..) == scheme` for a `scheme` that is a token.
    let Some(value) = headers.get(AUTHORIZATION) else {
        return false;
    };
    let v = syntax::trim_ows(value.as_bytes());
    let n = scheme.len();
    v.get(..n)
        .is_some_and(|head| head.eq_ignore_ascii_case(scheme.as_bytes()))
        && matches!(v.get(n), None | Some(b' ' | b'\t'))
        && syntax::is_token(scheme)
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
            "Bearer,",
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
    fn has_scheme_answers_as_scheme_of_does() {
        let values: &[&[u8]] = &[
            b"Bearer abc",
            b"bearer abc",
            b"BEARER\tabc",
            b"  Bearer abc",
            b"Bearer",
            b"Bearerx abc",
            b"Beare abc",
            b"Bear\xe4r abc",
            b"Basic QWxh",
            b"",
            b" ",
            b"Bearer,abc",
            b"B\xe4sic x",
        ];
        for v in values {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
            for scheme in ["bearer", "Bearer", "basic", "bear"] {
                let reference = scheme_of(&h).is_some_and(|s| s.eq_ignore_ascii_case(scheme));
                assert_eq!(
                    has_scheme(&h, scheme),
                    reference,
                    "{:?} / {scheme}",
                    String::from_utf8_lossy(v)
                );
            }
        }
        assert!(!has_scheme(&HeaderMap::new(), "bearer"));
    }

    #[test]
    fn scheme_of_reads_only_the_scheme() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("  BEARER x y z"));
        assert_eq!(scheme_of(&h), Some("BEARER"));
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Digest username=\"J\xe4ger\"").unwrap(),
        );
        assert_eq!(scheme_of(&h), Some("Digest"));
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"B\xe4sic x").unwrap(),
        );
        assert_eq!(scheme_of(&h), None);
    }

    #[test]
    fn obs_text_in_quoted_values_is_opaque_data() {
        let mut h = HeaderMap::new();
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Digest username=\"J\xe4ger\", realm=\"r\"").unwrap(),
        );
        let c = Credentials::from_headers(&h).unwrap().unwrap();
        assert_eq!(c.param_bytes("username"), Some(&b"J\xe4ger"[..]));
        assert_eq!(c.param("username"), Some("J\u{fffd}ger"));
        assert_eq!(c.param("realm"), Some("r"));
        let c = Credentials::parse("Digest username=\"Jäger\"").unwrap();
        assert_eq!(c.param("username"), Some("Jäger"));
        // Two different octet strings never compare equal through their text.
        let a = Credentials::parse_bytes(b"X p=\"\xe4\"").unwrap();
        let b = Credentials::parse_bytes(b"X p=\"\xf6\"").unwrap();
        assert_eq!(a.param("p"), b.param("p"));
        assert_ne!(a, b);
        // Outside a quoted-string, obs-text is not credentials syntax.
        assert!(Credentials::parse_bytes(b"Bearer \xe4bc").is_err());
    }

    #[test]
    fn empty_auth_param_elements_are_skipped() {
        let c = Credentials::parse(r#"Digest , username="a", ,realm="b" ,"#).unwrap();
        assert_eq!(
            (c.param("username"), c.param("realm")),
            (Some("a"), Some("b"))
        );
        // No SP after the scheme: not credentials.
        assert!(Credentials::parse("Bearer,").is_err());
        assert!(Credentials::parse("Bearer, abc").is_err());
    }
}
