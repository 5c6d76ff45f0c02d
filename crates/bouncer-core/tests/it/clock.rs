//! One clock: the gate reads its clock once per decision and every stage
//! sees that reading as `RequestContext::now`; step-up freshness is judged
//! at the same instant.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bouncer_core::*;
use http::Request;

/// Far from the machine's clock, so a stage that read the system time
/// instead of the gate's would be caught.
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000)
}

/// A clock a test moves by hand.
#[derive(Default)]
struct Manual(AtomicU64);

impl Manual {
    fn set(&self, t: SystemTime) {
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        self.0.store(secs, Ordering::SeqCst);
    }
}

impl Clock for Manual {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

/// Records the time each stage was shown; its identities authenticated
/// (with MFA) 100 s before the request's time.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(&'static str, SystemTime)>>,
}

impl Recorder {
    fn saw(&self, stage: &'static str, r: &RequestContext<'_>) {
        self.seen.lock().unwrap().push((stage, r.now()));
    }
    fn take(&self) -> Vec<(&'static str, SystemTime)> {
        std::mem::take(&mut self.seen.lock().unwrap())
    }
}

#[async_trait]
impl Authenticator for Recorder {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }
    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("authorization")
    }
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        self.saw("authn", r);
        let auth = AuthContext::new()
            .with_amr(["mfa"])
            .with_auth_time(r.now() - Duration::from_secs(100));
        Ok(Some(
            Identity::user("al", SchemeName::BEARER).with_auth_context(auth),
        ))
    }
    fn challenge(&self, ctx: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let mut b = Challenge::bearer().realm("clock");
        if let Some(ctx) = ctx {
            b = b.maybe_error(BearerError::for_reason(ctx.reason));
            if let Some(age) = ctx.step_up.and_then(StepUp::max_age_limit) {
                b = b.max_age(age);
            }
        }
        b.build().ok()
    }
}

impl RequestGuard for Recorder {
    fn check(&self, r: &RequestContext<'_>) -> Result<(), AccessError> {
        self.saw("guard", r);
        Ok(())
    }
}

#[async_trait]
impl Authorizer for Recorder {
    async fn authorize(
        &self,
        _: &Authenticated,
        r: &RequestContext<'_>,
        _: &Requirement,
    ) -> Result<(), AccessError> {
        self.saw("authz", r);
        Ok(())
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn gate(recorder: &Arc<Recorder>, clock: impl Clock) -> Gate {
    Gate::builder()
        .guard(recorder.clone())
        .authenticator(recorder.clone())
        .authorizer(recorder.clone())
        .clock(clock)
        .build()
}

fn parts() -> http::request::Parts {
    Request::get("/x")
        .header("authorization", "Bearer t")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

#[test]
fn every_stage_sees_the_gates_time_not_the_callers_or_the_systems() {
    let rec = Arc::new(Recorder::default());
    let g = gate(&rec, t0);
    let parts = parts();
    // A time set by the caller is replaced by the gate's.
    let request = RequestContext::from_parts(&parts).with_now(SystemTime::now());
    let req = Requirement::authenticated().permission("p");
    rt().block_on(async {
        assert!(g.decide(&request, &req).await.decision().is_allowed());
        let proof = g.guard(&request).unwrap();
        assert!(g
            .decide_guarded(proof, &request, &req)
            .await
            .decision()
            .is_allowed());
    });
    let seen = rec.take();
    let stages: Vec<_> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        stages,
        ["guard", "authn", "authz", "guard", "authn", "authz"]
    );
    assert!(seen.iter().all(|(_, t)| *t == t0()), "{seen:?}");
    assert_eq!(g.now(), t0());
}

#[test]
fn one_reading_per_decision() {
    let rec = Arc::new(Recorder::default());
    let reads = Arc::new(AtomicU64::new(0));
    let counted = reads.clone();
    let g = gate(&rec, move || {
        let n = counted.fetch_add(1, Ordering::SeqCst);
        t0() + Duration::from_secs(n)
    });
    let parts = parts();
    let req = Requirement::authenticated().permission("p");
    let v = rt().block_on(g.decide(&RequestContext::from_parts(&parts), &req));
    assert!(v.decision().is_allowed());
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert!(rec.take().iter().all(|(_, t)| *t == t0()));
}

#[test]
fn step_up_max_age_is_judged_at_the_gates_time() {
    let rec = Arc::new(Recorder::default());
    let clock = Arc::new(Manual::default());
    clock.set(t0());
    let g = gate(&rec, clock.clone());
    let parts = parts();
    let request = RequestContext::from_parts(&parts);
    let fresh = Requirement::authenticated()
        .step_up(StepUp::new().amr(["mfa"]).max_age(Duration::from_secs(300)));
    let strict = Requirement::authenticated()
        .step_up(StepUp::new().amr(["mfa"]).max_age(Duration::from_secs(60)));
    rt().block_on(async {
        // auth_time is 100 s before the gate's time, whatever that is.
        let v = g.decide(&request, &fresh).await;
        assert!(v.decision().is_allowed(), "{}", v.trace());
        let v = g.decide(&request, &strict).await;
        let d = v.decision().denial().unwrap();
        assert_eq!(d.code(), "mfa_required");
        assert_eq!(d.challenges()[0].get("max_age"), Some("60"));
        // Moving the gate's clock moves the whole decision with it.
        clock.set(t0() + Duration::from_secs(86_400));
        assert!(g.decide(&request, &fresh).await.decision().is_allowed());
    });
    assert_eq!(g.now(), t0() + Duration::from_secs(86_400));
}

#[test]
fn the_default_clock_is_the_system_clock() {
    let g = Gate::builder().build();
    let before = SystemTime::now();
    let now = g.now();
    assert!(now >= before && now <= SystemTime::now());
    let shared: Arc<dyn Clock> = Arc::new(SystemClock);
    assert!(shared.now() >= before);
}
