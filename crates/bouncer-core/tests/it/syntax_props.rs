//! Property tests of the challenge renderer/parser and the header parser.

use bouncer_core::{BearerError, Challenge, Credentials};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

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
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Credentials::parse(s);
            let _ = Challenge::parse_list(s);
        }
        if let Ok(v) = HeaderValue::from_bytes(&bytes) {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, v);
            let _ = Credentials::from_headers(&h);
            let _ = bouncer_core::authorization::scheme_of(&h);
        }
    }

    #[test]
    fn values_that_cannot_be_sent_are_refused(bad in "[\\x00-\\x08\\x0a-\\x1f\\x7f]") {
        let value = format!("a{bad}b");
        prop_assert!(Challenge::new("X").unwrap().param("p", &value).is_err());
        prop_assert!(Challenge::bearer().realm(value).build().is_err());
    }
}
