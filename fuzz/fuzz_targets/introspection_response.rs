//! Introspection response parsing never panics, and an answer reads as
//! active only when the body is a JSON object whose `active` is `true`
//! (checked against serde_json's own reading).
#![no_main]
use bouncer_authn::introspection::IntrospectionResponse;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = IntrospectionResponse::parse(data) else {
        return;
    };
    let v: Value = serde_json::from_slice(data).expect("a strictly read answer is JSON");
    assert_eq!(
        v.get("active"),
        Some(&Value::Bool(r.is_active())),
        "`active` read as something the body does not say"
    );
    assert_eq!(r.claims().is_some(), r.is_active());
});
