//! `LoginError` speaks the gate's vocabulary: code, status, `Display`,
//! `Error` with the fault's source.

use std::error::Error as _;
use std::time::Duration;

use bouncer_core::{AuthnReason, Code, Fault, ForbiddenReason, Unauthenticated};
use bouncer_session::LoginError;

#[test]
fn each_variant_has_its_code_status_and_text() {
    let cases = [
        (
            LoginError::Unauthenticated(Unauthenticated::new(AuthnReason::InvalidCredentials)),
            Code::Authn(AuthnReason::InvalidCredentials),
            401,
        ),
        (
            LoginError::Forbidden(ForbiddenReason::AccountSuspended),
            Code::Forbidden(ForbiddenReason::AccountSuspended),
            403,
        ),
        (
            LoginError::Throttled(Duration::from_secs(42)),
            Code::TooManyRequests,
            429,
        ),
        (
            LoginError::Fault(Fault::internal("a bug", "details")),
            Code::InternalError,
            500,
        ),
        (
            LoginError::Fault(Fault::unavailable(
                "redis",
                Duration::from_secs(2),
                "connection refused",
            )),
            Code::ServiceUnavailable,
            503,
        ),
    ];
    for (error, code, status) in cases {
        assert_eq!(error.code(), code, "{error:?}");
        assert_eq!(error.status().as_u16(), status, "{error:?}");
        // As `Denial`'s: the status first, then the code, or a fault's own
        // text.
        let text = error.to_string();
        assert!(text.starts_with(&format!("{status} ")), "{text:?}");
        if !matches!(error, LoginError::Fault(_)) {
            assert!(text.starts_with(&format!("{status} {code}")), "{text:?}");
        }
    }
    assert!(LoginError::Throttled(Duration::from_secs(42))
        .to_string()
        .contains("42 s"));
}

#[test]
fn a_fault_keeps_its_source() {
    let error = LoginError::from(Fault::unavailable(
        "redis",
        Duration::from_secs(2),
        "connection refused",
    ));
    let source = error.source().expect("the fault is the source");
    assert!(source.downcast_ref::<Fault>().is_some());
    let mut chain = Vec::new();
    let mut next = Some(source);
    while let Some(e) = next {
        chain.push(e.to_string());
        next = e.source();
    }
    assert!(
        chain.iter().any(|e| e.contains("connection refused")),
        "{chain:?}"
    );
    assert!(
        LoginError::Unauthenticated(Unauthenticated::new(AuthnReason::InvalidCredentials))
            .source()
            .is_none()
    );
}
