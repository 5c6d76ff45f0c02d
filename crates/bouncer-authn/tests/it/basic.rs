//! Basic authentication through the gate.

use base64::Engine as _;
use bouncer_authn::basic::{BasicAuthenticator, MemoryCredentialStore, PasswordHash};
use bouncer_core::Gate;

use crate::support::{code, decide};

fn gate() -> Gate {
    let mut store = MemoryCredentialStore::new();
    store.insert("alice", PasswordHash::hash("alice-pass").unwrap());
    store.insert("grace", PasswordHash::hash("p@ss:wörd").unwrap());
    Gate::builder()
        .authenticator(BasicAuthenticator::new("api", store))
        .build()
}

fn basic(user_pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
}

#[tokio::test]
async fn users_authenticate() {
    let g = gate();
    let v = decide(&g, &[("authorization", &basic("alice:alice-pass"))]).await;
    assert!(v.decision().is_allowed());
    let v = decide(&g, &[("authorization", &basic("grace:p@ss:wörd"))]).await;
    assert!(v.decision().is_allowed(), "password with ':' and UTF-8");
    let v = decide(
        &g,
        &[(
            "authorization",
            &basic("alice:alice-pass").replace("Basic", "bAsIc"),
        )],
    )
    .await;
    assert!(v.decision().is_allowed(), "scheme is case-insensitive");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_indistinguishable() {
    let g = gate();
    let wrong = decide(&g, &[("authorization", &basic("alice:nope"))]).await;
    let unknown = decide(&g, &[("authorization", &basic("mallory:nope"))]).await;
    let (a, b) = (
        wrong.decision().denial().unwrap(),
        unknown.decision().denial().unwrap(),
    );
    assert_eq!(a.code(), "invalid_credentials");
    assert_eq!(a.status(), b.status());
    assert_eq!(a.code(), b.code());
    assert_eq!(a.problem(true), b.problem(true));
    assert_eq!(a.challenges(), b.challenges());
    assert_eq!(
        a.challenges()[0].to_string(),
        r#"Basic realm="api", charset="UTF-8""#
    );
}

#[tokio::test]
async fn malformed_basic_credentials() {
    let g = gate();
    for h in [
        "Basic",
        "Basic %%%",
        "Basic bm9jb2xvbg==",
        "Basic /w==",
        "Basic a b",
    ] {
        let v = decide(&g, &[("authorization", h)]).await;
        assert_eq!(code(&v), "malformed_credentials", "{h}");
    }
}

#[tokio::test]
async fn auth_time_is_the_gates_time() {
    use bouncer_core::{Authenticator, RequestContext};
    use std::time::{Duration, SystemTime};

    let mut store = MemoryCredentialStore::new();
    store.insert("alice", PasswordHash::hash("alice-pass").unwrap());
    let basic_auth = BasicAuthenticator::new("api", store);
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let (method, uri) = (http::Method::GET, http::Uri::from_static("/"));
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", basic("alice:alice-pass").parse().unwrap());
    let request = RequestContext::new(&method, &uri, &headers).with_now(at);
    let id = basic_auth.authenticate(&request).await.unwrap().unwrap();
    assert_eq!(id.auth_context().auth_time(), Some(at));
}
