//! Challenge lists: whatever parses renders and parses back to the same,
//! from octets (obs-text kept as received) and from text.
#![no_main]
use bouncer_core::Challenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = Challenge::parse_list_bytes(data) {
        // Re-sent one per field line: every octet of a value unchanged.
        let mut h = http::HeaderMap::new();
        for c in &list {
            h.append(http::header::WWW_AUTHENTICATE, c.to_header_value());
        }
        let again = Challenge::parse_headers(&h).expect("re-sent challenges parse");
        assert_eq!(
            list, again,
            "to_header_value -> parse_headers changed {data:?}"
        );
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = Challenge::parse_list(s) {
        let rendered = bouncer_core::challenge::render_list(&list);
        let again = Challenge::parse_list(&rendered).expect("a rendered list parses");
        assert_eq!(list, again, "render -> parse changed {rendered:?}");
        for c in &list {
            assert!(http::HeaderValue::from_str(&c.to_string()).is_ok());
        }
    }
});
