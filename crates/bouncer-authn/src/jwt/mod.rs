//! Bearer JWT access tokens (RFC 6750 header, RFC 8725, RFC 9068).
//!
//! - Algorithms: HS256/384/512, RS256/384/512, PS256/384/512, ES256/384,
//!   EdDSA — each key verifies exactly one; `none` never verifies.
//! - Keys by `kid` from a [`KeySet`] (built by hand or from a JWKS); an
//!   unknown `kid` is `invalid_token`, never 500.
//! - `exp` required; expired is `token_expired`, every other failure
//!   `invalid_token`; a header that is not bearer syntax (empty token, two
//!   `Authorization` fields, a token over the size limit) is
//!   `malformed_credentials` with `error="invalid_request"`.
//! - A revoked `jti` is `token_revoked`; a revocation store that fails is
//!   503, never 401 and never allow.
//! - With the `jwks` feature, keys come from an identity provider:
//!   `discover(issuer)` finds its `jwks_uri`, `JwksSource` keeps the set
//!   fresh (lock-free reads, `max-age` caching, single-flight refresh on an
//!   unknown `kid`), and `JwtAuthenticator::from_jwks` uses it:
//!
//! ```no_run
//! # #[cfg(feature = "jwks")]
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use bouncer_authn::jwt::{discover, JwksConfig, JwksSource, JwtAuthenticator, JwtValidation};
//!
//! let config = JwksConfig::default();
//! let meta = discover("https://tenant.logto.app/oidc", &config).await?;
//! let source = JwksSource::connect(&meta.jwks_uri, config).await?;
//! source.spawn_refresher();
//! let bearer = JwtAuthenticator::from_jwks("api", source, JwtValidation::new(meta.issuer, "https://api.example"));
//! # let _ = bearer;
//! # Ok(())
//! # }
//! ```
//!
//! ```
//! use bouncer_authn::jwt::{JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
//! use jsonwebtoken::Algorithm;
//!
//! let keys = KeySet::new()
//!     .with(VerifyKey::hmac(Algorithm::HS256, b"an-hs256-secret-of-at-least-32-bytes!")?.with_kid("demo"))?;
//! let validation = JwtValidation::new("https://auth.example", "https://api.example");
//! let bearer = JwtAuthenticator::new("api", keys, validation);
//! # let _ = bearer;
//! # Ok::<(), bouncer_authn::jwt::KeyError>(())
//! ```

mod cache;
mod claims;
#[cfg(feature = "jwks")]
mod discovery;
#[cfg(feature = "jwks")]
mod jwks;
mod keys;
mod validation;
mod verify;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use bouncer_core::authorization::{has_scheme, scheme_of};
use bouncer_core::{
    Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Fault, Identity,
    RequestContext, SchemeName, StepUp, Unauthenticated,
};

#[cfg(feature = "dpop")]
pub(crate) use claims::unix_secs;
pub use claims::{
    default_identity, into_identity, Audience, Claims, ClaimsMapper, Confirmation, KeyBinding,
    RealmAccess, LOGTO_ORGANIZATION_AUDIENCE,
};
#[cfg(feature = "jwks")]
pub use discovery::discover_issuer;
#[cfg(feature = "jwks")]
use jwks::Refetch;
#[cfg(feature = "jwks")]
pub use jwks::{discover, JwksConfig, JwksError, JwksSource, ProviderMetadata};
pub use keys::{
    min_hmac_secret_len, KeyError, KeySet, SkipReason, SkippedKey, VerifyKey, MIN_HMAC_SECRET_LEN,
    MIN_RSA_BITS,
};
pub use validation::{DangerousJwtValidation, JwtValidation, MAX_LEEWAY};
#[cfg(feature = "dpop")]
pub(crate) use verify::install_crypto_provider;
pub use verify::{JwtError, JwtVerifier, SharedKeys, VerifiedToken};

/// Re-exported so callers name algorithms without a direct dependency.
pub use jsonwebtoken::Algorithm;

use crate::revocation::RevocationStore;

/// The scheme name in `Authorization`.
pub const SCHEME: &str = "Bearer";

/// Authenticates `Authorization: Bearer <jwt>`.
#[derive(Clone)]
pub struct JwtAuthenticator {
    realm: String,
    verifier: Arc<JwtVerifier>,
    revocation: Option<Arc<dyn RevocationStore>>,
    mapper: Option<Arc<dyn ClaimsMapper>>,
    resource_metadata: Option<String>,
    cache: Option<Arc<cache::TokenCache>>,
    #[cfg(feature = "jwks")]
    source: Option<Arc<JwksSource>>,
}

impl fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthenticator")
            .field("realm", &self.realm)
            .field("verifier", &self.verifier)
            .field("revocation", &self.revocation.is_some())
            .finish_non_exhaustive()
    }
}

impl JwtAuthenticator {
    /// Bearer JWTs for `realm`, verified with `keys` and `validation`.
    pub fn new(realm: impl Into<String>, keys: KeySet, validation: JwtValidation) -> Self {
        Self::with_verifier(realm, JwtVerifier::new(keys, validation))
    }

    /// Bearer JWTs verified by a prepared verifier.
    pub fn with_verifier(realm: impl Into<String>, verifier: JwtVerifier) -> Self {
        Self {
            realm: realm.into(),
            verifier: Arc::new(verifier),
            revocation: None,
            mapper: None,
            resource_metadata: None,
            cache: None,
            #[cfg(feature = "jwks")]
            source: None,
        }
    }

    /// Caches up to `capacity` verified tokens: a repeat token skips
    /// signature verification and claim parsing. Entries never outlive the
    /// token's `exp` or a change of the key set, and the revocation store
    /// is still consulted on every request.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.cache = Some(Arc::new(cache::TokenCache::new(capacity)));
        self
    }

    /// Bearer JWTs verified with the keys of a [`JwksSource`]: an unknown
    /// `kid`, or a signature failing under a known one, refreshes the set
    /// (single-flight, rate-limited). With no usable keys (never fetched,
    /// or stale past the bound) and a provider that cannot be reached, a
    /// token is 503, never 401; with usable keys, a token none of them
    /// verifies is `invalid_token`.
    #[cfg(feature = "jwks")]
    pub fn from_jwks(
        realm: impl Into<String>,
        source: Arc<JwksSource>,
        validation: JwtValidation,
    ) -> Self {
        let mut a = Self::with_verifier(
            realm,
            JwtVerifier::with_shared_keys(source.keys(), validation),
        );
        a.source = Some(source);
        a
    }

    /// Checks every token against a revocation store.
    pub fn revocation(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocation = Some(store);
        self
    }

    /// Adds a custom claims mapping, run after the default one.
    pub fn map_claims(mut self, mapper: impl ClaimsMapper) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }

    /// Adds RFC 9728 `resource_metadata` to the challenges.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.resource_metadata = Some(url.into());
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }

    /// Verifies a raw token and maps it to an identity, without revocation
    /// and without refreshing a key source, at the system's time.
    pub fn identify(&self, token: &str) -> Result<Identity, Unauthenticated> {
        self.identify_at(token, SystemTime::now())
    }

    /// [`identify`](Self::identify) at `now` (the gate's time, from
    /// [`Gate::now`](bouncer_core::Gate::now), for a flow outside the gate
    /// that must agree with it).
    pub fn identify_at(&self, token: &str, now: SystemTime) -> Result<Identity, Unauthenticated> {
        self.map_verified(self.verifier.verify_at(token, claims::unix_secs(now)))
    }

    fn map_verified(
        &self,
        verified: Result<VerifiedToken, JwtError>,
    ) -> Result<Identity, Unauthenticated> {
        let verified = verified.map_err(|e| {
            let reason = match e {
                JwtError::Expired => AuthnReason::TokenExpired,
                JwtError::TooLong => AuthnReason::MalformedCredentials,
                _ => AuthnReason::InvalidToken,
            };
            Unauthenticated::new(reason).with_description(e.description())
        })?;
        let invalid = || Unauthenticated::new(AuthnReason::InvalidToken);
        let binding = verified
            .claims
            .cnf
            .as_ref()
            .and_then(|c| c.jkt.clone())
            .map(KeyBinding);
        let mut identity = match &self.mapper {
            Some(m) => {
                let identity = default_identity(&verified.claims, verified.revocation_id)
                    .ok_or_else(invalid)?;
                m.map(&verified.claims, identity)?
            }
            None => into_identity(verified.claims, verified.revocation_id).ok_or_else(invalid)?,
        };
        if let Some(binding) = binding {
            identity.insert_extension(binding);
        }
        Ok(identity)
    }
}

impl JwtAuthenticator {
    /// The realm.
    #[cfg(feature = "dpop")]
    pub(crate) fn realm(&self) -> &str {
        &self.realm
    }

    /// The revocation check of [`Authenticator::authenticate`].
    pub(crate) async fn check_revoked(&self, identity: &Identity) -> Result<(), AuthnError> {
        if let (Some(store), Some(id)) = (&self.revocation, identity.credential().id()) {
            let revoked = match store.is_revoked_in_memory(id) {
                Some(answer) => answer?,
                None => store.is_revoked(id).await?,
            };
            if revoked {
                return Err(AuthnReason::TokenRevoked.into());
            }
        }
        Ok(())
    }

    /// Through the cache when there is one, at `now` (seconds since the
    /// epoch): a hit, or [`identify_cached`](Self::identify_cached).
    #[cfg(feature = "dpop")]
    pub(crate) async fn identify_through_cache(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Identity, AuthnError> {
        let hit = self
            .cache
            .as_ref()
            .filter(|_| self.keys_usable())
            .and_then(|c| c.get(token, now, self.verifier.keys_generation()));
        match hit {
            Some(identity) => Ok(identity),
            None => self.identify_cached(token, now).await,
        }
    }

    /// Verifies and maps `token` at `now` (seconds since the epoch),
    /// keeping the identity in the cache when there is one. The caller has
    /// looked the token up already: a miss pays for one lookup only.
    pub(crate) async fn identify_cached(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Identity, AuthnError> {
        let Some(cache) = self.cache.as_ref().filter(|_| self.keys_usable()) else {
            return Ok(self.map_verified(self.verify_refreshing(token, now).await?)?);
        };
        // Read before verifying: should a refresh replace the set
        // meanwhile, the entry is filed under the older generation and never
        // served under the newer one.
        let generation = self.verifier.keys_generation();
        let verified = self.verify_refreshing(token, now).await?;
        let exp = verified.as_ref().ok().and_then(|v| v.claims.exp);
        let identity = self.map_verified(verified)?;
        if let Some(exp) = exp {
            cache.insert(token, &identity, exp, generation, now);
        }
        Ok(identity)
    }

    /// Whether the keys may be used: a key source's past its staleness
    /// bound may not, and neither may tokens cached under them.
    fn keys_usable(&self) -> bool {
        #[cfg(feature = "jwks")]
        if let Some(source) = &self.source {
            return source.is_usable();
        }
        true
    }

    /// Verifies, refreshing the key source for an unknown `kid` or a
    /// signature that fails under a known one (a key rotated under the same
    /// `kid`).
    #[cfg(feature = "jwks")]
    async fn verify_refreshing(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Result<VerifiedToken, JwtError>, Fault> {
        let Some(source) = &self.source else {
            return Ok(self.verifier.verify_at(token, now));
        };
        if !source.is_usable() && source.refetch().await != Refetch::Refreshed {
            // No keys yet, or past their bound, and the provider does not answer.
            return Err(source.unavailable());
        }
        match self.verifier.verify_at(token, now) {
            Err(e @ (JwtError::UnknownKey | JwtError::BadSignature)) => {
                match source.refetch().await {
                    Refetch::Refreshed => Ok(self.verifier.verify_at(token, now)),
                    Refetch::Absent => Ok(Err(e)),
                    // Known keys still usable: the provider being down does not
                    // make the token plausible; only with no usable keys at all
                    // is it our failure (503).
                    Refetch::Unreachable
                        if source.is_usable() && !self.verifier.keys().is_empty() =>
                    {
                        Ok(Err(e))
                    }
                    Refetch::Unreachable => Err(source.unavailable()),
                }
            }
            other => Ok(other),
        }
    }

    #[cfg(not(feature = "jwks"))]
    async fn verify_refreshing(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Result<VerifiedToken, JwtError>, Fault> {
        Ok(self.verifier.verify_at(token, now))
    }
}

/// Why a DPoP-bound token sent as a bearer token is refused.
const BOUND_AS_BEARER: &str =
    "the access token is bound to a DPoP key: send it with the DPoP scheme";

/// The text after `Bearer ` of the only `Authorization` field, unchecked.
fn quick_bearer(headers: &http::HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, rest) = value.split_at_checked(SCHEME.len())?;
    (scheme.eq_ignore_ascii_case(SCHEME) && rest.starts_with(' ')).then(|| rest.trim_matches(' '))
}

/// The bearer token of a request, borrowed from the header: `Ok(None)`
/// without a Bearer `Authorization`, `malformed_credentials` for anything
/// that is not `Bearer <b64token>` in exactly one field.
pub fn bearer_token(headers: &http::HeaderMap) -> Result<Option<&str>, AuthnReason> {
    match bearer_token_unchecked(headers)? {
        Some(token) if !bouncer_core::authorization::is_token68(token) => {
            Err(AuthnReason::MalformedCredentials)
        }
        other => Ok(other),
    }
}

/// [`bearer_token`] but for the token68 check, which the authenticator
/// makes only when a token does not verify: a JWT that verifies is
/// base64url segments and dots, so token68 already.
fn bearer_token_unchecked(headers: &http::HeaderMap) -> Result<Option<&str>, AuthnReason> {
    scheme_token(headers, SCHEME)
}

/// The token of `Authorization: <scheme> <token>` (Bearer, DPoP), without
/// the token68 check.
pub(crate) fn scheme_token<'h>(
    headers: &'h http::HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, AuthnReason> {
    let Some(scheme) = scheme_of(headers) else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case(name) {
        return Ok(None);
    }
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values
        .next()
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthnReason::MalformedCredentials)?;
    if values.next().is_some() || value.len() > bouncer_core::authorization::MAX_AUTHORIZATION_LEN {
        return Err(AuthnReason::MalformedCredentials);
    }
    let rest = value
        .trim_matches([' ', '\t'])
        .get(name.len()..)
        .unwrap_or_default();
    // `1*SP` between scheme and token, then the token68 and nothing else.
    if !rest.starts_with(' ') {
        return Err(AuthnReason::MalformedCredentials);
    }
    Ok(Some(rest.trim_start_matches(' ')))
}

#[async_trait]
impl Authenticator for JwtAuthenticator {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        has_scheme(request.headers(), SCHEME)
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        // `exp` and `nbf` are judged at the gate's time, like every stage.
        let now = claims::unix_secs(request.now());
        // A token the cache knows was valid syntax when it was verified:
        // look it up before checking the syntax again.
        let cached = self
            .cache
            .as_ref()
            .filter(|_| self.keys_usable())
            .and_then(|c| {
                let raw = quick_bearer(request.headers())?;
                c.get(raw, now, self.verifier.keys_generation())
            });
        let identity = match cached {
            Some(identity) => identity,
            None => {
                let Some(token) = bearer_token_unchecked(request.headers())? else {
                    return Ok(None);
                };
                match self.identify_cached(token, now).await {
                    Ok(identity) => identity,
                    // Not bearer syntax at all: malformed, whatever else
                    // is wrong with it.
                    Err(_) if !bouncer_core::authorization::is_token68(token) => {
                        return Err(AuthnReason::MalformedCredentials.into());
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        // A DPoP-bound token is worth nothing without its key's proof
        // (RFC 9449 §7.1): as a bearer token it is refused.
        if identity.extension::<KeyBinding>().is_some() {
            return Err(Unauthenticated::new(AuthnReason::InvalidToken)
                .with_description(BOUND_AS_BEARER)
                .into());
        }
        self.check_revoked(&identity).await?;
        Ok(Some(identity))
    }

    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let mut b = Challenge::bearer().realm(self.realm.clone()).context(error);
        if let Some(url) = &self.resource_metadata {
            b = b.resource_metadata(url.clone());
        }
        // A value that cannot be sent (a realm with a newline) drops the
        // optional parts rather than the challenge.
        b.build()
            .ok()
            .or_else(|| Challenge::bearer().realm(self.realm.clone()).build().ok())
    }

    /// Tokens carry `acr`, `amr` and `auth_time`: a fresh token from the
    /// identity provider can meet any step-up.
    fn supports_step_up(&self, _step_up: &StepUp) -> bool {
        true
    }
}

/// Revokes the credential an identity was authenticated with until it
/// expires (for a logout endpoint). Returns `false` when the identity has
/// no revocable credential.
pub async fn revoke(store: &dyn RevocationStore, identity: &Identity) -> Result<bool, Fault> {
    let Some(id) = identity.credential().id() else {
        return Ok(false);
    };
    let until = identity
        .credential()
        .expires_at()
        .unwrap_or_else(|| SystemTime::now() + std::time::Duration::from_secs(24 * 3600));
    store.revoke(id, until).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bouncer_core::{Gate, Requirement, StepUp};
    use jsonwebtoken::{EncodingKey, Header};

    use super::*;

    const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes-for-hs256";
    const ISS: &str = "https://auth.clock.test";
    const AUD: &str = "https://api.clock.test";

    /// Far from the machine's clock: a check made at the system's time
    /// instead of the gate's would be caught.
    const T0: u64 = 1_000_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn token(claims: serde_json::Value) -> String {
        // Building a verifier picks jsonwebtoken's crypto backend, which
        // signing needs too when both backend features are on.
        let _ = bearer(false);
        let key = EncodingKey::from_secret(SECRET);
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    fn bearer(cache: bool) -> JwtAuthenticator {
        let keys = KeySet::new()
            .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .unwrap();
        let a = JwtAuthenticator::new("clock", keys, JwtValidation::new(ISS, AUD));
        if cache {
            a.token_cache(16)
        } else {
            a
        }
    }

    fn decide(gate: &Gate, token: &str, requirement: &Requirement) -> bouncer_core::Verdict {
        let (parts, ()) = http::Request::get("/x")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap()
            .into_parts();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(gate.decide(&RequestContext::from_parts(&parts), requirement))
    }

    fn code(v: &bouncer_core::Verdict) -> &'static str {
        v.decision().denial().map_or("allow", |d| d.code().as_str())
    }

    #[test]
    fn exp_and_nbf_are_judged_at_the_gates_time() {
        // Valid from T0 - 60 to T0 + 300: long expired by the system clock.
        let t = token(serde_json::json!({
            "iss": ISS, "aud": AUD, "sub": "al",
            "iat": T0 - 60, "nbf": T0 - 60, "exp": T0 + 300,
        }));
        let any = Requirement::authenticated();
        for cache in [false, true] {
            let now = |secs| {
                Gate::builder()
                    .authenticator(bearer(cache))
                    .clock(move || at(secs))
                    .build()
            };
            assert_eq!(code(&decide(&now(T0), &t, &any)), "allow", "cache {cache}");
            // Twice: the second may come from the cache, which must judge
            // `exp` at the gate's time too.
            assert_eq!(code(&decide(&now(T0), &t, &any)), "allow", "cache {cache}");
            let g = now(T0 + 300 + 31);
            assert_eq!(
                code(&decide(&g, &t, &any)),
                "token_expired",
                "cache {cache}"
            );
            let g = now(T0 - 60 - 31);
            assert_eq!(
                code(&decide(&g, &t, &any)),
                "invalid_token",
                "cache {cache}"
            );
        }
        // And the system's time, through the gate's default clock.
        let g = Gate::builder().authenticator(bearer(false)).build();
        assert_eq!(code(&decide(&g, &t, &any)), "token_expired");
    }

    #[test]
    fn what_is_not_bearer_syntax_is_malformed_with_or_without_a_cache() {
        let good = token(serde_json::json!({
            "iss": ISS, "aud": AUD, "sub": "al", "exp": T0 + 300,
        }));
        let any = Requirement::authenticated();
        for cache in [false, true] {
            let g = Gate::builder()
                .authenticator(bearer(cache))
                .clock(|| at(T0))
                .build();
            for bad in ["a!b", "a b", "é", &format!("{good}!"), &format!("{good} x")] {
                assert_eq!(
                    code(&decide(&g, bad, &any)),
                    "malformed_credentials",
                    "{bad} cache {cache}"
                );
            }
            // Token68 but not a JWT that verifies: invalid, not malformed.
            assert_eq!(code(&decide(&g, "a.b.c", &any)), "invalid_token");
            assert_eq!(code(&decide(&g, &good, &any)), "allow");
        }
    }

    #[test]
    fn a_cached_token_expires_at_the_gates_time() {
        let t = token(serde_json::json!({
            "iss": ISS, "aud": AUD, "sub": "al", "exp": T0 + 300,
        }));
        let any = Requirement::authenticated();
        let a = bearer(true);
        let g = Gate::builder()
            .authenticator(a.clone())
            .clock(|| at(T0))
            .build();
        assert_eq!(code(&decide(&g, &t, &any)), "allow");
        // The same cache (a clone shares it), a later gate time.
        let g = Gate::builder()
            .authenticator(a)
            .clock(|| at(T0 + 400))
            .build();
        assert_eq!(code(&decide(&g, &t, &any)), "token_expired");
    }

    #[test]
    fn auth_time_for_step_up_is_judged_at_the_gates_time() {
        let t = token(serde_json::json!({
            "iss": ISS, "aud": AUD, "sub": "al", "exp": T0 + 3600,
            "amr": ["mfa"], "auth_time": T0 - 100,
        }));
        let fresh = Requirement::authenticated()
            .step_up(StepUp::new().amr(["mfa"]).max_age(Duration::from_secs(300)));
        let g = Gate::builder()
            .authenticator(bearer(false))
            .clock(|| at(T0))
            .build();
        assert_eq!(code(&decide(&g, &t, &fresh)), "allow");
        let g = Gate::builder()
            .authenticator(bearer(false))
            .clock(|| at(T0 + 201))
            .build();
        let v = decide(&g, &t, &fresh);
        assert_eq!(code(&v), "mfa_required");
        let c = &v.decision().denial().unwrap().challenges()[0];
        assert_eq!(c.get("error"), Some("insufficient_user_authentication"));
        assert_eq!(c.get("max_age"), Some("300"));
    }

    #[test]
    fn identify_at_uses_the_time_it_is_given() {
        let t = token(serde_json::json!({
            "iss": ISS, "aud": AUD, "sub": "al", "exp": T0 + 300,
        }));
        let a = bearer(false);
        assert!(a.identify_at(&t, at(T0)).is_ok());
        assert_eq!(
            a.identify_at(&t, at(T0 + 400)).unwrap_err().reason(),
            AuthnReason::TokenExpired
        );
        assert_eq!(
            a.identify(&t).unwrap_err().reason(),
            AuthnReason::TokenExpired
        );
    }
}
