//! DPoP-bound access tokens (RFC 9449): `Authorization: DPoP <token>` with
//! a `DPoP` proof header.
//!
//! [`DpopAuthenticator`] is a scheme of its own (`dpop`) wrapped around a
//! [`JwtAuthenticator`]: the access token is verified by the JWT machinery
//! exactly as a bearer token is (keys, JWKS refresh, claims, the token
//! cache, revocation, the claims mapping, the gate's clock), then the proof
//! is checked. A separate scheme rather than a mode of the bearer one,
//! because a route may accept both and the 401 then lists both
//! challenges, and because a DPoP-bound token must *not* pass as a bearer
//! token: [`JwtAuthenticator`] refuses a token with `cnf.jkt` (401
//! `invalid_token`).
//!
//! What is checked, in order (RFC 9449 §4.3, §7.1):
//!
//! | check | failure | `error` |
//! |---|---|---|
//! | `Authorization: DPoP <token68>`, one field | `malformed_credentials` | `invalid_request` |
//! | the access token (signature, `exp`, `iss`, `aud`, …), with `cnf.jkt` | `invalid_token` / `token_expired` | `invalid_token` |
//! | exactly one `DPoP` field, at most [`DEFAULT_MAX_PROOF_LEN`] bytes | `invalid_token` | `invalid_dpop_proof` |
//! | `typ` `dpop+jwt`, an allowed asymmetric `alg`, no `crit`, a public `jwk` without private members | `invalid_token` | `invalid_dpop_proof` |
//! | the signature, with the `jwk` | `invalid_token` | `invalid_dpop_proof` |
//! | `htm`, `htu` (normalized, without query and fragment), `iat` window, `ath` | `invalid_token` | `invalid_dpop_proof` |
//! | the `jwk`'s thumbprint is the token's `cnf.jkt` | `invalid_token` | `invalid_dpop_proof` |
//! | the server nonce, when [`nonces`](DpopAuthenticator::nonces) are on | `invalid_token`, with a `DPoP-Nonce` field | `use_dpop_nonce` |
//! | revocation of the token | `token_revoked` | `invalid_token` |
//! | the proof's `jti` was not seen before (the replay store) | `invalid_token` | `invalid_dpop_proof` |
//!
//! The problem body's `code` is the contract's (`invalid_token` for a bad
//! proof too); the challenge's `error` says which part failed. The
//! challenge is `DPoP realm="…", algs="ES256 …"`, plus `error` and
//! `error_description` for the failing request.
//!
//! **Replays.** A proof's `jti` (scoped by its key) is recorded in a
//! [`ReplayStore`] for the proof's window before the request is allowed.
//! With several instances, give them one shared store (`bouncer-redis`'s
//! `RedisStore`), so a proof replayed on another instance is refused; a
//! store that cannot answer is 503, never allow.
//!
//! **The request's URL.** `htu` is compared with the URL the client used,
//! which a server behind a proxy does not see: set it with
//! [`DpopAuthenticator::origin`] (fixed scheme, authority and an optional
//! path prefix). By default the request's own authority (an absolute URI,
//! or its one `Host` field) is used with `https`.
//!
//! ```
//! use std::sync::Arc;
//! use bouncer_authn::dpop::DpopAuthenticator;
//! use bouncer_authn::jwt::{Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
//! use bouncer_store::MemoryReplayStore;
//!
//! let keys = KeySet::new()
//!     .with(VerifyKey::hmac(Algorithm::HS256, b"an-hs256-secret-of-at-least-32-bytes!")?)?;
//! let jwt = JwtAuthenticator::new("api", keys, JwtValidation::new("https://auth.example", "https://api.example"));
//! let dpop = DpopAuthenticator::new(jwt.clone(), Arc::new(MemoryReplayStore::new()))
//!     .origin("https://api.example")?;
//! let gate = bouncer_core::Gate::builder().authenticator(jwt).authenticator(dpop).build();
//! # let _ = gate;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod htu;
mod nonce;
mod proof;
mod signer;
mod thumbprint;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bouncer_core::authorization::has_scheme;
use bouncer_core::{
    Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Identity, RequestContext,
    SchemeName, StepUp, Unauthenticated,
};
use bouncer_store::ReplayStore;
use http::{HeaderName, HeaderValue};

pub use htu::{normalize_htu, MAX_HTU_LEN};
pub use nonce::{NonceError, NonceSource, MIN_NONCE_SECRET_LEN};
pub use proof::{
    access_token_hash, ProofError, ProofRequest, ProofValidator, VerifiedProof,
    DEFAULT_MAX_PROOF_LEN, DEFAULT_PROOF_ALGS, MAX_JTI_LEN, PROOF_TYP,
};
pub use signer::{ProofSigner, SignerError};
pub use thumbprint::jwk_thumbprint;

use crate::jwt::{JwtAuthenticator, KeyBinding};

/// The scheme name in `Authorization` and `WWW-Authenticate`.
pub const SCHEME: &str = "DPoP";

/// The scheme as routes list it.
pub const SCHEME_NAME: SchemeName = SchemeName::from_static("dpop");

/// The proof's header field.
pub const DPOP_HEADER: HeaderName = HeaderName::from_static("dpop");

/// The server-nonce header field (RFC 9449 §8.1).
pub const DPOP_NONCE_HEADER: HeaderName = HeaderName::from_static("dpop-nonce");

/// `error` for a bad proof (RFC 9449 §7.1).
pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";

/// `error` when the server nonce is missing or stale (RFC 9449 §9).
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";

/// Where the request's URL (for `htu`) comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A fixed `scheme://authority` and a path prefix.
    Fixed { origin: String, prefix: String },
    /// The request's authority with this scheme.
    Request { scheme: &'static str },
}

/// Why an origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an absolute http(s) URL without query, fragment or user information: {0}")]
pub struct OriginError(String);

/// Authenticates `Authorization: DPoP <token>` with its `DPoP` proof.
#[derive(Clone)]
pub struct DpopAuthenticator {
    jwt: JwtAuthenticator,
    proofs: ProofValidator,
    replay: Arc<dyn ReplayStore>,
    nonces: Option<NonceSource>,
    origin: Origin,
    algs: String,
}

impl fmt::Debug for DpopAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopAuthenticator")
            .field("jwt", &self.jwt)
            .field("proofs", &self.proofs)
            .field("nonces", &self.nonces)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn algs_param(v: &ProofValidator) -> String {
    v.allowed_algorithms()
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl DpopAuthenticator {
    /// DPoP-bound tokens verified by `jwt` (its keys, validation, cache,
    /// revocation and claims mapping), with proofs' `jti`s recorded in
    /// `replay`.
    pub fn new(jwt: JwtAuthenticator, replay: Arc<dyn ReplayStore>) -> Self {
        let proofs = ProofValidator::new();
        Self {
            algs: algs_param(&proofs),
            jwt,
            proofs,
            replay,
            nonces: None,
            origin: Origin::Request { scheme: "https" },
        }
    }

    /// Checks proofs with `validator` (algorithms, `iat` window, size).
    pub fn proofs(mut self, validator: ProofValidator) -> Self {
        self.algs = algs_param(&validator);
        self.proofs = validator;
        self
    }

    /// Requires server nonces from `source` (RFC 9449 §9): a proof
    /// without a current one is 401 `use_dpop_nonce` with a `DPoP-Nonce`
    /// field to retry with.
    pub fn nonces(mut self, source: NonceSource) -> Self {
        self.nonces = Some(source);
        self
    }

    /// The URL clients use, `scheme://authority` with an optional path
    /// prefix (a proxy that strips `/api` in front of the service:
    /// `https://example.com/api`): `htu` must be it followed by the
    /// request's path.
    pub fn origin(mut self, url: &str) -> Result<Self, OriginError> {
        let refuse = || OriginError(url.to_owned());
        if url.contains(['?', '#']) {
            return Err(refuse());
        }
        let normalized = normalize_htu(url).ok_or_else(refuse)?;
        let (scheme, rest) = normalized.split_once("://").ok_or_else(refuse)?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = path.trim_end_matches('/');
        self.origin = Origin::Fixed {
            origin: format!("{scheme}://{authority}"),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("/{prefix}")
            },
        };
        Ok(self)
    }

    /// Takes the authority from the request (absolute URI or `Host`) with
    /// `scheme` (`http` or `https`); use only where the `Host` the client
    /// sent reaches this server unchanged.
    pub fn origin_from_request(mut self, https: bool) -> Self {
        self.origin = Origin::Request {
            scheme: if https { "https" } else { "http" },
        };
        self
    }

    /// The proof validator.
    pub fn validator(&self) -> &ProofValidator {
        &self.proofs
    }

    /// The normalized URL of `request` for `htu`, `None` when it cannot
    /// be known (no or several `Host` fields).
    fn request_htu(&self, request: &RequestContext<'_>) -> Option<String> {
        let path = request.path();
        match &self.origin {
            Origin::Fixed { origin, prefix } => htu::request_htu(origin, prefix, path),
            Origin::Request { scheme } => {
                let authority = match request.uri().authority() {
                    Some(a) => a.as_str().to_owned(),
                    None => {
                        let mut hosts = request.headers().get_all(http::header::HOST).iter();
                        let host = hosts.next()?.to_str().ok()?;
                        if hosts.next().is_some() {
                            return None;
                        }
                        host.to_owned()
                    }
                };
                htu::request_htu(&format!("{scheme}://{authority}"), "", path)
            }
        }
    }

    fn proof_rejection(e: ProofError) -> Unauthenticated {
        Unauthenticated::new(AuthnReason::InvalidToken)
            .with_description(e.description())
            .with_error_code(INVALID_DPOP_PROOF)
    }

    /// The one `DPoP` field.
    fn proof_header<'r>(&self, request: &RequestContext<'r>) -> Result<&'r str, ProofError> {
        let mut values = request.headers().get_all(DPOP_HEADER).iter();
        let value = values.next().ok_or(ProofError::Missing)?;
        if values.next().is_some() {
            return Err(ProofError::Several);
        }
        let value = value.to_str().map_err(|_| ProofError::Malformed)?;
        if value.len() > self.proofs.max_proof_len() {
            return Err(ProofError::TooLong);
        }
        Ok(value.trim_matches([' ', '\t']))
    }
}

#[async_trait]
impl Authenticator for DpopAuthenticator {
    fn scheme(&self) -> SchemeName {
        SCHEME_NAME
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        has_scheme(request.headers(), SCHEME)
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let Some(token) = crate::jwt::scheme_token(request.headers(), SCHEME)? else {
            return Ok(None);
        };
        if !bouncer_core::authorization::is_token68(token) {
            return Err(AuthnReason::MalformedCredentials.into());
        }
        let now = request.now();
        let secs = crate::jwt::unix_secs(now);
        let identity = self.jwt.identify_through_cache(token, secs).await?;
        let Some(binding) = identity.extension::<KeyBinding>() else {
            return Err(Unauthenticated::new(AuthnReason::InvalidToken)
                .with_description("the access token is not bound to a DPoP key")
                .into());
        };
        let raw = self.proof_header(request).map_err(Self::proof_rejection)?;
        let htu = self
            .request_htu(request)
            .ok_or_else(|| Self::proof_rejection(ProofError::WrongUri))?;
        let proof = self
            .proofs
            .validate(
                raw,
                &ProofRequest {
                    method: request.method().as_str(),
                    htu: &htu,
                    access_token: token,
                    now: secs,
                },
            )
            .map_err(Self::proof_rejection)?;
        if proof.jkt != binding.jkt() {
            return Err(Self::proof_rejection(ProofError::WrongKey).into());
        }
        if let Some(nonces) = &self.nonces {
            let fresh = proof
                .nonce
                .as_deref()
                .is_some_and(|n| nonces.is_valid(n, now));
            if !fresh {
                let mut r = Unauthenticated::new(AuthnReason::InvalidToken)
                    .with_description("a fresh DPoP nonce is required")
                    .with_error_code(USE_DPOP_NONCE);
                if let Ok(v) = HeaderValue::from_str(&nonces.current(now)) {
                    r = r.with_header(DPOP_NONCE_HEADER, v);
                }
                return Err(r.into());
            }
        }
        self.jwt.check_revoked(&identity).await?;
        // Last, so that only a request that would be allowed spends a
        // write; scoped by the key, so nobody can burn another key's ids.
        let id = format!("dpop:{}.{}", proof.jkt, proof.jti);
        // Until the proof could no longer be accepted: `iat` + window (an
        // `iat` a little ahead of our clock stays acceptable longer).
        let last = proof.iat.saturating_add(self.proofs.window().as_secs());
        let ttl = Duration::from_secs(last.saturating_sub(secs).saturating_add(1));
        if !self.replay.first_use(&id, ttl).await? {
            return Err(Self::proof_rejection(ProofError::Replayed).into());
        }
        Ok(Some(identity))
    }

    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let base = || {
            Challenge::new(SCHEME)
                .and_then(|c| c.quoted_param("realm", self.jwt.realm()))
                .and_then(|c| c.quoted_param("algs", &self.algs))
        };
        let Some(ctx) = error else {
            return base().ok();
        };
        let mut c = base().ok()?;
        // The scheme's own code first; `with_context` then adds what is
        // still missing (RFC 6750's `error`, `scope`, the step-up's
        // `acr_values` and `max_age`).
        if let Some(code) = ctx.error_code {
            let with = c
                .clone()
                .quoted_param("error", code)
                .and_then(|c| c.quoted_param("error_description", ctx.description));
            if let Ok(next) = with {
                c = next;
            }
        }
        Some(c.with_context(Some(ctx)))
    }

    fn supports_step_up(&self, _step_up: &StepUp) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
