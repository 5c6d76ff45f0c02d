//! Challenge lists: whatever parses, renders and parses back to the same.
#![no_main]
use bouncer_core::Challenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
