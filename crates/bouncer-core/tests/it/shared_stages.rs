//! Stages handed to the gate shared (`Arc`) or boxed, through the same
//! builder methods as owned ones: the traits are implemented for `Arc<T>`
//! and `Box<T>`, `T` a concrete type or a trait object.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bouncer_core::*;
use http::Request;

/// Counts its calls, so a test can see the gate used this very instance.
#[derive(Default)]
struct Counting {
    authenticated: AtomicUsize,
    checked: AtomicUsize,
    looked_up: AtomicUsize,
    authorized: AtomicUsize,
}

#[async_trait]
impl Authenticator for Counting {
    fn scheme(&self) -> SchemeName {
        SchemeName::API_KEY
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("x-api-key")
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        self.authenticated.fetch_add(1, Ordering::SeqCst);
        match r.headers().get("x-api-key").map(|v| v.as_bytes()) {
            None => Ok(None),
            Some(b"good") => Ok(Some(Identity::service("svc", SchemeName::API_KEY))),
            Some(_) => Err(AuthnReason::InvalidCredentials.into()),
        }
    }
    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        Challenge::new("ApiKey")
            .and_then(|c| c.param("realm", "shared"))
            .ok()
    }
}

impl RequestGuard for Counting {
    fn check(&self, r: &RequestContext<'_>) -> Result<(), AccessError> {
        self.checked.fetch_add(1, Ordering::SeqCst);
        if r.path().starts_with("/.") {
            Err(ForbiddenReason::BlockedPath.into())
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl AccountDirectory for Counting {
    async fn state(&self, _: &Identity) -> Result<AccountState, Fault> {
        self.looked_up.fetch_add(1, Ordering::SeqCst);
        Ok(AccountState::Active)
    }
}

#[async_trait]
impl Authorizer for Counting {
    async fn authorize(
        &self,
        _: &Authenticated,
        _: &RequestContext<'_>,
        r: &Requirement,
    ) -> Result<(), AccessError> {
        self.authorized.fetch_add(1, Ordering::SeqCst);
        match r.required_permission() {
            Some("denied") => Err(ForbiddenReason::InsufficientPermission.into()),
            _ => Ok(()),
        }
    }
}

async fn decide(gate: &Gate, path: &str, key: Option<&str>, req: &Requirement) -> Verdict {
    let mut b = Request::get(path);
    if let Some(k) = key {
        b = b.header("x-api-key", k);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    gate.decide(&RequestContext::from_parts(&parts), req).await
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn one_shared_instance_serves_every_stage_of_two_gates() {
    let shared = Arc::new(Counting::default());
    let gate = |s: &Arc<Counting>| {
        Gate::builder()
            .guard(s.clone())
            .authenticator(s.clone())
            .accounts(s.clone())
            .authorizer(s.clone())
            .build()
    };
    let (a, b) = (gate(&shared), gate(&shared));
    rt().block_on(async {
        let req = Requirement::authenticated().permission("p");
        assert!(decide(&a, "/x", Some("good"), &req)
            .await
            .decision()
            .is_allowed());
        assert!(decide(&b, "/x", Some("good"), &req)
            .await
            .decision()
            .is_allowed());
        let v = decide(&a, "/x", Some("bad"), &req).await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.code(), "invalid_credentials");
        assert_eq!(d.challenges()[0].to_string(), r#"ApiKey realm="shared""#);
        let v = decide(&b, "/.env", None, &req).await;
        assert_eq!(v.decision().denial().unwrap().code(), "blocked_path");
        let v = decide(
            &b,
            "/x",
            Some("good"),
            &Requirement::authenticated().permission("denied"),
        )
        .await;
        assert_eq!(
            v.decision().denial().unwrap().code(),
            "insufficient_permission"
        );
    });
    assert_eq!(shared.checked.load(Ordering::SeqCst), 5);
    assert_eq!(shared.authenticated.load(Ordering::SeqCst), 4);
    assert_eq!(shared.looked_up.load(Ordering::SeqCst), 3);
    assert_eq!(shared.authorized.load(Ordering::SeqCst), 3);
    // Two gates of four stages each, and the test's own handle.
    assert_eq!(Arc::strong_count(&shared), 9);
}

#[test]
fn trait_objects_shared_or_boxed_are_stages_too() {
    let counting = Arc::new(Counting::default());
    let authn: Arc<dyn Authenticator> = counting.clone();
    let guard: Box<dyn RequestGuard> = Box::new(Counting::default());
    let accounts: Arc<dyn AccountDirectory> = counting.clone();
    let authz: Box<dyn Authorizer> = Box::new(Counting::default());
    let gate = Gate::builder()
        .guard(guard)
        .authenticator(authn.clone())
        .accounts(accounts)
        .authorizer(authz)
        .build();
    // The forwarding impls keep the pointee's scheme and challenge.
    assert_eq!(authn.scheme(), SchemeName::API_KEY);
    assert_eq!(gate.authenticators()[0].scheme(), SchemeName::API_KEY);
    rt().block_on(async {
        let v = decide(&gate, "/x", Some("good"), &Requirement::authenticated()).await;
        assert!(v.decision().is_allowed(), "{}", v.trace());
        let v = decide(&gate, "/x", None, &Requirement::authenticated()).await;
        assert_eq!(v.decision().denial().unwrap().code(), "missing_credentials");
    });
    assert_eq!(counting.authenticated.load(Ordering::SeqCst), 1);
    assert_eq!(counting.looked_up.load(Ordering::SeqCst), 1);
}
