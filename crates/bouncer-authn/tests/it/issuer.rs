//! `JwksSource::from_issuer` and `discover_issuer` against
//! `bouncer_test::auth_server::TestAuthServer`: lazy discovery, the
//! issuer checked exactly, a key rotated under the same `kid`, the 503 and
//! 401 rules.

use std::time::Duration;

use bouncer_authn::jwt::{
    discover_issuer, JwksConfig, JwksError, JwksSource, JwtAuthenticator, JwtValidation,
};
use bouncer_core::Gate;
use bouncer_test::auth_server::TestAuthServer;

use crate::support::*;

const RESOURCE: &str = "https://mcp.bouncer.test/mcp";

fn config() -> JwksConfig {
    JwksConfig::default()
        .with_allow_loopback_http(true)
        .with_unknown_kid_interval(Duration::from_millis(200))
        .with_timeout(Duration::from_secs(2))
}

fn gate(auth: &TestAuthServer) -> Gate {
    let source = JwksSource::from_issuer(&auth.issuer(), config()).unwrap();
    let validation = JwtValidation::new(auth.issuer(), RESOURCE).require_at_jwt();
    Gate::builder()
        .authenticator(JwtAuthenticator::from_jwks("api", source, validation).token_cache(64))
        .build()
}

async fn status(gate: &Gate, token: &str) -> (u16, &'static str) {
    let v = decide(gate, &[("authorization", &format!("Bearer {token}"))]).await;
    (v.decision().status().as_u16(), code(&v))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_source_fetches_lazily_and_follows_a_rotation_under_the_same_kid() {
    let mut auth = TestAuthServer::new().unwrap();
    let gate = gate(&auth);
    let first = auth.access_token("svc", RESOURCE, "");
    assert_eq!(status(&gate, &first).await, (503, "service_unavailable"));

    auth.start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(status(&gate, &first).await, (200, "allow"));

    auth.rotate_key().unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = auth.access_token("svc", RESOURCE, "");
    assert_eq!(status(&gate, &second).await, (200, "allow"));
    tokio::time::sleep(Duration::from_millis(250)).await;
    // The cached verdict for the old token went with the old key set.
    assert_eq!(status(&gate, &first).await, (401, "invalid_token"));
}

#[tokio::test]
async fn discovery_takes_rfc_8414_then_openid_and_checks_the_issuer_exactly() {
    for mut auth in [
        TestAuthServer::new().unwrap(),
        TestAuthServer::openid_only().unwrap(),
    ] {
        auth.start().await.unwrap();
        let meta = discover_issuer(&auth.issuer(), &config()).await.unwrap();
        assert_eq!(meta.issuer, auth.issuer());
        assert_eq!(meta.jwks_uri, format!("{}/jwks", auth.issuer()));
        // One character off (a trailing slash) is another issuer.
        let other = format!("{}/", auth.issuer());
        assert!(matches!(
            discover_issuer(&other, &config()).await,
            Err(JwksError::Metadata { .. })
        ));
        // Plain http without the loopback opt-in is refused before any fetch.
        assert!(matches!(
            discover_issuer(&auth.issuer(), &JwksConfig::default()).await,
            Err(JwksError::InsecureUrl(_))
        ));
        assert!(matches!(
            JwksSource::from_issuer(&auth.issuer(), JwksConfig::default()),
            Err(JwksError::InsecureUrl(_))
        ));
    }
}
