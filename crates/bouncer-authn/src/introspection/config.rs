//! Settings of the [`IntrospectionAuthenticator`](super::IntrospectionAuthenticator).

use std::fmt;
use std::time::Duration;

use reqwest::Url;

/// How the resource server authenticates to the introspection endpoint
/// (RFC 7662 §2.1 requires some authentication; these are RFC 6749
/// §2.3.1's). The secret never appears in `Debug`.
#[derive(Clone)]
pub struct ClientAuth {
    pub(crate) method: AuthMethod,
    pub(crate) client_id: String,
    pub(crate) secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    SecretBasic,
    SecretPost,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAuth")
            .field("method", &self.method_name())
            .field("client_id", &self.client_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-encoded id and
    /// secret (the default of RFC 6749 and most servers).
    pub fn secret_basic(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            method: AuthMethod::SecretBasic,
            client_id: client_id.into(),
            secret: secret.into(),
        }
    }

    /// `client_secret_post`: `client_id` and `client_secret` in the form
    /// body.
    pub fn secret_post(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            method: AuthMethod::SecretPost,
            client_id: client_id.into(),
            secret: secret.into(),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The method's registered name (`client_secret_basic`, …).
    pub fn method_name(&self) -> &'static str {
        match self.method {
            AuthMethod::SecretBasic => "client_secret_basic",
            AuthMethod::SecretPost => "client_secret_post",
        }
    }
}

/// Why an introspection authenticator could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionError {
    /// Not an absolute URL.
    #[error("invalid introspection endpoint URL `{0}`")]
    BadUrl(String),
    /// Not `https`, or plain `http` where it is not allowed.
    #[error("refusing the introspection endpoint `{0}`: use https (plain http only on loopback, with allow_loopback_http)")]
    InsecureUrl(String),
}

/// Settings of token introspection: read with the getters, set with the
/// `with_*` methods. The endpoint and client authentication are required;
/// the rest has defaults.
///
/// ```
/// use std::time::Duration;
/// use bouncer_authn::introspection::{ClientAuth, IntrospectionConfig};
///
/// let c = IntrospectionConfig::new(
///     "https://as.example/oauth/introspect",
///     ClientAuth::secret_basic("api", "s3cret"),
/// )
/// .with_audience("https://api.example")
/// .with_ttl(Duration::from_secs(30));
/// assert_eq!(c.ttl(), Duration::from_secs(30));
/// assert!(!format!("{c:?}").contains("s3cret"));
/// ```
#[derive(Debug, Clone)]
pub struct IntrospectionConfig {
    endpoint: String,
    client_auth: ClientAuth,
    timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: usize,
    max_token_len: usize,
    audience: Option<String>,
    issuer: Option<String>,
    ttl: Duration,
    negative_ttl: Duration,
    capacity: usize,
    retry_after: Duration,
    allow_loopback_http: bool,
}

impl IntrospectionConfig {
    /// Introspection at `endpoint`, authenticating with `client_auth`.
    pub fn new(endpoint: impl Into<String>, client_auth: ClientAuth) -> Self {
        Self {
            endpoint: endpoint.into(),
            client_auth,
            timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(1),
            max_response_bytes: 16 * 1024,
            max_token_len: 4096,
            audience: None,
            issuer: None,
            ttl: Duration::from_secs(60),
            negative_ttl: Duration::from_secs(5),
            capacity: 10_000,
            retry_after: Duration::from_secs(5),
            allow_loopback_http: false,
        }
    }

    /// The introspection endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// How the resource server authenticates to it.
    pub fn client_auth(&self) -> &ClientAuth {
        &self.client_auth
    }

    /// Time allowed for one introspection call, connecting included
    /// (default 3 s).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Time allowed to connect (default 1 s).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The largest answer read; a larger one is unreadable, 503 (default
    /// 16 KiB).
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The longest token sent to the endpoint; a longer one is
    /// `malformed_credentials` without a call (default 4096 bytes).
    pub fn max_token_len(&self) -> usize {
        self.max_token_len
    }

    /// The audience an active answer's `aud` must contain (none by
    /// default: set it, as for JWTs, so that a token for another API is
    /// refused).
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// The issuer an active answer's `iss` must equal (none by default).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// How long an active answer is cached, at most (default 60 s). It is
    /// never cached past the token's `exp`. Zero disables caching.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How long an `active: false` answer is cached (default 5 s: a
    /// token that is not active stays so, but a short bound keeps a
    /// flood of guesses from filling the cache for long).
    pub fn negative_ttl(&self) -> Duration {
        self.negative_ttl
    }

    /// Entries of the in-memory cache (default 10 000; the oldest to
    /// expire makes room).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The `Retry-After` of a 503 while the endpoint cannot be reached
    /// (default 5 s).
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// Whether plain `http://` is allowed to a loopback address (a
    /// sidecar, tests; default `false`). Any other `http` URL is refused.
    pub fn allow_loopback_http(&self) -> bool {
        self.allow_loopback_http
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn with_timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets [`max_response_bytes`](Self::max_response_bytes).
    pub fn with_max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Sets [`max_token_len`](Self::max_token_len).
    pub fn with_max_token_len(mut self, n: usize) -> Self {
        self.max_token_len = n;
        self
    }

    /// Sets [`audience`](Self::audience).
    pub fn with_audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }

    /// Sets [`issuer`](Self::issuer).
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }

    /// Sets [`ttl`](Self::ttl).
    pub fn with_ttl(mut self, d: Duration) -> Self {
        self.ttl = d;
        self
    }

    /// Sets [`negative_ttl`](Self::negative_ttl).
    pub fn with_negative_ttl(mut self, d: Duration) -> Self {
        self.negative_ttl = d;
        self
    }

    /// Sets [`capacity`](Self::capacity).
    pub fn with_capacity(mut self, n: usize) -> Self {
        self.capacity = n;
        self
    }

    /// Sets [`retry_after`](Self::retry_after).
    pub fn with_retry_after(mut self, d: Duration) -> Self {
        self.retry_after = d;
        self
    }

    /// Sets [`allow_loopback_http`](Self::allow_loopback_http).
    pub fn with_allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// The endpoint as a URL, if acceptable.
    pub(crate) fn url(&self) -> Result<Url, IntrospectionError> {
        let url = Url::parse(&self.endpoint)
            .map_err(|_| IntrospectionError::BadUrl(self.endpoint.clone()))?;
        let insecure = || IntrospectionError::InsecureUrl(self.endpoint.clone());
        match url.scheme() {
            "https" => Ok(url),
            "http" if self.allow_loopback_http => {
                let host = url.host_str().unwrap_or_default();
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let loopback = host.eq_ignore_ascii_case("localhost")
                    || host
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback());
                loopback.then_some(url).ok_or_else(insecure)
            }
            _ => Err(insecure()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(endpoint: &str, loopback: bool) -> Result<Url, IntrospectionError> {
        IntrospectionConfig::new(endpoint, ClientAuth::secret_basic("a", "b"))
            .with_allow_loopback_http(loopback)
            .url()
    }

    #[test]
    fn https_only_and_loopback_http_behind_the_opt_in() {
        assert!(url("https://as.example/introspect", false).is_ok());
        for http in [
            "http://127.0.0.1:8080/i",
            "http://[::1]/i",
            "http://localhost/i",
        ] {
            assert_eq!(
                url(http, false),
                Err(IntrospectionError::InsecureUrl(http.into()))
            );
            assert!(url(http, true).is_ok(), "{http}");
        }
        assert!(url("http://as.example/i", true).is_err());
        assert!(url("http://10.0.0.1/i", true).is_err());
        assert!(url("ftp://127.0.0.1/i", true).is_err());
        assert!(matches!(
            url("not a url", true),
            Err(IntrospectionError::BadUrl(_))
        ));
    }

    #[test]
    fn debug_redacts_the_secret() {
        for auth in [
            ClientAuth::secret_basic("api", "hunter2"),
            ClientAuth::secret_post("api", "hunter2"),
        ] {
            let c = IntrospectionConfig::new("https://as.example/i", auth);
            let shown = format!("{c:?}");
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("api"));
        }
    }
}
