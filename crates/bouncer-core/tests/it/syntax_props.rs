//! Property tests of the challenge renderer/parser and the header parser.

use bouncer_core::{BearerError, Challenge, Credentials};
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

/// `qdtext` octets as received: HTAB, SP, VCHAR and obs-text (%x80-FF).
fn received_octets() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff],
        0..24,
    )
}

/// `OWS "," OWS` with more empty elements: `" , ,\t"` and the like.
fn empty_elements() -> impl Strategy<Value = String> {
    "[ \t]{0,2}(,[ \t]{0,2}){1,3}"
}

/// `name="value"`, escaping `"` and `\`.
fn quoted_param(name: &str, value: &[u8]) -> Vec<u8> {
    let mut out = name.as_bytes().to_vec();
    out.extend_from_slice(b"=\"");
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

/// Pieces a challenge list is made of, and some that break it: random
/// sequences of them reach the parser's corners far more often than
/// random bytes.
fn challenge_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces: Vec<&'static [u8]> = vec![
        b"Basic",
        b"Bearer",
        b"realm",
        b"a",
        b"=",
        b"==",
        b" ",
        b"\t",
        b",",
        b"\"",
        b"\\",
        b"\xe4",
        b"\xc3\xa4",
        b"\x00",
        b"\r\n",
        b"abc+/",
    ];
    proptest::collection::vec(proptest::sample::select(pieces), 0..24).prop_map(|v| v.concat())
}

/// Visible ASCII plus SP and HTAB: everything a quoted-string may carry.
fn quotable() -> impl Strategy<Value = String> {
    "[\t -~]{0,40}"
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

proptest! {
    #[test]
    fn any_rendered_challenge_parses_back(
        scheme in token(),
        realm in quotable(),
        params in proptest::collection::vec((token(), quotable()), 0..4),
    ) {
        let mut c = Challenge::new(&scheme).unwrap().param("realm", &realm).unwrap();
        for (name, value) in &params {
            // Duplicate names are refused at construction; skip those.
            c = match c.clone().param(name, value) { Ok(c) => c, Err(_) => c };
        }
        let wire = c.to_string();
        prop_assert!(HeaderValue::from_str(&wire).is_ok(), "not a valid header: {wire}");
        let parsed = Challenge::parse_list(&wire).unwrap();
        prop_assert_eq!(parsed, vec![c]);
    }

    #[test]
    fn several_challenges_parse_back_in_order(
        realms in proptest::collection::vec(quotable(), 1..4),
        description in "[ !#-\\[\\]-~]{0,30}",
    ) {
        let mut list = Vec::new();
        for (i, realm) in realms.iter().enumerate() {
            let c = if i % 2 == 0 {
                Challenge::basic(realm).unwrap()
            } else {
                let mut b = Challenge::bearer().realm(realm.clone()).error(BearerError::InvalidToken);
                if !description.is_empty() { b = b.error_description(description.clone()); }
                b.build().unwrap()
            };
            list.push(c);
        }
        let wire = bouncer_core::challenge::render_list(&list);
        prop_assert_eq!(Challenge::parse_list(&wire).unwrap(), list);
    }

    #[test]
    fn header_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Credentials::parse_bytes(&bytes);
        let _ = Challenge::parse_list_bytes(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Credentials::parse(s);
            let _ = Challenge::parse_list(s);
        }
        if let Ok(v) = HeaderValue::from_bytes(&bytes) {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, v.clone());
            h.insert(WWW_AUTHENTICATE, v);
            let _ = Credentials::from_headers(&h);
            let _ = bouncer_core::authorization::scheme_of(&h);
            let _ = Challenge::parse_headers(&h);
        }
    }

    #[test]
    fn whatever_parses_survives_rendering(bytes in challenge_like()) {
        if let Ok(list) = Challenge::parse_list_bytes(&bytes) {
            let mut h = HeaderMap::new();
            for c in &list {
                h.append(WWW_AUTHENTICATE, c.to_header_value());
            }
            prop_assert_eq!(&Challenge::parse_headers(&h).unwrap(), &list);
            // `&str` input: the text rendering is exact too.
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let line = bouncer_core::challenge::render_list(&list);
                prop_assert_eq!(&Challenge::parse_list(&line).unwrap(), &list);
                prop_assert_eq!(Challenge::parse_list(s).unwrap(), list);
            }
        }
        if let Ok(c) = Credentials::parse_bytes(&bytes) {
            prop_assert!(!c.scheme().is_empty());
        }
    }

    #[test]
    fn obs_text_is_kept_as_opaque_octets(realm in received_octets(), other in received_octets()) {
        let mut wire = b"Basic ".to_vec();
        wire.extend(quoted_param("realm", &realm));
        wire.extend_from_slice(b", ");
        wire.extend(quoted_param("other", &other));
        let list = Challenge::parse_list_bytes(&wire).unwrap();
        prop_assert_eq!(list.len(), 1);
        prop_assert_eq!(list[0].get_bytes("realm"), Some(realm.as_slice()));
        prop_assert_eq!(list[0].get_bytes("other"), Some(other.as_slice()));
        let text = String::from_utf8_lossy(&realm);
        prop_assert_eq!(list[0].get("realm"), Some(text.as_ref()));
        // Re-sent, the octets are unchanged: realm is always quoted, so its
        // part of the line is exactly what was received.
        let v = list[0].to_header_value();
        let realm_part = quoted_param("realm", &realm);
        prop_assert_eq!(v.as_bytes().get(6..6 + realm_part.len()), Some(realm_part.as_slice()));
        let mut h = HeaderMap::new();
        h.insert(WWW_AUTHENTICATE, v);
        prop_assert_eq!(Challenge::parse_headers(&h).unwrap(), list);
        // The same octets in Authorization.
        let mut creds = b"Digest ".to_vec();
        creds.extend(quoted_param("username", &realm));
        let c = Credentials::parse_bytes(&creds).unwrap();
        prop_assert_eq!(c.param_bytes("username"), Some(realm.as_slice()));
    }

    #[test]
    fn empty_list_elements_change_nothing(
        realms in proptest::collection::vec(quotable(), 1..4),
        seps in proptest::collection::vec(empty_elements(), 12),
    ) {
        // Empty elements before, between and after challenges, after the
        // scheme's SP, and between one challenge's parameters.
        let list: Vec<Challenge> = realms.iter().map(|r| Challenge::basic(r).unwrap()).collect();
        let mut wire = seps[0].as_bytes().to_vec();
        for (i, c) in list.iter().enumerate() {
            wire.extend_from_slice(c.scheme().as_bytes());
            wire.push(b' ');
            wire.extend_from_slice(seps[1 + 3 * i].as_bytes());
            for (j, (name, value)) in c.params_bytes().enumerate() {
                if j > 0 {
                    wire.extend_from_slice(seps[2 + 3 * i].as_bytes());
                }
                wire.extend(quoted_param(name, value));
            }
            wire.extend_from_slice(seps[3 + 3 * i].as_bytes());
        }
        prop_assert_eq!(Challenge::parse_list_bytes(&wire).unwrap(), list.clone());
        // And in credentials, whose #auth-param allows them too.
        let mut creds = b"Digest ".to_vec();
        creds.extend_from_slice(seps[1].as_bytes());
        creds.extend(quoted_param("username", realms[0].as_bytes()));
        creds.extend_from_slice(seps[2].as_bytes());
        creds.extend(quoted_param("realm", b"r"));
        creds.extend_from_slice(seps[3].as_bytes());
        let c = Credentials::parse_bytes(&creds).unwrap();
        prop_assert_eq!(c.param("username"), Some(realms[0].as_str()));
        prop_assert_eq!(c.param("realm"), Some("r"));
    }

    #[test]
    fn values_that_cannot_be_sent_are_refused(bad in "[\\x00-\\x08\\x0a-\\x1f\\x7f]") {
        let value = format!("a{bad}b");
        prop_assert!(Challenge::new("X").unwrap().param("p", &value).is_err());
        prop_assert!(Challenge::bearer().realm(value).build().is_err());
    }
}
