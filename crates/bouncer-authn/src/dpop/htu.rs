//! `htu` comparison (RFC 9449 §4.3 step 9): the proof's URI and the
//! request's, both without query and fragment, after the syntax- and
//! scheme-based normalization of RFC 3986 §6.2.2 and §6.2.3 (case of the
//! scheme, host and percent-encodings, percent-encoded unreserved
//! characters, dot segments, default ports, an empty path).

/// The longest URI considered; longer is refused.
pub const MAX_HTU_LEN: usize = 2048;

/// `uri` normalized for comparison, without its query and fragment;
/// `None` for anything that is not an absolute `http`/`https` URI without
/// user information (refused, never guessed at).
pub fn normalize_htu(uri: &str) -> Option<String> {
    if uri.len() > MAX_HTU_LEN || !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, ""),
    };
    let authority = normalize_authority(authority, default_port)?;
    let path = normalize_path(path)?;
    Some(format!("{scheme}://{authority}{path}"))
}

/// `scheme://authority` + a request's raw path: the request's `htu`.
pub(crate) fn request_htu(origin: &str, prefix: &str, path: &str) -> Option<String> {
    let path = if path.is_empty() { "/" } else { path };
    normalize_htu(&format!("{origin}{prefix}{path}"))
}

fn normalize_authority(authority: &str, default_port: &str) -> Option<String> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    // The port is after the last `:` outside an IPv6 literal.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority.get(i..)?.contains(']') => {
            (authority.get(..i)?, authority.get(i + 1..)?)
        }
        _ => (authority, ""),
    };
    if host.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || !is_host(host) {
        return None;
    }
    let host = decode_unreserved(host)?.to_ascii_lowercase();
    // Leading zeros are the same port.
    let port = match port.trim_start_matches('0') {
        "" if !port.is_empty() => "0",
        p => p,
    };
    if port.is_empty() || port == default_port {
        Some(host)
    } else {
        Some(format!("{host}:{port}"))
    }
}

/// An IP literal in brackets, or a reg-name (RFC 3986 §3.2.2: unreserved,
/// percent-encoded and sub-delims characters; no `:` outside brackets).
fn is_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    }
    host.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            )
    })
}

/// Uppercase hex in percent-encodings, and unreserved characters decoded
/// (RFC 3986 §6.2.2.1, §6.2.2.2); a `%` not followed by two hex digits is
/// refused.
fn decode_unreserved(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let hi = hex_val(*bytes.get(i + 1)?)?;
        let lo = hex_val(*bytes.get(i + 2)?)?;
        let c = hi << 4 | lo;
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(c));
        } else {
            out.push('%');
            out.push(char::from(
                b"0123456789ABCDEF".get(usize::from(hi)).copied()?,
            ));
            out.push(char::from(
                b"0123456789ABCDEF".get(usize::from(lo)).copied()?,
            ));
        }
        i += 3;
    }
    Some(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodings normalized, then dot segments removed (RFC 3986
/// §5.2.4); an empty path is `/` (§6.2.3).
fn normalize_path(path: &str) -> Option<String> {
    let decoded = decode_unreserved(path)?;
    if decoded.is_empty() {
        return Some("/".to_owned());
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = decoded.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    Some(format!("/{}", out.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_table() {
        let same = [
            // RFC 9449 §4.2's example, and its query/fragment ignored.
            (
                "https://server.example.com/token",
                "https://server.example.com/token",
            ),
            (
                "https://server.example.com/token?x=1#f",
                "https://server.example.com/token",
            ),
            (
                "HTTPS://Server.Example.COM/token",
                "https://server.example.com/token",
            ),
            (
                "https://server.example.com:443/token",
                "https://server.example.com/token",
            ),
            ("http://a.example:80/", "http://a.example/"),
            ("http://a.example", "http://a.example/"),
            ("http://a.example?q", "http://a.example/"),
            ("http://a.example:8080/x", "http://a.example:8080/x"),
            ("http://a.example:08080/x", "http://a.example:8080/x"),
            ("https://a.example:80/x", "https://a.example:80/x"),
            ("http://a.example/%7euser/%2f", "http://a.example/~user/%2F"),
            ("http://a.example/a/./b/../c", "http://a.example/a/c"),
            ("http://a.example/a/b/..", "http://a.example/a/"),
            ("http://[::1]:8080/x", "http://[::1]:8080/x"),
            ("http://[::1]/x", "http://[::1]/x"),
            ("http://127.0.0.1:3000/me", "http://127.0.0.1:3000/me"),
        ];
        for (input, want) in same {
            assert_eq!(normalize_htu(input).as_deref(), Some(want), "{input}");
        }
        let refused = [
            "",
            "/relative",
            "ftp://a.example/",
            "http://user@a.example/",
            "http:///x",
            "http://a.example:8x/",
            "http://a.example/%zz",
            "http://a.example/%4",
            "http://a example/",
            "http://a.example/\u{e9}",
            // A host that is not one: a stray `:`, an empty or unclosed
            // IP literal.
            "http://::",
            "http://:/",
            "http://a:b:80/",
            "http://[]/",
            "http://[::1/",
        ];
        for input in refused {
            assert_eq!(normalize_htu(input), None, "{input}");
        }
        assert_eq!(
            normalize_htu(&format!("http://a.example/{}", "a".repeat(MAX_HTU_LEN))),
            None
        );
    }

    #[test]
    fn a_request_is_its_origin_and_path() {
        assert_eq!(
            request_htu("http://127.0.0.1:8080", "", "/orgs/acme/documents").as_deref(),
            Some("http://127.0.0.1:8080/orgs/acme/documents")
        );
        assert_eq!(
            request_htu("https://api.example", "/v1", "/me").as_deref(),
            Some("https://api.example/v1/me")
        );
        assert_eq!(
            request_htu("https://api.example", "", "").as_deref(),
            Some("https://api.example/")
        );
    }

    proptest::proptest! {
        #[test]
        fn normalizing_twice_changes_nothing(uri in "(https?|HTTP)://[a-zA-Z0-9.:\\[\\]@%-]{0,20}(/[a-zA-Z0-9./%~?#-]{0,30})?") {
            if let Some(n) = normalize_htu(&uri) {
                proptest::prop_assert_eq!(normalize_htu(&n), Some(n));
            }
        }
    }
}
