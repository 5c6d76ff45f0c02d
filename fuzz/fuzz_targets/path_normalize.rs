//! The blocked-path normaliser never panics, and a path whose normal form
//! has a hidden segment is always blocked.
#![no_main]
use bouncer_authz::guards::{normalize_path, PathGuard};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let guard = PathGuard::new();
    let blocked = guard.is_blocked(path);
    let normal = normalize_path(path);
    assert!(normal.starts_with('/'));
    assert!(
        !normal.split('/').any(|s| s == ".." || s == "."),
        "{normal}"
    );
    let hidden = normal
        .split('/')
        .any(|s| s.starts_with('.') && s != ".well-known");
    if hidden {
        assert!(blocked, "{path:?} normalises to {normal:?} but passes");
    }
});
