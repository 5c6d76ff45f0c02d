//! The policy loader never panics; every error names a place.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match bouncer_authz::policy::compile_str("fuzz.toml", text) {
        Ok(c) => {
            let _ = c.snapshot.stats();
        }
        Err(e) => assert_eq!(e.file, "fuzz.toml"),
    }
});
