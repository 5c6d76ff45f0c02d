//! An HMAC-signed request scheme, written outside the library against
//! `bouncer_core::Authenticator`:
//!
//! ```text
//! X-Signature: client=<id>, ts=<unix seconds>, sig=<hex HMAC-SHA256(secret, "<METHOD>\n<path?query>\n<ts>")>
//! ```
//!
//! | request | outcome | status (through the gate) |
//! |---|---|---|
//! | no `X-Signature` | `Ok(None)`: not mine | other schemes, or 401 `missing_credentials` |
//! | unparseable header | `malformed_credentials` | 401 |
//! | unknown client, bad signature, stale timestamp, replay | `invalid_credentials` | 401 |
//! | secret store down | a fault | 503 with `Retry-After` |
//! | valid | a service identity named after the client | goes on to authorization |

#![allow(unreachable_pub, dead_code)] // shared by the example and its tests

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bouncer_core::{
    Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Fault, Identity,
    RequestContext, SchemeName, Unauthenticated,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The scheme's name, as routes list it.
pub const SCHEME: SchemeName = SchemeName::from_static("hmac_signature");
/// How far a timestamp may be from the server's clock.
pub const WINDOW: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

/// Where per-client secrets live.
#[async_trait]
pub trait ClientSecrets: Send + Sync + 'static {
    /// The secret of `client`, `None` if unknown.
    async fn secret(&self, client: &str) -> Result<Option<Vec<u8>>, Fault>;
}

/// Secrets in memory.
#[derive(Default)]
pub struct MemorySecrets(pub HashMap<String, Vec<u8>>);

#[async_trait]
impl ClientSecrets for MemorySecrets {
    async fn secret(&self, client: &str) -> Result<Option<Vec<u8>>, Fault> {
        Ok(self.0.get(client).cloned())
    }
}

/// The signature of a request.
pub fn sign(secret: &[u8], method: &str, path_and_query: &str, ts: u64) -> String {
    // HMAC accepts keys of any length: `new_from_slice` cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{method}\n{path_and_query}\n{ts}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `X-Signature` value for a request.
pub fn header_value(
    client: &str,
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    ts: u64,
) -> String {
    format!(
        "client={client}, ts={ts}, sig={}",
        sign(secret, method, path_and_query, ts)
    )
}

struct Parsed<'a> {
    client: &'a str,
    ts: u64,
    sig: Vec<u8>,
}

fn parse(value: &str) -> Option<Parsed<'_>> {
    let (mut client, mut ts, mut sig) = (None, None, None);
    for part in value.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "client" if !v.is_empty() && v.len() <= 64 => client = Some(v),
            "ts" => ts = v.parse().ok(),
            "sig" => sig = hex::decode(v).ok().filter(|s| s.len() == 32),
            _ => return None,
        }
    }
    Some(Parsed {
        client: client?,
        ts: ts?,
        sig: sig?,
    })
}

/// Verifies `X-Signature`, remembering signatures for the replay window.
pub struct SignedRequests<S> {
    secrets: S,
    seen: Mutex<HashMap<Vec<u8>, u64>>,
    now: fn() -> u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl<S: ClientSecrets> SignedRequests<S> {
    /// Verifies against `secrets` with the system clock.
    pub fn new(secrets: S) -> Self {
        Self {
            secrets,
            seen: Mutex::new(HashMap::new()),
            now: unix_now,
        }
    }

    /// The same with another clock (tests).
    pub fn with_clock(secrets: S, now: fn() -> u64) -> Self {
        Self {
            secrets,
            seen: Mutex::new(HashMap::new()),
            now,
        }
    }

    /// `true` the first time a signature is seen within the window.
    fn first_use(&self, sig: &[u8], now: u64) -> bool {
        let mut seen = match self.seen.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        seen.retain(|_, at| now.saturating_sub(*at) <= 2 * WINDOW.as_secs());
        seen.insert(sig.to_vec(), now).is_none()
    }
}

fn invalid(why: &'static str) -> AuthnError {
    Unauthenticated::new(AuthnReason::InvalidCredentials)
        .with_description(why)
        .into()
}

#[async_trait]
impl<S: ClientSecrets> Authenticator for SignedRequests<S> {
    fn scheme(&self) -> SchemeName {
        SCHEME
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        request.headers().contains_key("x-signature")
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let mut values = request.headers().get_all("x-signature").iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(AuthnReason::MalformedCredentials.into());
        }
        let text = value
            .to_str()
            .map_err(|_| AuthnError::from(AuthnReason::MalformedCredentials))?;
        let parsed = parse(text).ok_or(AuthnReason::MalformedCredentials)?;
        let now = (self.now)();
        if now.abs_diff(parsed.ts) > WINDOW.as_secs() {
            return Err(invalid(
                "the signature's timestamp is outside the allowed window",
            ));
        }
        // A store failure is ours, not the caller's: a fault, never a 401.
        let Some(secret) = self.secrets.secret(parsed.client).await? else {
            return Err(invalid("the signature is not valid"));
        };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        let mut mac = HmacSha256::new_from_slice(&secret)
            .map_err(|e| Fault::internal("hmac key", e.to_string()))?;
        mac.update(format!("{}\n{path}\n{}", request.method(), parsed.ts).as_bytes());
        // `verify_slice` compares in constant time.
        mac.verify_slice(&parsed.sig)
            .map_err(|_| invalid("the signature is not valid"))?;
        if !self.first_use(&parsed.sig, now) {
            return Err(invalid("the signature was already used"));
        }
        Ok(Some(Identity::service(parsed.client, SCHEME)))
    }

    fn challenge(&self, _error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        // A scheme of our own, announced so clients know what to send.
        Challenge::new("HMAC-SHA256")
            .and_then(|c| c.param("realm", "reports"))
            .ok()
    }
}
