//! RFC 9110 §5.6 and §11 syntax: tokens, token68, quoted strings, and a
//! cursor-based parser for `challenge` / `credentials` lists.
//!
//! The parser works on bytes and never indexes out of bounds; every failure
//! is a [`SyntaxError`].

const TCHAR: u8 = 1;
const TOKEN68: u8 = 2;

/// Character classes, one table lookup per byte (tokens are checked on
/// every request: a bearer token is hundreds of bytes). Built at compile
/// time, where an out-of-range index is a build error, not a panic.
#[allow(clippy::indexing_slicing)]
const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        if matches!(c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
            b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
        {
            t[b] |= TCHAR;
        }
        if matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
        {
            t[b] |= TOKEN68;
        }
        b += 1;
    }
    t
};

/// A byte allowed in a `token` (RFC 9110 §5.6.2).
#[allow(clippy::indexing_slicing)] // a u8 always indexes a 256-entry table
pub(crate) const fn is_tchar(b: u8) -> bool {
    CLASSES[b as usize] & TCHAR != 0
}

/// A byte allowed in the body of a `token68` (before the `=` padding).
#[allow(clippy::indexing_slicing)] // a u8 always indexes a 256-entry table
pub(crate) const fn is_token68_char(b: u8) -> bool {
    CLASSES[b as usize] & TOKEN68 != 0
}

/// Whether `s` is a non-empty `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Whether `s` is a `token68`: `1*token68char *"="`.
pub(crate) fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(is_token68_char)
}

/// Whether `s` can be sent inside a quoted-string. We only generate
/// HTAB, SP and VCHAR (no obs-text), so every value is plain ASCII.
pub(crate) fn is_quotable(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Appends `value` as a quoted-string, escaping only `"` and `\`
/// (RFC 9110 §5.6.4: "A sender SHOULD NOT generate a quoted-pair ... except
/// where necessary").
pub(crate) fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// Appends `name=value`, quoting the value when `force_quote` is set or the
/// value is not a token.
pub(crate) fn push_param(out: &mut String, name: &str, value: &str, force_quote: bool) {
    out.push_str(name);
    out.push('=');
    if !force_quote && is_token(value) {
        out.push_str(value);
    } else {
        push_quoted(out, value);
    }
}

/// Why a header value could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// The value is empty or only whitespace where a scheme was expected.
    #[error("expected an auth-scheme")]
    ExpectedScheme,
    /// Something other than a token, token68 or auth-param followed the scheme.
    #[error("unexpected character at byte {0}")]
    Unexpected(usize),
    /// A quoted-string was not closed.
    #[error("unterminated quoted-string")]
    UnterminatedQuote,
    /// A parameter name occurs twice in one challenge.
    #[error("duplicate auth-param name")]
    DuplicateParam,
    /// The value contains bytes outside visible ASCII, SP and HTAB.
    #[error("the value is not visible ASCII")]
    NotAscii,
}

/// One parsed `challenge` or `credentials` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) scheme: String,
    pub(crate) token68: Option<String>,
    pub(crate) params: Vec<(String, String)>,
}

pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Self {
            bytes: s.as_bytes(),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Skips OWS and any number of commas (empty list elements are legal
    /// for recipients, RFC 9110 §5.6.1.2).
    fn skip_list_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        // Only ASCII predicates are used, so the slice is valid UTF-8.
        std::str::from_utf8(self.bytes.get(start..self.pos).unwrap_or_default()).unwrap_or_default()
    }

    fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_tchar);
        (!t.is_empty()).then_some(t)
    }

    fn quoted_string(&mut self) -> Result<String, SyntaxError> {
        // Caller has checked the opening quote.
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(SyntaxError::UnterminatedQuote),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let escaped = self
                        .peek_at(self.pos + 1)
                        .ok_or(SyntaxError::UnterminatedQuote)?;
                    if !(escaped == b'\t' || (b' '..=b'~').contains(&escaped)) {
                        return Err(SyntaxError::NotAscii);
                    }
                    out.push(char::from(escaped));
                    self.pos += 2;
                }
                Some(b) if b == b'\t' || (b' '..=b'~').contains(&b) => {
                    out.push(char::from(b));
                    self.pos += 1;
                }
                Some(_) => return Err(SyntaxError::NotAscii),
            }
        }
    }

    /// True when the cursor is at `token BWS "=" BWS` followed by something
    /// that starts a value (token char or quote): that is an auth-param,
    /// not a token68 with padding and not a new scheme.
    fn at_auth_param(&self) -> bool {
        let mut i = self.pos;
        let start = i;
        while self.peek_at(i).is_some_and(is_tchar) {
            i += 1;
        }
        if i == start {
            return false;
        }
        while matches!(self.peek_at(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if self.peek_at(i) != Some(b'=') {
            return false;
        }
        i += 1;
        while matches!(self.peek_at(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        matches!(self.peek_at(i), Some(b'"')) || self.peek_at(i).is_some_and(is_tchar)
    }

    fn auth_param(&mut self) -> Result<(String, String), SyntaxError> {
        let name = self
            .token()
            .ok_or(SyntaxError::Unexpected(self.pos))?
            .to_owned();
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Err(SyntaxError::Unexpected(self.pos));
        }
        self.pos += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_string()?
        } else {
            self.token()
                .ok_or(SyntaxError::Unexpected(self.pos))?
                .to_owned()
        };
        Ok((name, value))
    }

    /// Parses one element: `auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
    /// With `in_list`, a comma followed by something that is not an
    /// auth-param ends the element (the next challenge starts there).
    pub(crate) fn element(&mut self, in_list: bool) -> Result<Element, SyntaxError> {
        let scheme = self.token().ok_or(SyntaxError::ExpectedScheme)?.to_owned();
        let mut element = Element {
            scheme,
            token68: None,
            params: Vec::new(),
        };
        let before_space = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        let had_space = self.pos > before_space;
        match self.peek() {
            None | Some(b',') => return Ok(element),
            Some(_) if !had_space => return Err(SyntaxError::Unexpected(self.pos)),
            Some(_) => {}
        }
        if !self.at_auth_param() {
            // token68
            let body = self.take_while(is_token68_char);
            if body.is_empty() {
                return Err(SyntaxError::Unexpected(self.pos));
            }
            let mut t = body.to_owned();
            while self.peek() == Some(b'=') {
                self.pos += 1;
                t.push('=');
            }
            element.token68 = Some(t);
            self.skip_ows();
            return match self.peek() {
                None => Ok(element),
                Some(b',') if in_list => Ok(element),
                _ => Err(SyntaxError::Unexpected(self.pos)),
            };
        }
        loop {
            let (name, value) = self.auth_param()?;
            if element
                .params
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                return Err(SyntaxError::DuplicateParam);
            }
            element.params.push((name, value));
            self.skip_ows();
            match self.peek() {
                None => return Ok(element),
                Some(b',') => {
                    let save = self.pos;
                    self.skip_list_separators();
                    if self.at_end() {
                        return Ok(element);
                    }
                    if !self.at_auth_param() {
                        if in_list {
                            // The next challenge starts here.
                            self.pos = save;
                            return Ok(element);
                        }
                        return Err(SyntaxError::Unexpected(self.pos));
                    }
                }
                Some(_) => return Err(SyntaxError::Unexpected(self.pos)),
            }
        }
    }

    /// Parses `#challenge`.
    pub(crate) fn list(&mut self) -> Result<Vec<Element>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            self.skip_list_separators();
            if self.at_end() {
                return Ok(out);
            }
            out.push(self.element(true)?);
        }
    }
}

/// Renders an element (shared by challenges and credentials).
pub(crate) fn render(
    out: &mut String,
    scheme: &str,
    token68: Option<&str>,
    params: impl Iterator<Item = (impl AsRef<str>, impl AsRef<str>, bool)>,
) {
    out.push_str(scheme);
    if let Some(t) = token68 {
        out.push(' ');
        out.push_str(t);
        return;
    }
    let mut first = true;
    for (name, value, force) in params {
        out.push_str(if first { " " } else { ", " });
        first = false;
        push_param(out, name.as_ref(), value.as_ref(), force);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68_with_padding_is_not_a_param() {
        let mut c = Cursor::new("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        let e = c.element(false).unwrap();
        assert_eq!(e.token68.as_deref(), Some("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    }

    #[test]
    fn bws_around_equals_is_accepted() {
        let mut c = Cursor::new("Newauth realm = \"apps\" , type= 1");
        let e = c.element(false).unwrap();
        assert_eq!(
            e.params,
            vec![("realm".into(), "apps".into()), ("type".into(), "1".into())]
        );
    }

    #[test]
    fn quoted_pairs_are_unescaped() {
        let mut c = Cursor::new(r#"X title="a \"b\" \\ c""#);
        let e = c.element(false).unwrap();
        assert_eq!(e.params[0].1, r#"a "b" \ c"#);
    }

    #[test]
    fn errors_do_not_panic() {
        for s in [
            "",
            " ",
            "\"",
            "B\u{0}",
            "Basic a b",
            "Basic realm=\"x",
            "Basic realm=",
            "a=b",
        ] {
            let _ = Cursor::new(s).element(false);
            let _ = Cursor::new(s).list();
        }
    }
}
