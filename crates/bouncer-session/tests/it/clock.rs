//! Sessions judge time by the gate's clock and the service's clock, never
//! by the system's: the fake clock below sits years before the system time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bouncer_authn::basic::{MemoryCredentialStore, PasswordHash, PasswordVerifierHandle};
use bouncer_core::{
    Authenticator, Caller, Decision, Gate, RequestContext, Requirement, StepUp, Verdict,
};
use bouncer_session::{
    LoginError, MemoryMfaDirectory, MemorySessionStore, SessionConfig, Sessions, TotpSecret,
    MFA_ACR,
};
use http::{HeaderMap, HeaderValue, Method, Uri};

const START: u64 = 1_700_000_000;
const SECRET: &str = "JBSWY3DPEHPK3PXP";

/// A clock the test moves by hand.
#[derive(Clone)]
struct FakeClock(Arc<Mutex<SystemTime>>);

impl FakeClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(START),
        )))
    }

    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn secs(&self) -> u64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn reader(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}

fn sessions(clock: &FakeClock) -> Sessions {
    let mut passwords = MemoryCredentialStore::new();
    passwords.insert("alice", PasswordHash::hash("alice-pass").unwrap());
    passwords.insert("erin", PasswordHash::hash("erin-pass").unwrap());
    let mut mfa = MemoryMfaDirectory::new();
    mfa.insert("erin", TotpSecret::from_base32(SECRET).unwrap());
    let store = Arc::new(MemorySessionStore::new().clock(clock.reader()));
    Sessions::new(
        store.clone(),
        store,
        PasswordVerifierHandle::new(passwords),
        Arc::new(mfa),
        SessionConfig::default(),
    )
    .clock(clock.reader())
}

/// The `Cookie` header for a `Set-Cookie` value.
fn cookie(set_cookie: &HeaderValue) -> HeaderMap {
    let pair = set_cookie.to_str().unwrap().split(';').next().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("cookie", pair.parse().unwrap());
    headers
}

async fn decide(gate: &Gate, headers: &HeaderMap) -> Verdict {
    let (method, uri) = (Method::GET, Uri::from_static("/"));
    gate.decide(
        &RequestContext::new(&method, &uri, headers),
        &Requirement::authenticated(),
    )
    .await
}

fn code(v: &Verdict) -> &'static str {
    match v.decision().denial() {
        None => "allow",
        Some(d) => d.code().as_str(),
    }
}

#[tokio::test]
async fn a_session_idles_out_at_the_gates_time_not_the_systems() {
    let clock = FakeClock::new();
    let sessions = sessions(&clock);
    let gate = Gate::builder()
        .authenticator(sessions.authenticator())
        .clock(clock.reader())
        .build();
    let login = sessions
        .login(&HeaderMap::new(), "alice", "alice-pass", None)
        .await
        .unwrap();
    assert!(!login.mfa_pending);
    let headers = cookie(&login.set_cookie);

    // Years before the system time: the system clock would call the
    // session long dead.
    assert_eq!(code(&decide(&gate, &headers).await), "allow");
    // Used again 29 minutes later: still alive, and its idle time restarts.
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(code(&decide(&gate, &headers).await), "allow");
    // 31 idle minutes by the gate's clock, a moment by the system's.
    clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(code(&decide(&gate, &headers).await), "session_invalid");
}

#[tokio::test]
async fn a_totp_code_is_judged_at_the_session_clocks_time() {
    let clock = FakeClock::new();
    let sessions = sessions(&clock);
    let secret = TotpSecret::from_base32(SECRET).unwrap();
    let gate = Gate::builder()
        .authenticator(sessions.authenticator())
        .clock(clock.reader())
        .build();

    let login = sessions
        .login(&HeaderMap::new(), "erin", "erin-pass", None)
        .await
        .unwrap();
    assert!(login.mfa_pending);
    let pending = cookie(&login.set_cookie);
    assert_eq!(code(&decide(&gate, &pending).await), "mfa_required");

    // The code of the system's time is not the code of the session's.
    let system = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let wrong = secret.code_at(system);
    if wrong != secret.code_at(clock.secs()) {
        let e = sessions.complete_mfa(&pending, &wrong).await.unwrap_err();
        assert!(matches!(e, LoginError::Unauthenticated(_)), "{e:?}");
    }

    let done = sessions
        .complete_mfa(&pending, &secret.code_at(clock.secs()))
        .await
        .unwrap();
    let v = decide(&gate, &cookie(&done)).await;
    let Decision::Allow(Caller::Authenticated(identity)) = v.decision() else {
        panic!("{:?}", v.decision());
    };
    assert_eq!(identity.auth_context().auth_time(), Some(clock.now()));
    assert_eq!(identity.auth_context().acr(), Some(MFA_ACR));
}

#[test]
fn a_session_can_meet_a_step_up_it_can_carry() {
    let clock = FakeClock::new();
    let auth = sessions(&clock).authenticator();
    assert!(auth.supports_step_up(&StepUp::new().max_age(Duration::from_secs(300))));
    assert!(auth.supports_step_up(&StepUp::new().acr([MFA_ACR])));
    assert!(auth.supports_step_up(&StepUp::new().amr(["mfa"])));
    assert!(!auth.supports_step_up(&StepUp::new().acr(["urn:example:acr:hardware"])));
    assert!(!auth.supports_step_up(&StepUp::new().amr(["hwk"])));
}
