//! The Basic decoder never panics, and what it decodes encodes back.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(up) = bouncer_authn::basic::decode_user_pass(s) {
        assert!(!up.user.contains(':'));
        let again = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", up.user, up.password));
        let up2 = bouncer_authn::basic::decode_user_pass(&again).unwrap();
        assert_eq!(up, up2);
    }
});
