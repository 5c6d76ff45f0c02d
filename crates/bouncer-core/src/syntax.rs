//! RFC 9110 §5.6 and §11 syntax: tokens, token68, quoted strings, and a
//! cursor-based parser for `challenge` / `credentials` lists.
//!
//! The parser works on a field value's octets (not `&str`: obs-text,
//! %x80-FF, is legal inside quoted-strings and is kept as opaque data,
//! RFC 9110 §5.5 / §5.6.4), skips empty list elements wherever a list
//! allows them (§5.6.1.2), and never indexes out of bounds; every failure is
//! a [`SyntaxError`]. What we render is plain ASCII unless it re-sends
//! obs-text that was parsed.

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
    is_token_bytes(s.as_bytes())
}

/// Whether `b` is a non-empty `token`.
fn is_token_bytes(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().copied().all(is_tchar)
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

/// `qdtext` and the second octet of a `quoted-pair` (RFC 9110 §5.6.4):
/// HTAB, SP, VCHAR and `obs-text` (%x80-FF). Everything else is a control
/// character (CTL or DEL), which no field value may carry.
fn is_quoted_octet(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// Leading and trailing OWS removed: it is not part of a field value
/// (RFC 9110 §5.5).
pub(crate) fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// Appends `value` as a quoted-string, escaping only `"` and `\`
/// (RFC 9110 §5.6.4: "A sender SHOULD NOT generate a quoted-pair ... except
/// where necessary"). Other octets, obs-text included, are copied as they are.
fn push_quoted(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Appends `name=value`, quoting the value when `force_quote` is set or the
/// value is not a token.
fn push_param(out: &mut Vec<u8>, name: &str, value: &[u8], force_quote: bool) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    if !force_quote && is_token_bytes(value) {
        out.extend_from_slice(value);
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
    /// A control character (a CTL other than HTAB, or DEL) inside a
    /// quoted-string. obs-text (%x80-FF) is not one: it is opaque data.
    #[error("control character at byte {0}")]
    Control(usize),
}

/// An auth-param value as received: opaque octets (RFC 9110 §5.5, obs-text
/// included), with a UTF-8 text view.
///
/// The text is exact whenever the octets are UTF-8 (every ASCII value, and
/// every value parsed from a `&str`); otherwise invalid sequences read as
/// U+FFFD and the octets are kept beside it. Equality is octet equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ParamValue {
    text: String,
    /// The octets, only when they are not UTF-8 (else `text` holds them).
    raw: Option<Box<[u8]>>,
}

impl ParamValue {
    /// A value from received octets.
    pub(crate) fn from_octets(octets: Vec<u8>) -> Self {
        match String::from_utf8(octets) {
            Ok(text) => Self { text, raw: None },
            Err(e) => {
                let raw = e.into_bytes();
                Self {
                    text: String::from_utf8_lossy(&raw).into_owned(),
                    raw: Some(raw.into_boxed_slice()),
                }
            }
        }
    }

    /// A value from text (what our builders take).
    pub(crate) fn from_text(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            raw: None,
        }
    }

    /// The UTF-8 reading of the octets (lossy only when they are not UTF-8).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The octets exactly as received.
    pub(crate) fn octets(&self) -> &[u8] {
        self.raw.as_deref().unwrap_or(self.text.as_bytes())
    }
}

/// One parsed `challenge` or `credentials` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) scheme: String,
    pub(crate) token68: Option<String>,
    pub(crate) params: Vec<(String, ParamValue)>,
}

/// Up to this many auth-params, duplicates are found by a linear scan;
/// past it, by a set (a 16 KiB Digest header must not cost quadratic time).
const LINEAR_DUPLICATE_SCAN: usize = 16;

pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor over a field value's octets.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
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

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.bytes.get(start..self.pos).unwrap_or_default()
    }

    /// A `token`. tchars are ASCII, so the slice is always UTF-8.
    fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_tchar);
        std::str::from_utf8(t).ok().filter(|t| !t.is_empty())
    }

    /// A `quoted-string`, unescaped, as octets (obs-text kept as is).
    fn quoted_string(&mut self) -> Result<Vec<u8>, SyntaxError> {
        // Caller has checked the opening quote.
        self.pos += 1;
        let mut out = Vec::new();
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
                    if !is_quoted_octet(escaped) {
                        return Err(SyntaxError::Control(self.pos + 1));
                    }
                    out.push(escaped);
                    self.pos += 2;
                }
                Some(b) if is_quoted_octet(b) => {
                    out.push(b);
                    self.pos += 1;
                }
                Some(_) => return Err(SyntaxError::Control(self.pos)),
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

    fn auth_param(&mut self) -> Result<(String, ParamValue), SyntaxError> {
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
                .as_bytes()
                .to_vec()
        };
        Ok((name, ParamValue::from_octets(value)))
    }

    /// Parses one element: `auth-scheme [ 1*SP ( token68 / #auth-param ) ]`.
    ///
    /// `#auth-param` is a list, so it may start with, contain and end with
    /// empty elements (`Basic , realm="a", , charset="UTF-8",`), each with
    /// OWS around its comma. With `in_list`, a comma followed by something
    /// that is not an auth-param ends the element (the next challenge
    /// starts there); without it, the element must fill the whole input.
    pub(crate) fn element(&mut self, in_list: bool) -> Result<Element, SyntaxError> {
        let scheme = self.token().ok_or(SyntaxError::ExpectedScheme)?.to_owned();
        let mut element = Element {
            scheme,
            token68: None,
            params: Vec::new(),
        };
        let after_scheme = self.pos;
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
        let after_sp = self.pos;
        let had_space = after_sp > after_scheme;
        self.skip_ows();
        match self.peek() {
            // Trailing OWS is not part of the field value (RFC 9110 §5.5).
            None => return Ok(element),
            // No SP after the scheme: `OWS ","` ends a challenge and is no
            // part of credentials.
            Some(b',') if !had_space => {
                return if in_list {
                    Ok(element)
                } else {
                    Err(SyntaxError::Unexpected(self.pos))
                };
            }
            // `1*SP` then `#auth-param` whose first elements are empty, or
            // (in a list) the end of a challenge without parameters.
            Some(b',') => {
                let comma = self.pos;
                self.skip_list_separators();
                if self.at_end() {
                    return Ok(element);
                }
                if !self.at_auth_param() {
                    if in_list {
                        self.pos = comma;
                        return Ok(element);
                    }
                    return Err(SyntaxError::Unexpected(self.pos));
                }
            }
            // What follows the scheme must be separated by SP alone
            // (`1*SP`; an HTAB is not SP).
            Some(_) if !had_space || self.pos != after_sp => {
                return Err(SyntaxError::Unexpected(self.pos));
            }
            Some(_) if !self.at_auth_param() => {
                let body = self.take_while(is_token68_char);
                if body.is_empty() {
                    return Err(SyntaxError::Unexpected(self.pos));
                }
                let mut t = body.to_vec();
                while self.peek() == Some(b'=') {
                    self.pos += 1;
                    t.push(b'=');
                }
                // token68 characters are ASCII.
                element.token68 = String::from_utf8(t).ok();
                self.skip_ows();
                return match self.peek() {
                    None => Ok(element),
                    Some(b',') if in_list => Ok(element),
                    _ => Err(SyntaxError::Unexpected(self.pos)),
                };
            }
            Some(_) => {}
        }
        let mut names: Option<std::collections::HashSet<String>> = None;
        loop {
            let (name, value) = self.auth_param()?;
            let duplicate = if element.params.len() < LINEAR_DUPLICATE_SCAN {
                element
                    .params
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&name))
            } else {
                let set = names.get_or_insert_with(|| {
                    element
                        .params
                        .iter()
                        .map(|(n, _)| n.to_ascii_lowercase())
                        .collect()
                });
                !set.insert(name.to_ascii_lowercase())
            };
            if duplicate {
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

    /// Parses `#challenge`, skipping empty elements before, between and
    /// after challenges.
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

/// Renders an element (shared by challenges and credentials) as octets:
/// values are copied as they are, so a parsed value's obs-text survives.
pub(crate) fn render<'p>(
    out: &mut Vec<u8>,
    scheme: &str,
    token68: Option<&str>,
    params: impl Iterator<Item = (&'p str, &'p [u8], bool)>,
) {
    out.extend_from_slice(scheme.as_bytes());
    if let Some(t) = token68 {
        out.push(b' ');
        out.extend_from_slice(t.as_bytes());
        return;
    }
    let mut first = true;
    for (name, value, force) in params {
        out.extend_from_slice(if first { b" " } else { b", " });
        first = false;
        push_param(out, name, value, force);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(e: &Element) -> Vec<(&str, &[u8])> {
        e.params
            .iter()
            .map(|(n, v)| (n.as_str(), v.octets()))
            .collect()
    }

    #[test]
    fn token68_with_padding_is_not_a_param() {
        let mut c = Cursor::new(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        let e = c.element(false).unwrap();
        assert_eq!(e.token68.as_deref(), Some("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
    }

    #[test]
    fn bws_around_equals_is_accepted() {
        let mut c = Cursor::new(b"Newauth realm = \"apps\" , type= 1");
        let e = c.element(false).unwrap();
        assert_eq!(
            params(&e),
            vec![("realm", &b"apps"[..]), ("type", &b"1"[..])]
        );
    }

    #[test]
    fn quoted_pairs_are_unescaped() {
        let mut c = Cursor::new(br#"X title="a \"b\" \\ c""#);
        let e = c.element(false).unwrap();
        assert_eq!(e.params[0].1.text(), r#"a "b" \ c"#);
    }

    #[test]
    fn obs_text_is_opaque_data_in_qdtext_and_quoted_pairs() {
        let e = Cursor::new(b"Basic realm=\"foo-\xe4\", x=\"\\\xff\\\xc3\xa4\"")
            .element(false)
            .unwrap();
        assert_eq!(e.params[0].1.octets(), b"foo-\xe4");
        assert_eq!(e.params[0].1.text(), "foo-\u{fffd}");
        assert_eq!(e.params[1].1.octets(), b"\xff\xc3\xa4");
        // UTF-8 octets read as exactly that text.
        let e = Cursor::new("Basic realm=\"foo-ä\"".as_bytes())
            .element(false)
            .unwrap();
        assert_eq!(e.params[0].1.text(), "foo-ä");
        // obs-text is only legal inside quoted-strings.
        assert!(Cursor::new(b"Basic realm=foo-\xe4").element(false).is_err());
        assert!(Cursor::new(b"B\xe4sic realm=\"a\"").list().is_err());
    }

    #[test]
    fn controls_in_quoted_strings_are_refused() {
        for bad in [
            &b"X p=\"a\x00b\""[..],
            b"X p=\"a\x7fb\"",
            b"X p=\"a\\\nb\"",
            b"X p=\"\r\"",
        ] {
            assert!(
                matches!(Cursor::new(bad).list(), Err(SyntaxError::Control(_))),
                "{bad:?}"
            );
        }
        // HTAB is qdtext.
        assert!(Cursor::new(b"X p=\"a\tb\"").list().is_ok());
    }

    #[test]
    fn empty_elements_between_scheme_and_params() {
        for s in [
            &b"Basic , realm=\"foo\""[..],
            b"Basic ,realm=\"foo\"",
            b"Basic  \t,\t , realm=\"foo\"",
            b"Basic ,,, realm=\"foo\" ,, ",
        ] {
            let e = Cursor::new(s).element(false).unwrap();
            assert_eq!(params(&e), vec![("realm", &b"foo"[..])], "{s:?}");
            let l = Cursor::new(s).list().unwrap();
            assert_eq!(l, vec![e], "{s:?}");
        }
        // Credentials: `1*SP` then an auth-param list of only empty elements.
        assert!(Cursor::new(b"Digest , ")
            .element(false)
            .unwrap()
            .params
            .is_empty());
    }

    #[test]
    fn empty_elements_around_and_between_challenges() {
        let l = Cursor::new(b" , ,Basic realm=\"a\" , , Bearer realm=\"b\" ,\t, ")
            .list()
            .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].scheme, "Bearer");
        // A parameterless challenge followed by an empty element.
        let l = Cursor::new(b"Basic , , Bearer realm=\"b\"").list().unwrap();
        assert_eq!((l.len(), l[0].params.len()), (2, 0));
        let l = Cursor::new(b"Newauth\t, Basic\t,").list().unwrap();
        assert_eq!(l.len(), 2);
        // Between the parameters of one challenge.
        let l = Cursor::new(b"Basic realm=\"a\", , charset=\"UTF-8\"")
            .list()
            .unwrap();
        assert_eq!(
            params(&l[0]),
            vec![("realm", &b"a"[..]), ("charset", &b"UTF-8"[..])]
        );
    }

    #[test]
    fn what_is_not_an_empty_element() {
        // No SP after the scheme: the comma ends the challenge.
        assert!(Cursor::new(b"Basic, realm=\"foo\"").list().is_err());
        // token68 is not a list.
        assert!(Cursor::new(b"Basic , abc==").list().is_err());
        assert!(Cursor::new(b"Bearer abc,").element(false).is_err());
        // Credentials are one element, not a list.
        assert!(Cursor::new(b"Bearer,").element(false).is_err());
        assert!(Cursor::new(b"Bearer, x").element(false).is_err());
        // `1*SP`: HTAB does not separate the scheme from its parameters.
        assert!(Cursor::new(b"Basic\trealm=\"a\"").list().is_err());
        assert!(Cursor::new(b"Bearer \tabc").element(false).is_err());
    }

    #[test]
    fn trailing_ows_after_a_bare_scheme() {
        for s in [&b"Basic\t"[..], b"Basic \t ", b"Basic "] {
            assert!(Cursor::new(s).element(false).unwrap().params.is_empty());
            assert_eq!(Cursor::new(s).list().unwrap().len(), 1);
        }
    }

    #[test]
    fn many_params_are_checked_for_duplicates() {
        let mut s: Vec<u8> = b"Digest ".to_vec();
        for i in 0..2000 {
            s.extend_from_slice(format!("p{i}=v, ").as_bytes());
        }
        assert_eq!(Cursor::new(&s).element(false).unwrap().params.len(), 2000);
        s.extend_from_slice(b"P1999=again");
        assert_eq!(
            Cursor::new(&s).element(false),
            Err(SyntaxError::DuplicateParam)
        );
    }

    #[test]
    fn trim_ows_trims_only_ows() {
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b"\xe4 "), b"\xe4");
    }

    #[test]
    fn errors_do_not_panic() {
        for s in [
            &b""[..],
            b" ",
            b"\"",
            b"B\x00",
            b"Basic a b",
            b"Basic realm=\"x",
            b"Basic realm=\"x\\",
            b"Basic realm=",
            b"a=b",
            b"\xff",
            b"Basic ,",
            b",",
        ] {
            let _ = Cursor::new(s).element(false);
            let _ = Cursor::new(s).list();
        }
    }
}
