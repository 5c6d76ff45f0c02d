//! API keys for service principals, from a header (`X-API-Key`) or an
//! `Authorization` scheme.
//!
//! Keys are stored as SHA-256 digests and found by digest: a lookup hashes
//! the presented key and looks the digest up, so a wrong key takes the same
//! path whatever it shares with a real one — its public prefix included
//! (the first [`PREFIX_LEN`] characters, kept only to name the key). The
//! digest, not the key, is what timing could reveal, and a digest does not
//! lead back to a key. SHA-256 (not argon2) is the right hash here: API keys
//! are long random strings, not human passwords.
//!
//! ```
//! use bouncer_authn::api_key::{ApiKeyAuthenticator, MemoryApiKeyStore, StoredApiKey};
//!
//! let mut keys = MemoryApiKeyStore::new();
//! keys.insert(StoredApiKey::from_plaintext("svc-reporter", "kq3v8...long-random-key"));
//! let auth = ApiKeyAuthenticator::header("x-api-key", keys);
//! # let _ = auth;
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bouncer_core::authorization::{has_scheme, Credentials};
use bouncer_core::{
    Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Fault, Identity,
    PrincipalKind, RequestContext, SchemeName,
};
use http::HeaderName;

use crate::secret::{hex, parse_hex32, sha256};

/// How many leading characters of a key index it.
pub const PREFIX_LEN: usize = 8;

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 512;

/// A stored key: its prefix, the SHA-256 of the whole key, and whom it
/// authenticates. `Debug` shows the prefix only.
#[derive(Clone)]
pub struct StoredApiKey {
    prefix: String,
    digest: [u8; 32],
    subject: String,
    kind: PrincipalKind,
}

/// Why a stored key could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The digest is not 64 hex digits.
    #[error("the sha256 digest must be 64 hex digits")]
    BadDigest,
}

fn prefix_of(key: &str) -> &str {
    let end = key
        .char_indices()
        .nth(PREFIX_LEN)
        .map_or(key.len(), |(i, _)| i);
    key.get(..end).unwrap_or(key)
}

impl StoredApiKey {
    /// Hashes a plaintext key for `subject` (a service principal).
    pub fn from_plaintext(subject: impl Into<String>, key: &str) -> Self {
        Self {
            prefix: prefix_of(key).to_owned(),
            digest: sha256(key.as_bytes()),
            subject: subject.into(),
            kind: PrincipalKind::Service,
        }
    }

    /// A key stored as its prefix and hex SHA-256 digest.
    pub fn from_digest(
        subject: impl Into<String>,
        prefix: impl Into<String>,
        sha256_hex: &str,
    ) -> Result<Self, ApiKeyError> {
        Ok(Self {
            prefix: prefix.into(),
            digest: parse_hex32(sha256_hex).ok_or(ApiKeyError::BadDigest)?,
            subject: subject.into(),
            kind: PrincipalKind::Service,
        })
    }

    /// Makes the key authenticate a user rather than a service.
    pub fn for_user(mut self) -> Self {
        self.kind = PrincipalKind::User;
        self
    }

    /// The public prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hex digest (what to store).
    pub fn digest_hex(&self) -> String {
        hex(&self.digest)
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Debug for StoredApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredApiKey")
            .field("prefix", &self.prefix)
            .field("digest", &"<redacted>")
            .field("subject", &self.subject)
            .finish()
    }
}

/// Whom a key authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    /// The subject.
    pub subject: String,
    /// User or service.
    pub kind: PrincipalKind,
}

/// Finds the owner of a presented key.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// The owner of `key`, `None` if no key matches. Errors are faults.
    async fn find(&self, key: &str) -> Result<Option<KeyOwner>, Fault>;
}

/// An in-memory key store.
#[derive(Debug, Default, Clone)]
pub struct MemoryApiKeyStore {
    by_digest: HashMap<[u8; 32], StoredApiKey>,
}

impl MemoryApiKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    pub fn insert(&mut self, key: StoredApiKey) {
        self.by_digest.insert(key.digest, key);
    }

    /// Looks a key up synchronously.
    pub fn lookup(&self, key: &str) -> Option<KeyOwner> {
        self.by_digest
            .get(&sha256(key.as_bytes()))
            .map(|c| KeyOwner {
                subject: c.subject.clone(),
                kind: c.kind,
            })
    }
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeyStore {
    async fn find(&self, key: &str) -> Result<Option<KeyOwner>, Fault> {
        Ok(self.lookup(key))
    }
}

/// Where the key is sent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ApiKeySource {
    /// A dedicated header, e.g. `X-API-Key`.
    Header(HeaderName),
    /// An `Authorization` scheme, e.g. `Authorization: ApiKey <key>`.
    AuthorizationScheme(String),
}

/// Authenticates service principals by API key.
#[derive(Clone)]
pub struct ApiKeyAuthenticator {
    source: ApiKeySource,
    store: Arc<dyn ApiKeyStore>,
}

impl fmt::Debug for ApiKeyAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyAuthenticator")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl ApiKeyAuthenticator {
    /// Keys in the header `name` (an invalid header name falls back to
    /// `x-api-key`).
    pub fn header(name: &str, store: impl ApiKeyStore) -> Self {
        let name = HeaderName::try_from(name).unwrap_or(HeaderName::from_static("x-api-key"));
        Self {
            source: ApiKeySource::Header(name),
            store: Arc::new(store),
        }
    }

    /// Keys in `Authorization: <scheme> <key>`.
    pub fn authorization_scheme(scheme: impl Into<String>, store: impl ApiKeyStore) -> Self {
        Self {
            source: ApiKeySource::AuthorizationScheme(scheme.into()),
            store: Arc::new(store),
        }
    }

    /// Keys from `source` in a shared store.
    pub fn with_store(source: ApiKeySource, store: Arc<dyn ApiKeyStore>) -> Self {
        Self { source, store }
    }

    fn presented<'a>(&self, request: &RequestContext<'a>) -> Result<Option<String>, AuthnReason> {
        match &self.source {
            ApiKeySource::Header(name) => {
                let mut values = request.headers().get_all(name).iter();
                let Some(v) = values.next() else {
                    return Ok(None);
                };
                if values.next().is_some() || v.len() > MAX_KEY_LEN {
                    return Err(AuthnReason::InvalidCredentials);
                }
                let s = v.to_str().map_err(|_| AuthnReason::InvalidCredentials)?;
                Ok(Some(s.trim().to_owned()))
            }
            ApiKeySource::AuthorizationScheme(scheme) => {
                if !has_scheme(request.headers(), scheme) {
                    return Ok(None);
                }
                let creds = Credentials::from_headers(request.headers())
                    .map_err(|_| AuthnReason::MalformedCredentials)?
                    .ok_or(AuthnReason::MalformedCredentials)?;
                creds
                    .token68()
                    .map(|t| Some(t.to_owned()))
                    .ok_or(AuthnReason::MalformedCredentials)
            }
        }
    }
}

#[async_trait]
impl Authenticator for ApiKeyAuthenticator {
    fn scheme(&self) -> SchemeName {
        SchemeName::API_KEY
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        match &self.source {
            ApiKeySource::Header(name) => request.headers().contains_key(name),
            ApiKeySource::AuthorizationScheme(scheme) => has_scheme(request.headers(), scheme),
        }
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let Some(key) = self.presented(request)? else {
            return Ok(None);
        };
        if key.is_empty() {
            return Err(AuthnReason::InvalidCredentials.into());
        }
        match self.store.find(&key).await? {
            Some(KeyOwner {
                subject,
                kind: PrincipalKind::User,
            }) => Ok(Some(Identity::user(subject, SchemeName::API_KEY))),
            Some(owner) => Ok(Some(Identity::service(owner.subject, SchemeName::API_KEY))),
            None => Err(AuthnReason::InvalidCredentials.into()),
        }
    }

    fn challenge(&self, _error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        // No registered challenge scheme for API keys (contract §2).
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_prefix_and_digest() {
        let mut s = MemoryApiKeyStore::new();
        s.insert(StoredApiKey::from_plaintext("svc", "demo-reporter-key"));
        assert_eq!(s.lookup("demo-reporter-key").unwrap().subject, "svc");
        assert!(s.lookup("demo-reporter-kez").is_none());
        assert!(s.lookup("x").is_none());
        assert!(s.lookup("").is_none());
    }

    #[test]
    fn digest_round_trip_and_redaction() {
        let k = StoredApiKey::from_plaintext("svc", "demo-reporter-key");
        let k2 = StoredApiKey::from_digest("svc", k.prefix(), &k.digest_hex()).unwrap();
        let mut s = MemoryApiKeyStore::new();
        s.insert(k2.clone());
        assert!(s.lookup("demo-reporter-key").is_some());
        let dbg = format!("{k2:?}");
        assert!(!dbg.contains(&k.digest_hex()));
        assert!(!dbg.contains("demo-reporter-key"));
    }

    #[test]
    fn multibyte_prefix_does_not_panic() {
        assert_eq!(prefix_of("ééééééééééé"), "éééééééé");
        assert_eq!(prefix_of("ab"), "ab");
    }
}
