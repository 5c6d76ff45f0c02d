//! # bouncer-session
//!
//! Cookie sessions with a TOTP second factor, and login throttling: an
//! application service built on bouncer's schemes and stores, not a
//! credential scheme of its own. Its [`SessionAuthenticator`] plugs into the
//! gate like any other [`Authenticator`]; sessions and counters live in a
//! `bouncer-store` [`SessionStore`] / [`CounterStore`] (memory, or Redis
//! through `bouncer-redis` for several instances).
//!
//!
//! - `POST /login` (your handler) calls [`Sessions::login`]: password check
//!   (same answer and timing for unknown users), account state, throttling;
//!   a new session id from the OS CSPRNG (256 bits), stored only as its
//!   SHA-256. With a second factor enrolled the session starts *MFA
//!   pending*: the [`SessionAuthenticator`] answers `mfa_required` on every
//!   protected route until [`Sessions::complete_mfa`] accepts a code.
//! - Completing MFA issues a **new** id (no fixation) and records `amr` and
//!   `auth_time`, so step-up requirements work for sessions too.
//! - Idle and absolute timeouts; [`Sessions::logout`] ends the session in
//!   the store, so every instance sharing it sees the logout at once.
//! - Unknown, expired or ended sessions are `session_invalid`.
//!
//! ## Time
//!
//! The [`SessionAuthenticator`] judges timeouts at the gate's time
//! ([`RequestContext::now`], one reading of the gate's
//! [`Clock`] per decision). [`Sessions::login`] and
//! [`Sessions::complete_mfa`] run outside a decision, so they read the
//! service's own clock, [`Sessions::clock`] (the system clock by default):
//! it stamps `created_at`, `last_seen` and `auth_time`, and judges TOTP
//! codes. Give the gate, the service and a memory store the same clock.
//!
//! ## Throttling, and why it cannot lock a user out
//!
//! Failed logins are counted per *(user name, client address)* pair and
//! per client address, in the same store as the sessions. After
//! [`ThrottleConfig::per_pair`] failures of one pair within the window, that
//! pair gets 429 with `Retry-After` until the window ends (5 minutes by
//! default); a client address with [`ThrottleConfig::per_address`] failures
//! is slowed the same way for every user name (password spraying). A
//! stranger guessing from elsewhere exhausts only their own pair and
//! address, never the real user's, and every lock ends with its window.
//! The check runs before the password hash, so throttled attempts cost
//! nothing.

mod totp;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine as _;
use bouncer_core::{
    AccountDirectory, AccountState, AuthContext, Authenticator, AuthnError, AuthnReason, Challenge,
    ChallengeContext, Clock, Code, CredentialInfo, Denial, Fault, Forbidden, ForbiddenReason, Gate,
    Identity, RequestContext, Requirement, SchemeName, StepUp, SystemClock, Unauthenticated,
};
use cookie::{Cookie, SameSite};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue, StatusCode};

pub use bouncer_store::{
    CounterStore, MemorySessionStore, SessionRecord, SessionState, SessionStore,
};
pub use totp::{MemoryMfaDirectory, MfaDirectory, TotpSecret, TotpSecretError, STEP as TOTP_STEP};

use bouncer_authn::basic::PasswordVerifierHandle;
use sha2::{Digest, Sha256};

/// Seconds since the epoch of `t` (0 before it).
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The session cookie's name.
pub const COOKIE_NAME: &str = "bouncer_session";

/// The `acr` a session gets once its second factor is verified.
pub const MFA_ACR: &str = "urn:logto:acr:mfa";

/// Failed-login limits: read with the getters, set with the `with_*`
/// builder methods.
///
/// ```
/// use std::time::Duration;
/// use bouncer_session::ThrottleConfig;
///
/// let t = ThrottleConfig::default().with_per_pair(3).with_window(Duration::from_secs(60));
/// assert_eq!((t.per_pair(), t.per_address()), (3, 50));
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ThrottleConfig {
    per_pair: u64,
    per_address: u64,
    window: Duration,
}

impl ThrottleConfig {
    /// Failures of one (user, address) pair before 429 (default 5).
    pub fn per_pair(&self) -> u64 {
        self.per_pair
    }

    /// Failures from one address, any user, before 429 (default 50).
    pub fn per_address(&self) -> u64 {
        self.per_address
    }

    /// How long failures are remembered, and the longest lock (default 5
    /// minutes).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Sets [`per_pair`](Self::per_pair).
    pub fn with_per_pair(mut self, failures: u64) -> Self {
        self.per_pair = failures;
        self
    }

    /// Sets [`per_address`](Self::per_address).
    pub fn with_per_address(mut self, failures: u64) -> Self {
        self.per_address = failures;
        self
    }

    /// Sets [`window`](Self::window).
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            per_pair: 5,
            per_address: 50,
            window: Duration::from_secs(300),
        }
    }
}

/// Session settings: read with the getters, set with the `with_*` builder
/// methods.
///
/// ```
/// use std::time::Duration;
/// use bouncer_session::SessionConfig;
///
/// let c = SessionConfig::default()
///     .with_secure_cookie(true)
///     .with_idle_timeout(Duration::from_secs(600));
/// assert!(c.secure_cookie());
/// assert_eq!(c.absolute_timeout(), Duration::from_secs(12 * 3600));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    idle_timeout: Duration,
    absolute_timeout: Duration,
    max_mfa_failures: u32,
    secure_cookie: bool,
    throttle: ThrottleConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            max_mfa_failures: 5,
            secure_cookie: false,
            throttle: ThrottleConfig::default(),
        }
    }
}

impl SessionConfig {
    /// A session unused this long ends (default 30 minutes).
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// A session ends this long after login, however used (default 12 h).
    pub fn absolute_timeout(&self) -> Duration {
        self.absolute_timeout
    }

    /// Wrong codes before a pending session ends (default 5).
    pub fn max_mfa_failures(&self) -> u32 {
        self.max_mfa_failures
    }

    /// Whether the cookie is sent with `Secure` (default `false`; set it
    /// when served over HTTPS).
    pub fn secure_cookie(&self) -> bool {
        self.secure_cookie
    }

    /// The failed-login limits.
    pub fn throttle(&self) -> ThrottleConfig {
        self.throttle
    }

    /// Sets [`secure_cookie`](Self::secure_cookie).
    pub fn with_secure_cookie(mut self, secure: bool) -> Self {
        self.secure_cookie = secure;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Sets [`absolute_timeout`](Self::absolute_timeout).
    pub fn with_absolute_timeout(mut self, absolute: Duration) -> Self {
        self.absolute_timeout = absolute;
        self
    }

    /// Sets both timeouts.
    pub fn with_timeouts(self, idle: Duration, absolute: Duration) -> Self {
        self.with_idle_timeout(idle).with_absolute_timeout(absolute)
    }

    /// Sets [`max_mfa_failures`](Self::max_mfa_failures).
    pub fn with_max_mfa_failures(mut self, failures: u32) -> Self {
        self.max_mfa_failures = failures;
        self
    }

    /// Sets the throttling limits.
    pub fn with_throttle(mut self, throttle: ThrottleConfig) -> Self {
        self.throttle = throttle;
        self
    }
}

/// A successful login.
#[derive(Debug)]
pub struct Login {
    /// The `Set-Cookie` value (marked sensitive).
    pub set_cookie: HeaderValue,
    /// Whether the session still needs the second factor.
    pub mfa_pending: bool,
}

/// Why a login or MFA step failed, in the gate's vocabulary: each variant
/// has its [`Code`] and status, as a [`Denial`] does, and
/// [`into_denial`](Self::into_denial) turns it into the gate's answer.
/// `Display` gives status and code (never a credential); a fault keeps its
/// source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// 401: bad credentials, bad code, no session.
    #[error("401 {0}")]
    Unauthenticated(Unauthenticated),
    /// 403: the account may not log in.
    #[error("403 {0}: {desc}", desc = .0.description())]
    Forbidden(ForbiddenReason),
    /// 429: too many failures; retry after this long.
    #[error("429 {code}: {desc} (retry after {secs} s)", code = Code::TooManyRequests, desc = Code::TooManyRequests.description(), secs = .0.as_secs())]
    Throttled(Duration),
    /// 500/503.
    #[error("{status} {0}", status = .0.status().as_u16())]
    Fault(#[from] Fault),
}

impl From<AuthnError> for LoginError {
    fn from(e: AuthnError) -> Self {
        match e {
            AuthnError::Unauthenticated(r) => Self::Unauthenticated(r),
            AuthnError::Fault(f) => Self::Fault(f),
            other => Self::Fault(Fault::internal(
                "unexpected authentication error",
                format!("{other:?}"),
            )),
        }
    }
}

impl LoginError {
    /// The code sent as `code` in the problem body.
    pub fn code(&self) -> Code {
        match self {
            Self::Unauthenticated(r) => Code::Authn(r.reason()),
            Self::Forbidden(reason) => Code::Forbidden(*reason),
            Self::Throttled(_) => Code::TooManyRequests,
            Self::Fault(f) => f.code(),
        }
    }

    /// The HTTP status under the default profile (a gate with
    /// [`Profile::StrictRfc6750`](bouncer_core::Profile::StrictRfc6750)
    /// may answer a malformed credential with 400:
    /// [`into_denial`](Self::into_denial) gives the gate's own status).
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// The denial to answer with: a 401 carries the challenges of
    /// `requirement`'s schemes, as anywhere else.
    pub fn into_denial(
        self,
        gate: &Gate,
        requirement: &Requirement,
        scheme: &SchemeName,
    ) -> Denial {
        match self {
            Self::Unauthenticated(r) => gate.reject(requirement, Some(scheme), r),
            Self::Forbidden(reason) => Denial::forbidden(Forbidden::new(reason)),
            Self::Throttled(after) => Denial::TooManyRequests(after),
            Self::Fault(f) => Denial::Fault(f),
        }
    }
}

/// Session ids: 32 bytes from the OS CSPRNG, base64url.
fn new_session_id() -> Result<String, Fault> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Fault::internal("the OS random generator failed", e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The store key of a session id: its SHA-256, never the id.
fn store_key(id: &str) -> String {
    format!("session:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

/// The session id in a request's cookies, if any.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

struct Shared {
    store: Arc<dyn SessionStore>,
    counters: Arc<dyn CounterStore>,
    passwords: PasswordVerifierHandle,
    mfa: Arc<dyn MfaDirectory>,
    accounts: Option<Arc<dyn AccountDirectory>>,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

/// The session service: login, MFA, logout, and the authenticator.
/// Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    shared: Arc<Shared>,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// Sessions in `store`, counters in `counters` (often the same object),
    /// passwords checked by `passwords`, second factors from `mfa`.
    pub fn new(
        store: Arc<dyn SessionStore>,
        counters: Arc<dyn CounterStore>,
        passwords: PasswordVerifierHandle,
        mfa: Arc<dyn MfaDirectory>,
        config: SessionConfig,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                counters,
                passwords,
                mfa,
                accounts: None,
                config,
                clock: Arc::new(SystemClock),
            }),
        }
    }

    /// A copy of the shared state with `change` applied.
    fn changed(self, change: impl FnOnce(&mut Shared)) -> Self {
        let s = &self.shared;
        let mut shared = Shared {
            store: s.store.clone(),
            counters: s.counters.clone(),
            passwords: s.passwords.clone(),
            mfa: s.mfa.clone(),
            accounts: s.accounts.clone(),
            config: s.config.clone(),
            clock: s.clock.clone(),
        };
        change(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Refuses logins of suspended or disabled accounts (403).
    pub fn with_accounts(self, accounts: Arc<dyn AccountDirectory>) -> Self {
        self.changed(|s| s.accounts = Some(accounts))
    }

    /// Reads the time of [`login`](Self::login) and
    /// [`complete_mfa`](Self::complete_mfa) — session timestamps, TOTP
    /// codes — from `clock` instead of the system clock. Give it the gate's
    /// clock: the [`SessionAuthenticator`] judges timeouts at the gate's
    /// time ([`RequestContext::now`]).
    pub fn clock(self, clock: impl Clock) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(clock);
        self.changed(|s| s.clock = clock)
    }

    /// The service's time, in seconds since the epoch.
    fn now(&self) -> u64 {
        unix_secs(self.shared.clock.now())
    }

    /// The authenticator for session cookies.
    pub fn authenticator(&self) -> SessionAuthenticator {
        SessionAuthenticator {
            sessions: self.clone(),
        }
    }

    fn ttl(&self, record: &SessionRecord, now: u64) -> Duration {
        let c = &self.shared.config;
        let lived = Duration::from_secs(now.saturating_sub(record.created_at));
        c.idle_timeout
            .min(c.absolute_timeout.saturating_sub(lived))
            .max(Duration::from_secs(1))
    }

    fn cookie(&self, id: &str) -> HeaderValue {
        let c = &self.shared.config;
        let max_age = i64::try_from(c.absolute_timeout.as_secs()).unwrap_or(i64::MAX);
        let cookie = Cookie::build((COOKIE_NAME, id.to_owned()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(c.secure_cookie)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build();
        sensitive(&cookie.to_string())
    }

    /// The `Set-Cookie` that removes the session cookie.
    pub fn removal_cookie(&self) -> HeaderValue {
        let cookie = Cookie::build((COOKIE_NAME, ""))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.shared.config.secure_cookie)
            .max_age(cookie::time::Duration::ZERO)
            .build();
        sensitive(&cookie.to_string())
    }

    async fn check_throttle(&self, pair: &str, address: &str) -> Result<(), LoginError> {
        let t = self.shared.config.throttle;
        let (n, left) = self.shared.counters.count(pair).await?;
        if n >= t.per_pair {
            return Err(LoginError::Throttled(left.max(Duration::from_secs(1))));
        }
        let (n, left) = self.shared.counters.count(address).await?;
        if n >= t.per_address {
            return Err(LoginError::Throttled(left.max(Duration::from_secs(1))));
        }
        Ok(())
    }

    /// Logs `user` in with `password` from `client`. Any session cookie
    /// already in `headers` is ended first (no fixation).
    pub async fn login(
        &self,
        headers: &HeaderMap,
        user: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Login, LoginError> {
        let s = &self.shared;
        let address = client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let user_key: String = user.chars().take(256).collect();
        let pair_key = format!("login-failures:{address}:{user_key}");
        let address_key = format!("login-failures:{address}");
        self.check_throttle(&pair_key, &address_key).await?;

        let subject = match s.passwords.verify(user, password).await {
            Ok(subject) => subject,
            Err(AuthnError::Unauthenticated(r)) => {
                let w = s.config.throttle.window;
                s.counters.increment(&pair_key, w).await?;
                s.counters.increment(&address_key, w).await?;
                return Err(LoginError::Unauthenticated(r));
            }
            Err(e) => return Err(e.into()),
        };
        s.counters.reset(&pair_key).await?;
        if let Some(accounts) = &s.accounts {
            let probe = Identity::user(subject.clone(), SchemeName::SESSION);
            if accounts.state(&probe).await? != AccountState::Active {
                return Err(LoginError::Forbidden(ForbiddenReason::AccountSuspended));
            }
        }
        if let Some(old) = session_id(headers) {
            s.store.delete(&store_key(&old)).await?;
        }
        let mfa_pending = s.mfa.totp(&subject).await?.is_some();
        let now = self.now();
        let record = SessionRecord {
            subject,
            state: if mfa_pending {
                SessionState::MfaPending
            } else {
                SessionState::Complete
            },
            created_at: now,
            last_seen: now,
            auth_time: now,
            amr: vec!["pwd".to_owned()],
            mfa_failures: 0,
        };
        let id = new_session_id()?;
        s.store
            .put(&store_key(&id), &record, self.ttl(&record, now))
            .await?;
        Ok(Login {
            set_cookie: self.cookie(&id),
            mfa_pending,
        })
    }

    /// Completes the second factor of the pending session in `headers`
    /// with `code`. On success the session gets a new id (the returned
    /// `Set-Cookie`); a wrong or replayed code is `invalid_credentials`,
    /// and after too many the pending session ends.
    pub async fn complete_mfa(
        &self,
        headers: &HeaderMap,
        code: &str,
    ) -> Result<HeaderValue, LoginError> {
        let s = &self.shared;
        let invalid =
            || LoginError::Unauthenticated(Unauthenticated::new(AuthnReason::SessionInvalid));
        let id = session_id(headers).ok_or_else(invalid)?;
        let key = store_key(&id);
        let now = self.now();
        let mut record = match s.store.get(&key).await? {
            Some(r) if !self.expired(&r, now) => r,
            _ => return Err(invalid()),
        };
        if record.state == SessionState::Complete {
            // Nothing to complete; keep the session as it is.
            return Ok(self.cookie(&id));
        }
        let secret = s.mfa.totp(&record.subject).await?;
        let step = secret.as_ref().and_then(|t| t.verify(code.trim(), now));
        let fresh = match step {
            Some(step) => {
                // Each code once: remember the step for longer than it is valid.
                let once = format!("totp-used:{}:{step}", record.subject);
                s.counters
                    .set_once(&once, Duration::from_secs(4 * totp::STEP))
                    .await?
            }
            None => false,
        };
        if !fresh {
            record.mfa_failures += 1;
            if record.mfa_failures >= s.config.max_mfa_failures {
                s.store.delete(&key).await?;
            } else {
                s.store.put(&key, &record, self.ttl(&record, now)).await?;
            }
            return Err(LoginError::Unauthenticated(
                Unauthenticated::new(AuthnReason::InvalidCredentials)
                    .with_description("the code is not valid"),
            ));
        }
        s.store.delete(&key).await?;
        record.state = SessionState::Complete;
        record.auth_time = now;
        record.last_seen = now;
        record.mfa_failures = 0;
        record.amr = vec!["pwd".to_owned(), "otp".to_owned(), "mfa".to_owned()];
        let new_id = new_session_id()?;
        s.store
            .put(&store_key(&new_id), &record, self.ttl(&record, now))
            .await?;
        Ok(self.cookie(&new_id))
    }

    /// Ends the session an identity was authenticated with. Returns the
    /// `Set-Cookie` that removes the cookie.
    pub async fn logout(&self, identity: &Identity) -> Result<HeaderValue, Fault> {
        if let Some(key) = identity.credential().id() {
            self.shared.store.delete(key).await?;
        }
        Ok(self.removal_cookie())
    }

    fn expired(&self, r: &SessionRecord, now: u64) -> bool {
        let c = &self.shared.config;
        now.saturating_sub(r.created_at) > c.absolute_timeout.as_secs()
            || now.saturating_sub(r.last_seen) > c.idle_timeout.as_secs()
    }
}

fn sensitive(s: &str) -> HeaderValue {
    let mut v = HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

/// Authenticates the `bouncer_session` cookie.
#[derive(Clone, Debug)]
pub struct SessionAuthenticator {
    sessions: Sessions,
}

/// How often a session's idle clock is pushed forward in the store.
const TOUCH_EVERY: u64 = 60;

#[async_trait]
impl Authenticator for SessionAuthenticator {
    fn scheme(&self) -> SchemeName {
        SchemeName::SESSION
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        // A cookie named exactly `bouncer_session`; other cookies are not
        // credentials, whatever they contain.
        session_id(request.headers()).is_some()
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let Some(id) = session_id(request.headers()) else {
            return Ok(None);
        };
        if id.len() > 128 {
            return Err(AuthnReason::SessionInvalid.into());
        }
        let s = &self.sessions.shared;
        let key = store_key(&id);
        let now = unix_secs(request.now());
        let Some(mut record) = s.store.get(&key).await? else {
            return Err(AuthnReason::SessionInvalid.into());
        };
        if self.sessions.expired(&record, now) {
            s.store.delete(&key).await?;
            return Err(AuthnReason::SessionInvalid.into());
        }
        if record.state == SessionState::MfaPending {
            return Err(Unauthenticated::new(AuthnReason::MfaRequired)
                .with_description("complete the second factor of your login")
                .into());
        }
        if now.saturating_sub(record.last_seen) >= TOUCH_EVERY {
            record.last_seen = now;
            s.store
                .put(&key, &record, self.sessions.ttl(&record, now))
                .await?;
        }
        let mut ctx = AuthContext::new().with_amr(record.amr.iter().cloned());
        if let Some(t) = std::time::UNIX_EPOCH.checked_add(Duration::from_secs(record.auth_time)) {
            ctx = ctx.with_auth_time(t);
        }
        if record.amr.iter().any(|m| m == "mfa") {
            ctx = ctx.with_acr(MFA_ACR);
        }
        let expires = std::time::UNIX_EPOCH
            .checked_add(Duration::from_secs(record.created_at))
            .and_then(|t| t.checked_add(s.config.absolute_timeout));
        Ok(Some(
            Identity::user(record.subject, SchemeName::SESSION)
                .with_auth_context(ctx)
                .with_credential(CredentialInfo::new(Some(key), expires)),
        ))
    }

    fn challenge(&self, _error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        // Cookies have no registered challenge scheme (contract §2).
        None
    }

    /// A new login gives a complete session a fresh `auth_time` (any
    /// `max_age`) and the `amr` `pwd`, or with a second factor `pwd`,
    /// `otp`, `mfa` and the `acr` [`MFA_ACR`]: it can meet a step-up
    /// asking for no class or for one of those.
    fn supports_step_up(&self, step_up: &StepUp) -> bool {
        let acr = step_up.acr_values();
        let amr = step_up.amr_methods();
        (acr.is_empty() && amr.is_empty())
            || acr.iter().any(|v| v == MFA_ACR)
            || amr.iter().any(|m| SESSION_AMR.contains(&m.as_str()))
    }
}

/// The `amr` values a session can carry.
const SESSION_AMR: [&str; 3] = ["pwd", "otp", "mfa"];
