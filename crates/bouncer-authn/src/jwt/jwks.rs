//! Key sets from the network: a JWKS fetched over HTTPS, refreshed before
//! it expires and at once for an unknown `kid`, plus OIDC discovery.
//!
//! - **Lock-free reads.** The verifier reads an atomically swapped
//!   snapshot; fetching never blocks a request that already has its key.
//! - **Caching.** `Cache-Control: max-age` is honoured within
//!   [`JwksConfig::min_cache`] and [`JwksConfig::max_cache`]; a background
//!   task refreshes at 80 % of it.
//! - **Unknown `kid`, or a signature that fails under a known one.** Either
//!   triggers one fetch for all waiting requests (single-flight), at most
//!   once per [`JwksConfig::unknown_kid_interval`], so a flood of random
//!   `kid`s or forged signatures cannot hammer the provider. The second case
//!   is a key rotated under the same `kid`.
//! - **From an issuer, lazily.** [`JwksSource::from_issuer`] finds the
//!   `jwks_uri` by RFC 8414 discovery (falling back to OpenID discovery) on
//!   the first fetch, so the authorization server need not be up when the
//!   resource server starts; a failed key fetch discovers again next time.
//! - **Provider down or serving garbage.** Keys already known keep working
//!   for [`JwksConfig::max_stale`] after the last good fetch, and a token
//!   naming an unknown `kid` is `invalid_token`. With no usable keys at all
//!   (never fetched, or stale past the bound), requests get 503 with
//!   `Retry-After` until the provider answers — never 500, never allow.
//! - **Transport.** `https://` only, except loopback addresses (tests, a
//!   sidecar) or with [`JwksConfig::allow_insecure_http`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bouncer_core::Fault;
use reqwest::header::CACHE_CONTROL;
use reqwest::Url;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::keys::{KeyError, KeySet};
use super::verify::SharedKeys;

/// The longest JWKS or discovery document read.
const MAX_DOCUMENT: usize = 1024 * 1024;

/// Why a key set or discovery document could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The URL is not absolute, or plain HTTP where that is not allowed.
    #[error("refusing to fetch `{0}`: use https (plain http is allowed only on loopback)")]
    InsecureUrl(String),
    /// Not a URL.
    #[error("invalid URL `{0}`")]
    BadUrl(String),
    /// The request failed (connection, timeout, TLS).
    #[error("fetching {url} failed: {source}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// The error.
        source: reqwest::Error,
    },
    /// A non-success status.
    #[error("{url} answered {status}")]
    Status {
        /// What was fetched.
        url: String,
        /// The status.
        status: u16,
    },
    /// Larger than the limit.
    #[error("{0} is larger than 1 MiB")]
    TooLarge(String),
    /// Not a valid JWKS.
    #[error("{url} is not a usable JWKS: {source}")]
    Keys {
        /// What was fetched.
        url: String,
        /// The error.
        source: KeyError,
    },
    /// A JWKS without a single key that verifies signatures here.
    #[error("{url} holds no usable verification key ({})", if skipped.is_empty() { "it is empty".to_owned() } else { skipped.join("; ") })]
    NoUsableKeys {
        /// What was fetched.
        url: String,
        /// Each key left out, and why.
        skipped: Vec<String>,
    },
    /// Not valid discovery metadata.
    #[error("{url} is not valid OpenID provider metadata: {reason}")]
    Metadata {
        /// What was fetched.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// Settings of a [`JwksSource`]: read with the getters, set with the
/// `with_*` builder methods.
///
/// ```
/// use std::time::Duration;
/// use bouncer_authn::jwt::JwksConfig;
///
/// let c = JwksConfig::default().with_timeout(Duration::from_secs(2));
/// assert_eq!(c.timeout(), Duration::from_secs(2));
/// assert!(!c.allow_insecure_http());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwksConfig {
    min_cache: Duration,
    max_cache: Duration,
    default_cache: Duration,
    max_stale: Duration,
    unknown_kid_interval: Duration,
    timeout: Duration,
    retry_after: Duration,
    allow_insecure_http: bool,
    allow_loopback_http: bool,
}

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            min_cache: Duration::from_secs(60),
            max_cache: Duration::from_secs(24 * 3600),
            default_cache: Duration::from_secs(300),
            max_stale: Duration::from_secs(24 * 3600),
            unknown_kid_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(5),
            retry_after: Duration::from_secs(10),
            allow_insecure_http: false,
            allow_loopback_http: false,
        }
    }
}

impl JwksConfig {
    /// Shortest time a fetched set is trusted before a refresh (default
    /// 1 minute).
    pub fn min_cache(&self) -> Duration {
        self.min_cache
    }

    /// Longest time a fetched set is trusted, whatever `max-age` says
    /// (default 24 h).
    pub fn max_cache(&self) -> Duration {
        self.max_cache
    }

    /// How long a fetched set is trusted when the response has no
    /// `max-age` (default 5 minutes).
    pub fn default_cache(&self) -> Duration {
        self.default_cache
    }

    /// How long known keys keep working after the last good fetch when the
    /// provider cannot be reached (default 24 h).
    pub fn max_stale(&self) -> Duration {
        self.max_stale
    }

    /// At most one fetch per this interval for unknown `kid`s (default
    /// 10 s).
    pub fn unknown_kid_interval(&self) -> Duration {
        self.unknown_kid_interval
    }

    /// Time allowed for one fetch (default 5 s).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The `Retry-After` sent while the provider cannot be reached
    /// (default 10 s).
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Whether plain `http://` to non-loopback hosts is allowed (default
    /// `false`; never in production).
    pub fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }

    /// Whether an issuer given to [`JwksSource::from_issuer`] (and the URLs
    /// its metadata names) may be plain `http://` on a loopback address
    /// (default `false`: `https` only, whatever
    /// [`allow_insecure_http`](Self::allow_insecure_http) says).
    pub fn allow_loopback_http(&self) -> bool {
        self.allow_loopback_http
    }

    /// Sets [`allow_loopback_http`](Self::allow_loopback_http).
    pub fn with_allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// Sets [`min_cache`](Self::min_cache).
    pub fn with_min_cache(mut self, d: Duration) -> Self {
        self.min_cache = d;
        self
    }

    /// Sets [`max_cache`](Self::max_cache).
    pub fn with_max_cache(mut self, d: Duration) -> Self {
        self.max_cache = d;
        self
    }

    /// Sets [`default_cache`](Self::default_cache).
    pub fn with_default_cache(mut self, d: Duration) -> Self {
        self.default_cache = d;
        self
    }

    /// Sets the three cache bounds at once.
    pub fn with_cache(self, min: Duration, default: Duration, max: Duration) -> Self {
        self.with_min_cache(min)
            .with_default_cache(default)
            .with_max_cache(max)
    }

    /// Sets [`max_stale`](Self::max_stale).
    pub fn with_max_stale(mut self, d: Duration) -> Self {
        self.max_stale = d;
        self
    }

    /// Sets [`unknown_kid_interval`](Self::unknown_kid_interval).
    pub fn with_unknown_kid_interval(mut self, d: Duration) -> Self {
        self.unknown_kid_interval = d;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Sets [`retry_after`](Self::retry_after).
    pub fn with_retry_after(mut self, d: Duration) -> Self {
        self.retry_after = d;
        self
    }

    /// Sets [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn with_allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn check_url(url: &str, allow_insecure: bool) -> Result<Url, JwksError> {
    let parsed = Url::parse(url).map_err(|_| JwksError::BadUrl(url.to_owned()))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" => {
            if is_loopback(&parsed) || allow_insecure {
                Ok(parsed)
            } else {
                Err(JwksError::InsecureUrl(url.to_owned()))
            }
        }
        _ => Err(JwksError::InsecureUrl(url.to_owned())),
    }
}

/// The stricter rule for issuers and what their metadata names: `https`,
/// or `http` on loopback behind [`JwksConfig::allow_loopback_http`].
pub(super) fn check_issuer_url(url: &str, config: &JwksConfig) -> Result<Url, JwksError> {
    let parsed = Url::parse(url).map_err(|_| JwksError::BadUrl(url.to_owned()))?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if config.allow_loopback_http && is_loopback(&parsed) => Ok(parsed),
        _ => Err(JwksError::InsecureUrl(url.to_owned())),
    }
}

pub(super) fn client(timeout: Duration) -> reqwest::Client {
    // TLS through aws-lc-rs, the crypto the JWT verification already uses:
    // one crypto library to trust and to patch, not two.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

pub(super) async fn fetch_bounded(
    client: &reqwest::Client,
    url: &Url,
) -> Result<(Vec<u8>, Option<Duration>), JwksError> {
    let fetch = |source| JwksError::Fetch {
        url: url.to_string(),
        source,
    };
    let mut res = client.get(url.clone()).send().await.map_err(fetch)?;
    if !res.status().is_success() {
        return Err(JwksError::Status {
            url: url.to_string(),
            status: res.status().as_u16(),
        });
    }
    let max_age = res
        .headers()
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|d| {
            d.trim()
                .strip_prefix("max-age=")
                .and_then(|n| n.trim_matches('"').parse().ok())
        })
        .map(Duration::from_secs);
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(fetch)? {
        if body.len() + chunk.len() > MAX_DOCUMENT {
            return Err(JwksError::TooLarge(url.to_string()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, max_age))
}

/// What a refetch for an unknown `kid` (or a failed signature) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refetch {
    /// A new key set was fetched (by this call or a concurrent one): verify
    /// again.
    Refreshed,
    /// The provider answered recently and had no such key: the token is
    /// `invalid_token`.
    Absent,
    /// The provider cannot be reached: 503.
    Unreachable,
}

struct FetchState {
    /// The last fetch an unknown `kid` caused (the rate-limited kind).
    last_kid_fetch: Option<Instant>,
    last_failed: bool,
    next_refresh: Instant,
    /// Where the keys are: given, or found by discovery (forgotten after a
    /// failed fetch, so the next one discovers again).
    jwks_uri: Option<Url>,
}

/// A JWKS fetched from a URL and kept fresh. Share it (`Arc`) between the
/// authenticator and its refresher task.
pub struct JwksSource {
    /// The `jwks_uri` given, or the issuer to discover it from.
    url: Url,
    /// `Some`: `url` is this issuer, and the key URL comes from discovery.
    issuer: Option<String>,
    client: reqwest::Client,
    config: JwksConfig,
    keys: SharedKeys,
    /// Bumped on every successful fetch: waiters on the single-flight lock
    /// see that someone else already refreshed.
    generation: AtomicU64,
    /// Milliseconds since the epoch of the last good fetch (0: never).
    last_success: AtomicU64,
    state: Mutex<FetchState>,
}

impl std::fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksSource")
            .field("url", &self.url.as_str())
            .field("keys", &self.keys.load().len())
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish()
    }
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl JwksSource {
    /// A source for `jwks_uri`, without fetching yet. Call
    /// [`refresh`](Self::refresh) (or let the first unknown `kid` do it) and
    /// [`spawn_refresher`](Self::spawn_refresher).
    pub fn new(jwks_uri: &str, config: JwksConfig) -> Result<Arc<Self>, JwksError> {
        let url = check_url(jwks_uri, config.allow_insecure_http)?;
        Ok(Self::with_location(url.clone(), None, Some(url), config))
    }

    /// A source for the keys of the authorization server `issuer`, without
    /// fetching yet: the first token (or [`refresh`](Self::refresh)) finds
    /// its `jwks_uri` by RFC 8414 discovery, falling back to OpenID
    /// discovery ([`discover_issuer`](super::discover_issuer)), and fetches
    /// the keys. Until that works, tokens are 503 with `Retry-After`.
    ///
    /// `issuer` must be `https`, or `http` on loopback with
    /// [`JwksConfig::with_allow_loopback_http`]; so must the discovered
    /// `jwks_uri`, and the discovered `issuer` must equal `issuer` exactly.
    pub fn from_issuer(issuer: &str, config: JwksConfig) -> Result<Arc<Self>, JwksError> {
        let url = check_issuer_url(issuer, &config)?;
        Ok(Self::with_location(
            url,
            Some(issuer.to_owned()),
            None,
            config,
        ))
    }

    fn with_location(
        url: Url,
        issuer: Option<String>,
        jwks_uri: Option<Url>,
        config: JwksConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            url,
            issuer,
            client: client(config.timeout),
            keys: SharedKeys::new(KeySet::new()),
            generation: AtomicU64::new(0),
            last_success: AtomicU64::new(0),
            state: Mutex::new(FetchState {
                last_kid_fetch: None,
                last_failed: false,
                next_refresh: Instant::now(),
                jwks_uri,
            }),
            config,
        })
    }

    /// A source for `jwks_uri` that has fetched once. A provider that is
    /// down at start is not fatal: requests get 503 until it answers.
    pub async fn connect(jwks_uri: &str, config: JwksConfig) -> Result<Arc<Self>, JwksError> {
        let source = Self::new(jwks_uri, config)?;
        if let Err(e) = source.refresh().await {
            tracing_warn(&format!(
                "initial JWKS fetch failed (requests will get 503 until it works): {e}"
            ));
        }
        Ok(source)
    }

    /// The shared key set, for [`JwtVerifier::with_shared_keys`](super::JwtVerifier::with_shared_keys).
    pub fn keys(&self) -> SharedKeys {
        self.keys.clone()
    }

    /// The URL: the `jwks_uri`, or for [`from_issuer`](Self::from_issuer)
    /// the issuer.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The issuer the keys are discovered from, for
    /// [`from_issuer`](Self::from_issuer).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Whether the known keys may still be used (a good fetch within
    /// `max_stale`).
    pub fn is_usable(&self) -> bool {
        let last = self.last_success.load(Ordering::Acquire);
        let max_stale = u64::try_from(self.config.max_stale.as_millis()).unwrap_or(u64::MAX);
        last != 0 && unix_millis().saturating_sub(last) <= max_stale
    }

    /// The fault to answer with while the provider cannot be reached.
    pub fn unavailable(&self) -> Fault {
        Fault::unavailable(
            "the JWKS provider",
            self.config.retry_after,
            format!("cannot fetch {}", self.url),
        )
    }

    /// Fetches now (single-flight). On failure the current keys stay.
    pub async fn refresh(&self) -> Result<(), JwksError> {
        let mut state = self.state.lock().await;
        self.fetch(&mut state).await
    }

    async fn fetch(&self, state: &mut FetchState) -> Result<(), JwksError> {
        let result = async {
            let url = match (&state.jwks_uri, &self.issuer) {
                (Some(url), _) => url.clone(),
                (None, Some(issuer)) => {
                    let meta =
                        super::discovery::discover_issuer_with(&self.client, issuer, &self.config)
                            .await?;
                    let url = check_issuer_url(&meta.jwks_uri, &self.config)?;
                    state.jwks_uri = Some(url.clone());
                    url
                }
                (None, None) => self.url.clone(),
            };
            let (body, max_age) = fetch_bounded(&self.client, &url).await?;
            let text = String::from_utf8_lossy(&body);
            let keys = KeySet::from_jwks_str(&text).map_err(|source| JwksError::Keys {
                url: url.to_string(),
                source,
            })?;
            // A set with nothing to verify with (only symmetric or weak
            // keys, say) is a broken provider, not a key rotation: keep the
            // keys we have.
            if keys.is_empty() {
                return Err(JwksError::NoUsableKeys {
                    url: url.to_string(),
                    skipped: keys.skipped().iter().map(ToString::to_string).collect(),
                });
            }
            Ok::<_, JwksError>((keys, max_age))
        }
        .await;
        match result {
            Ok((keys, max_age)) => {
                let c = &self.config;
                let ttl = max_age
                    .unwrap_or(c.default_cache)
                    .clamp(c.min_cache, c.max_cache);
                // Refresh before expiry.
                state.next_refresh = Instant::now() + ttl.mul_f32(0.8);
                state.last_failed = false;
                self.keys.replace(keys);
                self.last_success
                    .store(unix_millis().max(1), Ordering::Release);
                self.generation.fetch_add(1, Ordering::AcqRel);
                Ok(())
            }
            Err(e) => {
                state.last_failed = true;
                if self.issuer.is_some() {
                    // The server may have moved its keys: discover again.
                    state.jwks_uri = None;
                }
                // Retry soon, but not in a loop.
                state.next_refresh =
                    Instant::now() + self.config.unknown_kid_interval.max(Duration::from_secs(1));
                tracing_warn(&format!("JWKS fetch failed: {e}"));
                Err(e)
            }
        }
    }

    /// Called for a token whose `kid` is not in the current set, or whose
    /// signature fails with every key of its `kid` (a rotation under the
    /// same `kid`), and while no usable keys are held.
    pub(crate) async fn refetch(&self) -> Refetch {
        let seen = self.generation.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if self.generation.load(Ordering::Acquire) != seen {
            return Refetch::Refreshed;
        }
        let recent = state
            .last_kid_fetch
            .is_some_and(|t| t.elapsed() < self.config.unknown_kid_interval);
        if recent {
            return if state.last_failed {
                Refetch::Unreachable
            } else {
                Refetch::Absent
            };
        }
        state.last_kid_fetch = Some(Instant::now());
        match self.fetch(&mut state).await {
            Ok(()) => Refetch::Refreshed,
            Err(_) => Refetch::Unreachable,
        }
    }

    /// Refreshes in the background before each expiry, until the source is
    /// dropped everywhere else. Needs a tokio runtime.
    pub fn spawn_refresher(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let wait = match weak.upgrade() {
                    Some(s) => s
                        .state
                        .lock()
                        .await
                        .next_refresh
                        .saturating_duration_since(Instant::now()),
                    None => return,
                };
                tokio::time::sleep(wait.max(Duration::from_millis(200))).await;
                let Some(source) = weak.upgrade() else { return };
                let mut state = source.state.lock().await;
                if state.next_refresh <= Instant::now() {
                    let _ = source.fetch(&mut state).await;
                }
            }
        })
    }
}

fn tracing_warn(message: &str) {
    tracing::warn!(target: "bouncer", "{message}");
}

/// The parts of OpenID provider metadata bouncer uses.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer (checked to equal the one asked for, exactly).
    pub issuer: String,
    /// Where the keys are.
    pub jwks_uri: String,
}

/// Metadata fetched from `url`, which must name exactly `issuer` (OpenID
/// Connect Discovery §4.3, RFC 8414 §3.3): no trailing-slash or case
/// leniency.
pub(super) fn read_metadata(
    body: &[u8],
    url: &Url,
    issuer: &str,
) -> Result<ProviderMetadata, JwksError> {
    let meta: ProviderMetadata = serde_json::from_slice(body).map_err(|e| JwksError::Metadata {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if meta.issuer != issuer {
        return Err(JwksError::Metadata {
            url: url.to_string(),
            reason: format!("issuer `{}` is not `{issuer}`", meta.issuer),
        });
    }
    Ok(meta)
}

/// OIDC discovery: reads `<issuer>/.well-known/openid-configuration` and
/// checks that its `issuer` is exactly `issuer` (OpenID Connect Discovery
/// §4.3), and that `jwks_uri` is an acceptable URL.
pub async fn discover(issuer: &str, config: &JwksConfig) -> Result<ProviderMetadata, JwksError> {
    let base = issuer.trim_end_matches('/');
    let url = check_url(
        &format!("{base}/.well-known/openid-configuration"),
        config.allow_insecure_http,
    )?;
    let (body, _) = fetch_bounded(&client(config.timeout), &url).await?;
    let meta = read_metadata(&body, &url, issuer)?;
    check_url(&meta.jwks_uri, config.allow_insecure_http)?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        assert!(check_url("https://idp.example/jwks", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/jwks", false).is_ok());
        assert!(check_url("http://[::1]:8080/jwks", false).is_ok());
        assert!(check_url("http://localhost/jwks", false).is_ok());
        assert!(matches!(
            check_url("http://idp.example/jwks", false),
            Err(JwksError::InsecureUrl(_))
        ));
        assert!(check_url("http://idp.example/jwks", true).is_ok());
        assert!(check_url("file:///etc/passwd", true).is_err());
        assert!(check_url("not a url", false).is_err());
    }
}
