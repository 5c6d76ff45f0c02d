//! A conformance suite for any [`Authenticator`]: the outcomes the gate
//! relies on to pick the right status.
//!
//! | check | requirement |
//! |---|---|
//! | `valid` requests | `Ok(Some(identity))`, and the identity names this scheme |
//! | `wrong` requests (this scheme, bad credentials) | `Err(AuthnError::Unauthenticated(_))`; through a gate: 401 carrying this scheme's own challenge (when it has one) |
//! | `foreign` requests (no credentials of this kind) | `Ok(None)`, and `recognizes` is false |
//! | a broken backend | `Err(Fault)`: 500/503 through a gate, never 401 |
//! | arbitrary bytes in the scheme's headers | never panics, never authenticates |
//! | the type | `Send + Sync + 'static` (checked at compile time) |
//!
//! ```
//! use bouncer_test::conformance::{self, Suite};
//! # use bouncer_core::*;
//! # use async_trait::async_trait;
//! # struct Key;
//! # #[async_trait]
//! # impl Authenticator for Key {
//! #     fn scheme(&self) -> SchemeName { SchemeName::API_KEY }
//! #     fn recognizes(&self, r: &RequestContext<'_>) -> bool { r.headers().contains_key("x-key") }
//! #     async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
//! #         match r.headers().get("x-key").map(|v| v.as_bytes()) {
//! #             None => Ok(None),
//! #             Some(b"good") => Ok(Some(Identity::service("svc", SchemeName::API_KEY))),
//! #             Some(_) => Err(AuthnReason::InvalidCredentials.into()),
//! #         }
//! #     }
//! #     fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> { None }
//! # }
//! let suite = Suite::new()
//!     .valid(http::Request::get("/").header("x-key", "good").body(()).unwrap())
//!     .wrong(http::Request::get("/").header("x-key", "bad").body(()).unwrap())
//!     .fuzz_header("x-key");
//! conformance::check_blocking(Key, &suite).unwrap();
//! ```

use std::fmt;
use std::sync::Arc;

use bouncer_core::{
    Authenticator, AuthnError, Decision, Denial, Gate, RequestContext, Requirement,
};
use http::header::{HeaderName, AUTHORIZATION};
use http::request::Parts;
use http::{HeaderValue, Request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// The requests to check an authenticator with.
#[derive(Debug, Default)]
pub struct Suite {
    valid: Vec<Parts>,
    wrong: Vec<Parts>,
    foreign: Vec<Parts>,
    fuzz_headers: Vec<HeaderName>,
    fuzz_cases: u32,
}

impl Suite {
    /// An empty suite. Requests without credentials and with another
    /// scheme's (`Authorization: Basic …` / `Bearer …` / a cookie) are
    /// always checked as foreign, unless they carry this scheme.
    pub fn new() -> Self {
        Self {
            fuzz_cases: 256,
            ..Self::default()
        }
    }

    /// A request with valid credentials of this scheme.
    pub fn valid(mut self, request: Request<()>) -> Self {
        self.valid.push(request.into_parts().0);
        self
    }

    /// A request with credentials of this scheme that must be rejected.
    pub fn wrong(mut self, request: Request<()>) -> Self {
        self.wrong.push(request.into_parts().0);
        self
    }

    /// A request without credentials of this scheme.
    pub fn foreign(mut self, request: Request<()>) -> Self {
        self.foreign.push(request.into_parts().0);
        self
    }

    /// A header to fill with arbitrary bytes (the scheme's own header).
    /// `Authorization` is always fuzzed.
    pub fn fuzz_header(mut self, name: &'static str) -> Self {
        self.fuzz_headers.push(HeaderName::from_static(name));
        self
    }

    /// How many arbitrary inputs per header (default 256).
    pub fn fuzz_cases(mut self, cases: u32) -> Self {
        self.fuzz_cases = cases;
        self
    }
}

/// A broken promise of the authenticator under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Which check.
    pub check: &'static str,
    /// What happened.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance check `{}` failed: {}",
            self.check, self.detail
        )
    }
}

impl std::error::Error for Failure {}

fn fail(check: &'static str, detail: impl Into<String>) -> Failure {
    Failure {
        check,
        detail: detail.into(),
    }
}

/// Compile-time check that an authenticator can be shared across threads.
pub const fn assert_send_sync<A: Authenticator + Send + Sync + 'static>() {}

fn describe(parts: &Parts) -> String {
    let names: Vec<&str> = parts.headers.keys().map(HeaderName::as_str).collect();
    format!(
        "{} {} (headers: {})",
        parts.method,
        parts.uri,
        names.join(", ")
    )
}

/// Runs every check except the broken-backend one.
pub async fn check<A: Authenticator>(authenticator: A, suite: &Suite) -> Result<(), Failure> {
    let authenticator = Arc::new(authenticator);
    let scheme = authenticator.scheme();
    for parts in &suite.valid {
        let ctx = RequestContext::from_parts(parts);
        if !authenticator.recognizes(&ctx) {
            return Err(fail(
                "valid",
                format!("`recognizes` is false for {}", describe(parts)),
            ));
        }
        match authenticator.authenticate(&ctx).await {
            Ok(Some(id)) if *id.scheme() == scheme => {}
            Ok(Some(id)) => {
                return Err(fail(
                    "valid",
                    format!(
                        "{} authenticated as scheme `{}`, not this authenticator's `{scheme}`",
                        describe(parts),
                        id.scheme()
                    ),
                ))
            }
            other => return Err(fail("valid", format!("{} gave {other:?}", describe(parts)))),
        }
    }
    // The challenge a 401 carries for this scheme, if it has one.
    let own_challenge = authenticator.challenge(None).map(|c| c.scheme().to_owned());
    let gate = Gate::builder().authenticator(authenticator.clone()).build();
    for parts in &suite.wrong {
        let ctx = RequestContext::from_parts(parts);
        match authenticator.authenticate(&ctx).await {
            Err(AuthnError::Unauthenticated(_)) => {}
            other => {
                return Err(fail(
                    "wrong",
                    format!(
                        "{} gave {other:?}, not a 401 Unauthenticated",
                        describe(parts)
                    ),
                ))
            }
        }
        let verdict = gate.decide(&ctx, &Requirement::authenticated()).await;
        match verdict.decision() {
            // The gate always adds a fallback challenge, so what is checked
            // is that the scheme's own challenge is among them.
            Decision::Deny(Denial::Unauthenticated(u))
                if own_challenge.as_ref().is_none_or(|own| {
                    u.challenges()
                        .iter()
                        .any(|c| c.scheme().eq_ignore_ascii_case(own))
                }) => {}
            other => {
                return Err(fail(
                    "wrong",
                    format!("through a gate {} gave {other:?}", describe(parts)),
                ))
            }
        }
    }
    let mut foreign: Vec<Parts> = suite.foreign.iter().map(clone_parts).collect();
    for extra in [
        None,
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer abc.def.ghi"),
        Some("Negotiate abc"),
    ] {
        let mut b = Request::get("/");
        if let Some(v) = extra {
            b = b.header(AUTHORIZATION, v);
        }
        if let Ok(r) = b.body(()) {
            let parts = r.into_parts().0;
            // Skip the ones that are this scheme's own.
            if !authenticator.recognizes(&RequestContext::from_parts(&parts)) {
                foreign.push(parts);
            }
        }
    }
    for parts in &foreign {
        let ctx = RequestContext::from_parts(parts);
        if authenticator.recognizes(&ctx) {
            return Err(fail(
                "foreign",
                format!("`recognizes` is true for {}", describe(parts)),
            ));
        }
        match authenticator.authenticate(&ctx).await {
            Ok(None) => {}
            other => {
                return Err(fail(
                    "foreign",
                    format!("{} gave {other:?}, not Ok(None)", describe(parts)),
                ))
            }
        }
    }
    fuzz(authenticator, suite, &scheme).await
}

/// `check` on a fresh current-thread runtime (for `#[test]` functions).
pub fn check_blocking<A: Authenticator>(authenticator: A, suite: &Suite) -> Result<(), Failure> {
    runtime()?.block_on(check(authenticator, suite))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail("runtime", e.to_string()))
}

/// Checks that an authenticator whose backend is failing answers with a
/// fault (500/503), never a 401, for a request with its credentials.
pub async fn check_backend_failure<A: Authenticator>(
    broken: A,
    request: Request<()>,
) -> Result<(), Failure> {
    let broken = Arc::new(broken);
    let parts = request.into_parts().0;
    let ctx = RequestContext::from_parts(&parts);
    match broken.authenticate(&ctx).await {
        Err(AuthnError::Fault(_)) => {}
        other => {
            return Err(fail(
                "backend failure",
                format!("gave {other:?}, not a fault"),
            ))
        }
    }
    let gate = Gate::builder().authenticator(broken.clone()).build();
    let verdict = gate.decide(&ctx, &Requirement::authenticated()).await;
    match verdict.decision() {
        Decision::Deny(d) if d.status().is_server_error() => Ok(()),
        other => Err(fail(
            "backend failure",
            format!("through a gate gave {other:?}"),
        )),
    }
}

/// `check_backend_failure` on a fresh runtime.
pub fn check_backend_failure_blocking<A: Authenticator>(
    broken: A,
    request: Request<()>,
) -> Result<(), Failure> {
    runtime()?.block_on(check_backend_failure(broken, request))
}

fn clone_parts(p: &Parts) -> Parts {
    let mut b = Request::builder()
        .method(p.method.clone())
        .uri(p.uri.clone())
        .version(p.version);
    for (k, v) in &p.headers {
        b = b.header(k, v);
    }
    match b.body(()) {
        Ok(r) => r.into_parts().0,
        Err(_) => Request::new(()).into_parts().0,
    }
}

/// Arbitrary bytes in each fuzzed header: generated by proptest, run on
/// the caller's runtime, each in its own task so a panic is caught.
async fn fuzz<A: Authenticator>(
    authenticator: Arc<A>,
    suite: &Suite,
    scheme: &bouncer_core::SchemeName,
) -> Result<(), Failure> {
    use proptest::strategy::ValueTree;

    let mut headers = suite.fuzz_headers.clone();
    headers.push(AUTHORIZATION);
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..Config::default()
    });
    let prefixes = prop_oneof![
        Just(String::new()),
        Just(format!("{scheme} ")),
        Just("Basic ".to_owned()),
        Just("Bearer ".to_owned())
    ];
    // Mostly bytes a header can carry (visible ASCII, obs-text), so the
    // authenticator is really exercised; some raw bytes too.
    let bytes = prop_oneof![
        4 => "[ -~]{0,200}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(0x20u8..=0xff, 0..200),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ];
    let strategy = (prefixes, bytes);
    for name in headers {
        for _ in 0..suite.fuzz_cases {
            let (prefix, bytes) = strategy
                .new_tree(&mut runner)
                .map_err(|e| fail("arbitrary bytes", e.to_string()))?
                .current();
            let mut value = prefix.into_bytes();
            value.extend_from_slice(&bytes);
            let Ok(v) = HeaderValue::from_bytes(&value) else {
                continue;
            };
            let Ok(req) = Request::get("/").header(name.clone(), v).body(()) else {
                continue;
            };
            let parts = req.into_parts().0;
            let a = authenticator.clone();
            let task = tokio::spawn(async move {
                let ctx = RequestContext::from_parts(&parts);
                let _ = a.recognizes(&ctx);
                matches!(a.authenticate(&ctx).await, Ok(Some(_)))
            });
            match task.await {
                Ok(false) => {}
                Ok(true) => {
                    return Err(fail(
                        "arbitrary bytes",
                        format!("header {name} with {value:?} authenticated"),
                    ));
                }
                Err(e) if e.is_panic() => {
                    return Err(fail(
                        "arbitrary bytes",
                        format!("header {name} with {value:?} panicked"),
                    ));
                }
                Err(e) => return Err(fail("arbitrary bytes", e.to_string())),
            }
        }
    }
    Ok(())
}

/// Generates `#[test]` functions running the suite.
///
/// ```text
/// bouncer_test::authenticator_conformance! {
///     name: my_scheme,
///     authenticator: MyScheme::new(),
///     suite: Suite::new().valid(...).wrong(...),
///     broken: (MyScheme::with_failing_store(), request_with_credentials()),
/// }
/// ```
#[macro_export]
macro_rules! authenticator_conformance {
    (name: $name:ident, authenticator: $auth:expr, suite: $suite:expr $(, broken: ($broken:expr, $req:expr))? $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn conformance() {
                let authenticator = $auth;
                $crate::conformance::check_blocking(authenticator, &$suite).unwrap();
            }

            $(
            #[test]
            fn backend_failure_is_a_fault() {
                $crate::conformance::check_backend_failure_blocking($broken, $req).unwrap();
            }
            )?
        }
    };
}
