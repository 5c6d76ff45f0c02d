//! The custom scheme through bouncer's conformance suite, a property test
//! of its policy, and the app over oneshot requests.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../custom_authenticator/main.rs"]
#[allow(dead_code)]
mod demo;

use demo::auth;

use async_trait::async_trait;
use axum::body::Body;
use bouncer_core::Fault;
use bouncer_test::conformance::Suite;
use bouncer_test::matrix::StatusMatrix;
use proptest::prelude::*;

const SECRET: &[u8] = b"reporter-secret-0123456789abcdef";
const NOW: u64 = 1_800_000_000;

fn fixed_clock() -> u64 {
    NOW
}

fn signed(method: &str, path: &str, ts: u64, secret: &[u8]) -> http::Request<()> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header(
            "x-signature",
            auth::header_value("reporter", secret, method, path, ts),
        )
        .body(())
        .unwrap()
}

fn scheme() -> auth::SignedRequests<auth::MemorySecrets> {
    auth::SignedRequests::with_clock(demo::demo_secrets(), fixed_clock)
}

struct DownSecrets;
#[async_trait]
impl auth::ClientSecrets for DownSecrets {
    async fn secret(&self, _: &str) -> Result<Option<Vec<u8>>, Fault> {
        Err(Fault::unavailable(
            "secret store",
            std::time::Duration::from_secs(3),
            "connection refused",
        ))
    }
}

bouncer_test::authenticator_conformance! {
    name: hmac_signatures,
    authenticator: scheme(),
    suite: Suite::new()
        .valid(signed("GET", "/reports", NOW, SECRET))
        .wrong(signed("GET", "/reports", NOW, b"not-the-secret"))
        .wrong(signed("GET", "/reports", NOW - 3600, SECRET))
        .wrong(http::Request::get("/").header("x-signature", "client=nobody, ts=1800000000, sig=00").body(()).unwrap())
        .fuzz_header("x-signature"),
    broken: (auth::SignedRequests::with_clock(DownSecrets, fixed_clock), signed("GET", "/reports", NOW, SECRET)),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A signature is good for its own method, path and time only.
    #[test]
    fn a_signature_never_transfers(
        method in prop_oneof![Just("GET"), Just("POST"), Just("DELETE")],
        path in "/[a-z]{1,8}(\\?[a-z]=[0-9])?",
        other_path in "/[a-z]{1,8}",
        skew in 0u64..600,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let a = scheme();
        let ts = NOW - skew;
        let header = auth::header_value("reporter", SECRET, method, &path, ts);
        let send = |m: &str, p: &str| {
            let req = http::Request::builder().method(m).uri(p).header("x-signature", header.clone()).body(()).unwrap();
            let parts = req.into_parts().0;
            rt.block_on(async { bouncer_core::Authenticator::authenticate(&a, &bouncer_core::RequestContext::from_parts(&parts)).await.ok().flatten().is_some() })
        };
        if other_path != path {
            prop_assert!(!send(method, &other_path), "moved to another path");
        }
        let first = send(method, &path);
        prop_assert_eq!(first, skew <= auth::WINDOW.as_secs(), "fresh signatures pass, stale ones do not");
        prop_assert!(!send(method, &path), "a replay never passes");
    }
}

#[tokio::test]
async fn the_app_answers_the_contract() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let with_sig = |client: &str, secret: &[u8]| {
        http::Request::get("/reports")
            .header(
                "x-signature",
                auth::header_value(client, secret, "GET", "/reports", now),
            )
            .body(Body::empty())
            .unwrap()
    };
    let basic = |up: &str| {
        use base64::Engine as _;
        let v = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(up)
        );
        http::Request::get("/reports")
            .header("authorization", v)
            .body(Body::empty())
            .unwrap()
    };
    StatusMatrix::new()
        .row(
            "anonymous",
            http::Request::get("/reports").body(Body::empty()).unwrap(),
            401,
            Some("missing_credentials"),
        )
        .row("signed reporter", with_sig("reporter", SECRET), 200, None)
        .row(
            "signed, wrong secret",
            with_sig("reporter", b"nope"),
            401,
            Some("invalid_credentials"),
        )
        .row(
            "signed intruder (no role)",
            with_sig("intruder", b"intruder-secret-0123456789abcdef"),
            403,
            Some("insufficient_permission"),
        )
        .row("basic ops", basic("ops:ops-pass"), 200, None)
        .row(
            "basic wrong",
            basic("ops:nope"),
            401,
            Some("invalid_credentials"),
        )
        .run(demo::app().unwrap())
        .await
        .unwrap();
}
