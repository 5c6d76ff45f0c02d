//! Opaque bearer tokens, checked by asking the authorization server (RFC
//! 7662 token introspection).
//!
//! Use it when the authorization server issues tokens a resource server
//! cannot verify by itself (opaque reference tokens), or when a
//! revocation at the server must be seen within seconds. For JWT access
//! tokens, [`jwt`](crate::jwt) verifies locally and needs no call.
//!
//! - **The call.** `POST` to the endpoint with `token` and
//!   `token_type_hint=access_token`, authenticated with
//!   [`ClientAuth`] (`client_secret_basic` or `client_secret_post`);
//!   `https` only (plain `http` only to loopback, behind
//!   [`IntrospectionConfig::with_allow_loopback_http`]); bounded time and
//!   answer size; no redirects.
//! - **The mapping.** An active answer maps into the identity as a JWT's
//!   claims do ([`jwt::Claims`](crate::jwt::Claims), the default mapping
//!   and your [`ClaimsMapper`]): `sub` (or, for a client-credentials
//!   token without one, `client_id`, which makes it a service), `scope`,
//!   `organization_id` or a Logto organization `aud`, Keycloak
//!   `realm_access.roles`, Auth0 `permissions`, `acr`/`amr`/`auth_time`,
//!   and `exp` with the revocation id (`jti:<jti>`, or `sha256:<hex>` of
//!   the token) as the credential. A configured audience must be in `aud`
//!   and a configured issuer must equal `iss`.
//! - **The cache.** Answers are cached under `introspection:<sha256 of the
//!   token>` (never the token) in a [`CacheStore`]: in memory by default,
//!   shared through Redis with [`IntrospectionAuthenticator::cache`]. An
//!   active answer is kept for at most [`IntrospectionConfig::ttl`] and
//!   never past its `exp`; `active: false` for
//!   [`IntrospectionConfig::negative_ttl`]. The bound is written into the
//!   entry and checked at the gate's time on every hit, whatever the
//!   store's own expiry does. The revocation store is asked on every
//!   request, hit or not: a revoked token is `token_revoked` at once and
//!   its entry is dropped. Concurrent lookups of one token share one call.
//! - **Cache errors** (Redis down) are logged and the endpoint is asked
//!   instead: the cache only saves calls, it decides nothing. A
//!   revocation store that fails is 503, as for JWTs.
//!
//! ## What each answer becomes
//!
//! | the endpoint… | decision |
//! |---|---|
//! | cannot be reached, times out, fails TLS | 503 `Retry-After` (a cached answer still serves within its TTL) |
//! | answers 5xx or 429 | 503 |
//! | answers 200 with a body that is not a JSON object, repeats a member, lacks a boolean `active` (`"true"` is not `true`), has a mapped member of the wrong type, is larger than the bound, or is not `application/json` | 503: the server is not working, the caller did nothing wrong (RFC 7662 §2.2 defines no other reading) |
//! | answers 401/403 (our client credentials), another 4xx, a redirect or another 2xx | 500: the deployment is set up wrong |
//! | answers 400 `unsupported_token_type` | 401 `invalid_token` (a JWT sent to an opaque-token route, for one) |
//! | says `active: false` | 401 `invalid_token` |
//! | says `active: true` but `aud`/`iss` are not ours, `nbf` is ahead, no `sub` nor `client_id`, or the token is key-bound (`cnf`, `token_type` not `Bearer`) | 401 `invalid_token` |
//! | says `active: true` with `exp` passed by the gate's clock | 401 `token_expired` |
//! | says `active: true` and the revocation store knows the id | 401 `token_revoked` |
//!
//! A token that is not `b64token` syntax or longer than
//! [`IntrospectionConfig::max_token_len`] is `malformed_credentials`
//! without a call.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use bouncer_authn::introspection::{ClientAuth, IntrospectionAuthenticator, IntrospectionConfig};
//! use bouncer_core::Gate;
//!
//! let config = IntrospectionConfig::new(
//!     "https://auth.example/oauth/introspect",
//!     ClientAuth::secret_basic("api", std::env::var("INTROSPECTION_SECRET")?),
//! )
//! .with_audience("https://api.example");
//! let bearer = IntrospectionAuthenticator::new("api", config)?;
//! // Several instances: .cache(Arc::new(bouncer_redis::RedisStore::open(url)?))
//! let gate = Gate::builder().authenticator(bearer).build();
//! # let _ = gate;
//! # Ok(())
//! # }
//! ```

mod client;
mod config;
mod response;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bouncer_core::authorization::has_scheme;
use bouncer_core::{
    Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Fault, Identity,
    RequestContext, SchemeName, StepUp, Unauthenticated,
};
use bouncer_store::{CacheStore, MemoryCacheStore};
use tokio::sync::OnceCell;

pub use config::{ClientAuth, IntrospectionConfig, IntrospectionError};
pub use response::{IntrospectionResponse, ResponseError};

use crate::jwt::{bearer_token, ClaimsMapper};
use crate::revocation::RevocationStore;
use crate::secret::{hex, sha256};
use client::{Client, Failure};
use response::{judge, Expect};

/// What one lookup gave, shared with every request that waited on it.
type Outcome = Result<Arc<IntrospectionResponse>, Failure>;

/// Lookups in flight, by token digest: concurrent requests with one token
/// make one call.
#[derive(Default)]
struct Flights(Mutex<HashMap<[u8; 32], Arc<OnceCell<Outcome>>>>);

impl Flights {
    /// A seat on the lookup for `digest`, begun by the first to join; the
    /// seat leaves when dropped, so a request dropped while it waits (the
    /// client gone, a timeout) takes its entry out too.
    fn join(&self, digest: [u8; 32]) -> Seat<'_> {
        let mut map = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let cell = map.entry(digest).or_default().clone();
        Seat {
            flights: self,
            digest,
            cell,
        }
    }

    fn leave(&self, digest: &[u8; 32], cell: &Arc<OnceCell<Outcome>>) {
        let mut map = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.get(digest).is_some_and(|c| Arc::ptr_eq(c, cell)) {
            map.remove(digest);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().map_or(0, |m| m.len())
    }
}

/// One request's place on a lookup in flight.
struct Seat<'a> {
    flights: &'a Flights,
    digest: [u8; 32],
    cell: Arc<OnceCell<Outcome>>,
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        self.flights.leave(&self.digest, &self.cell);
    }
}

/// The cache key of a token: never the token itself.
pub(crate) fn cache_key(digest: &[u8; 32]) -> String {
    format!("introspection:{}", hex(digest))
}

/// How long an answer may be cached from `now_ms`: at most `ttl` (active)
/// or `negative_ttl` (inactive), and never past `exp`.
pub(crate) fn cache_ttl(
    active: bool,
    exp: Option<u64>,
    now_ms: u64,
    ttl: Duration,
    negative_ttl: Duration,
) -> Duration {
    let cap = if active { ttl } else { negative_ttl };
    match exp {
        Some(exp) => cap.min(Duration::from_millis(
            exp.saturating_mul(1000).saturating_sub(now_ms),
        )),
        None => cap,
    }
}

/// An entry: the instant (ms since the epoch, gate time) it stops
/// serving, then the answer's bytes as the endpoint sent them.
fn seal(until_ms: u64, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + body.len());
    v.extend_from_slice(&until_ms.to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// The answer of an entry still good at `now_ms`.
fn unseal(entry: &[u8], now_ms: u64) -> Option<&[u8]> {
    let (until, body) = entry.split_first_chunk::<8>()?;
    (u64::from_be_bytes(*until) > now_ms).then_some(body)
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Authenticates `Authorization: Bearer <opaque token>` by introspection.
/// Clones share the cache and the lookups in flight.
#[derive(Clone)]
pub struct IntrospectionAuthenticator {
    realm: String,
    config: Arc<IntrospectionConfig>,
    client: Arc<Client>,
    expect: Arc<Expect>,
    cache: Option<Arc<dyn CacheStore>>,
    revocation: Option<Arc<dyn RevocationStore>>,
    mapper: Option<Arc<dyn ClaimsMapper>>,
    resource_metadata: Option<String>,
    flights: Arc<Flights>,
}

impl fmt::Debug for IntrospectionAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionAuthenticator")
            .field("realm", &self.realm)
            .field("config", &self.config)
            .field("cache", &self.cache.is_some())
            .field("revocation", &self.revocation.is_some())
            .finish_non_exhaustive()
    }
}

impl IntrospectionAuthenticator {
    /// Opaque bearer tokens for `realm`, introspected as `config` says,
    /// cached in memory. Fails only for an unacceptable endpoint URL; the
    /// endpoint is not called until a token comes.
    pub fn new(
        realm: impl Into<String>,
        config: IntrospectionConfig,
    ) -> Result<Self, IntrospectionError> {
        let url = config.url()?;
        let client = Client::new(url, &config);
        let cache = (!config.ttl().is_zero() || !config.negative_ttl().is_zero())
            .then(|| Arc::new(MemoryCacheStore::new(config.capacity())) as Arc<dyn CacheStore>);
        Ok(Self {
            realm: realm.into(),
            expect: Arc::new(Expect {
                audience: config.audience().map(str::to_owned),
                issuer: config.issuer().map(str::to_owned),
            }),
            config: Arc::new(config),
            client: Arc::new(client),
            cache,
            revocation: None,
            mapper: None,
            resource_metadata: None,
            flights: Arc::default(),
        })
    }

    /// Keeps answers in `store` instead of in memory (Redis, to share them
    /// between instances).
    pub fn cache(mut self, store: Arc<dyn CacheStore>) -> Self {
        self.cache = Some(store);
        self
    }

    /// Checks every token against a revocation store (a hit in the cache
    /// too).
    pub fn revocation(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocation = Some(store);
        self
    }

    /// Adds a custom mapping, run after the default one.
    pub fn map_claims(mut self, mapper: impl ClaimsMapper) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }

    /// Adds RFC 9728 `resource_metadata` to the challenges.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// The settings.
    pub fn config(&self) -> &IntrospectionConfig {
        &self.config
    }

    /// The answer cached for `key`, still good at `now_ms`. A cache that
    /// fails or holds garbage is a miss.
    async fn cached(&self, key: &str, now_ms: u64) -> Option<Arc<IntrospectionResponse>> {
        let cache = self.cache.as_ref()?;
        let entry = match cache.get(key).await {
            Ok(entry) => entry?,
            Err(e) => {
                tracing::warn!(target: "bouncer", error = %e, "introspection cache unavailable; asking the endpoint");
                return None;
            }
        };
        let body = unseal(&entry, now_ms)?;
        match IntrospectionResponse::parse(body) {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                tracing::warn!(target: "bouncer", error = %e, "unreadable introspection cache entry; asking the endpoint");
                None
            }
        }
    }

    /// Asks the endpoint (once for all concurrent requests with the token)
    /// and caches what it says.
    async fn lookup(
        &self,
        token: &str,
        digest: [u8; 32],
        key: &str,
        now_ms: u64,
    ) -> Result<Arc<IntrospectionResponse>, AuthnError> {
        let seat = self.flights.join(digest);
        let outcome = seat
            .cell
            .get_or_init(|| self.fetch(token, key, now_ms))
            .await
            .clone();
        drop(seat);
        outcome.map_err(|f| match f {
            Failure::Unavailable(why) => {
                Fault::unavailable("the introspection endpoint", self.config.retry_after(), why)
                    .into()
            }
            Failure::Misconfigured(why) => Fault::misconfigured(why).into(),
            Failure::UnsupportedToken => Unauthenticated::new(AuthnReason::InvalidToken)
                .with_description("the authorization server does not introspect this token")
                .into(),
        })
    }

    async fn fetch(&self, token: &str, key: &str, now_ms: u64) -> Outcome {
        let read = async {
            let body = self.client.introspect(token).await?;
            let response = IntrospectionResponse::parse(&body).map_err(|e| {
                Failure::Unavailable(format!(
                    "unreadable introspection answer from {}: {e}",
                    self.client.url()
                ))
            })?;
            Ok::<_, Failure>((body, response))
        };
        let (body, response) = match read.await {
            Ok(read) => read,
            Err(failure) => {
                match &failure {
                    Failure::Unavailable(why) => tracing::warn!(target: "bouncer", "{why}"),
                    Failure::Misconfigured(why) => tracing::error!(target: "bouncer", "{why}"),
                    Failure::UnsupportedToken => {}
                }
                return Err(failure);
            }
        };
        if let Some(cache) = &self.cache {
            let ttl = cache_ttl(
                response.is_active(),
                response.exp(),
                now_ms,
                self.config.ttl(),
                self.config.negative_ttl(),
            );
            if !ttl.is_zero() {
                let until = now_ms.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(0));
                if let Err(e) = cache.put(key, &seal(until, &body), ttl).await {
                    tracing::warn!(target: "bouncer", error = %e, "cannot cache an introspection answer");
                }
            }
        }
        Ok(Arc::new(response))
    }
}

#[async_trait]
impl Authenticator for IntrospectionAuthenticator {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        has_scheme(request.headers(), crate::jwt::SCHEME)
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let Some(token) = bearer_token(request.headers())? else {
            return Ok(None);
        };
        if token.len() > self.config.max_token_len() {
            return Err(Unauthenticated::new(AuthnReason::MalformedCredentials)
                .with_description("the token is too long")
                .into());
        }
        let now = request.now();
        let now_ms = unix_ms(now);
        let digest = sha256(token.as_bytes());
        let key = cache_key(&digest);
        let response = match self.cached(&key, now_ms).await {
            Some(hit) => hit,
            None => self.lookup(token, digest, &key, now_ms).await?,
        };
        let identity = judge(
            &response,
            token,
            now_ms / 1000,
            &self.expect,
            self.mapper.as_deref(),
        )?;
        if let (Some(store), Some(id)) = (&self.revocation, identity.credential().id()) {
            let revoked = match store.is_revoked_in_memory(id) {
                Some(answer) => answer?,
                None => store.is_revoked(id).await?,
            };
            if revoked {
                if let Some(cache) = &self.cache {
                    if let Err(e) = cache.remove(&key).await {
                        tracing::warn!(target: "bouncer", error = %e, "cannot drop a revoked token's introspection entry");
                    }
                }
                return Err(AuthnReason::TokenRevoked.into());
            }
        }
        Ok(Some(identity))
    }

    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let mut b = Challenge::bearer().realm(self.realm.clone()).context(error);
        if let Some(url) = &self.resource_metadata {
            b = b.resource_metadata(url.clone());
        }
        b.build()
            .ok()
            .or_else(|| Challenge::bearer().realm(self.realm.clone()).build().ok())
    }

    /// Answers may carry `acr`, `amr` and `auth_time`.
    fn supports_step_up(&self, _step_up: &StepUp) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_ttl_never_reaches_past_exp() {
        let (ttl, neg) = (60 * S, 5 * S);
        let now_ms = 1_000_000_000_000;
        let now = now_ms / 1000;
        assert_eq!(cache_ttl(true, None, now_ms, ttl, neg), ttl);
        assert_eq!(cache_ttl(true, Some(now + 3600), now_ms, ttl, neg), ttl);
        assert_eq!(cache_ttl(true, Some(now + 10), now_ms, ttl, neg), 10 * S);
        assert_eq!(
            cache_ttl(true, Some(now + 10), now_ms + 250, ttl, neg),
            Duration::from_millis(9_750)
        );
        assert_eq!(cache_ttl(true, Some(now), now_ms, ttl, neg), Duration::ZERO);
        assert_eq!(cache_ttl(true, Some(0), now_ms, ttl, neg), Duration::ZERO);
        assert_eq!(cache_ttl(true, Some(u64::MAX), now_ms, ttl, neg), ttl);
        assert_eq!(cache_ttl(false, None, now_ms, ttl, neg), neg);
    }

    #[test]
    fn keys_are_a_hash_of_the_token_never_the_token() {
        let token = "2YotnFZFEjr1zCsicMWpAA";
        let key = cache_key(&sha256(token.as_bytes()));
        assert!(!key.contains(token));
        assert_eq!(key.len(), "introspection:".len() + 64);
        assert_eq!(
            key,
            format!("introspection:{}", hex(&sha256(token.as_bytes())))
        );
        assert_ne!(key, cache_key(&sha256(b"2YotnFZFEjr1zCsicMWpAB")));
    }

    #[test]
    fn entries_stop_serving_at_their_bound() {
        let e = seal(1_000, b"{}");
        assert_eq!(unseal(&e, 999), Some(&b"{}"[..]));
        assert_eq!(unseal(&e, 1_000), None);
        assert_eq!(unseal(b"short", 0), None);
    }

    #[test]
    fn a_flight_is_shared_until_its_first_rider_leaves() {
        let f = Flights::default();
        let a = f.join([1; 32]);
        let b = f.join([1; 32]);
        assert!(Arc::ptr_eq(&a.cell, &b.cell));
        let a_cell = a.cell.clone();
        drop(a);
        let c = f.join([1; 32]);
        assert!(
            !Arc::ptr_eq(&a_cell, &c.cell),
            "a new lookup after the first ended"
        );
        drop(b);
        assert!(
            Arc::ptr_eq(&c.cell, &f.join([1; 32]).cell),
            "b left someone else's flight alone"
        );
    }

    #[test]
    fn a_request_dropped_while_it_waits_leaves_nothing_behind() {
        let f = Flights::default();
        let waiting = async {
            let seat = f.join([2; 32]);
            // Never finishes: the endpoint is slow.
            seat.cell
                .get_or_init(std::future::pending::<Outcome>)
                .await
                .clone()
        };
        let mut waiting = Box::pin(waiting);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(std::future::Future::poll(waiting.as_mut(), &mut cx).is_pending());
        assert_eq!(f.len(), 1);
        // The client went away.
        drop(waiting);
        assert_eq!(f.len(), 0);
    }
}
