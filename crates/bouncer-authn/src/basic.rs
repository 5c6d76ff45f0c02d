//! HTTP Basic authentication (RFC 7617) against argon2id password hashes.
//!
//! - `user-pass = user-id ":" password` in UTF-8 (`charset="UTF-8"` is
//!   announced in the challenge); the password may contain `:`, the user-id
//!   may not, so the split is at the first `:`.
//! - Bad base64, invalid UTF-8 or no `:` is `malformed_credentials`.
//! - A wrong password and an unknown user are both `invalid_credentials`,
//!   with identical bodies, and cost the same time: an unknown user is
//!   verified against a dummy hash made with the same parameters.
//!
//! ```
//! use bouncer_authn::basic::{BasicAuthenticator, MemoryCredentialStore, PasswordHash};
//!
//! let mut store = MemoryCredentialStore::new();
//! store.insert("alice", PasswordHash::hash("alice-pass")?);
//! let basic = BasicAuthenticator::new("api", store);
//! # let _ = basic;
//! # Ok::<(), bouncer_authn::basic::PasswordHashError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use base64::Engine as _;
use bouncer_core::authorization::{has_scheme, Credentials};
use bouncer_core::{
    AuthContext, Authenticator, AuthnError, AuthnReason, Challenge, ChallengeContext, Fault,
    Identity, RequestContext, SchemeName,
};

/// The scheme name in `Authorization`.
pub const SCHEME: &str = "Basic";

/// Longest accepted token68 (base64 of user-pass), in bytes.
pub const MAX_TOKEN_LEN: usize = 4096;

/// A password hash in PHC string format (argon2id). `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

/// Why a password hash could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordHashError {
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    /// The string is not a PHC hash argon2 can verify.
    #[error("not an argon2 PHC string: {0}")]
    Parse(argon2::password_hash::Error),
}

impl PasswordHash {
    /// Hashes `password` with argon2id and the default (OWASP) parameters.
    pub fn hash(password: &str) -> Result<Self, PasswordHashError> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| Self(h.to_string()))
            .map_err(PasswordHashError::Hash)
    }

    /// Reads a stored PHC string (e.g. `$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub fn from_phc(phc: impl Into<String>) -> Result<Self, PasswordHashError> {
        let phc = phc.into();
        argon2::PasswordHash::new(&phc).map_err(PasswordHashError::Parse)?;
        Ok(Self(phc))
    }

    /// The PHC string (store this).
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Verifies `password` (constant-time inside argon2).
    pub fn verify(&self, password: &[u8]) -> bool {
        match argon2::PasswordHash::new(&self.0) {
            Ok(parsed) => Argon2::default().verify_password(password, &parsed).is_ok(),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A user's stored credential.
#[derive(Debug, Clone)]
pub struct StoredPassword {
    /// The subject the identity gets (often the user name).
    pub subject: String,
    /// The password hash.
    pub hash: PasswordHash,
}

/// Looks up password hashes by user name.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// The stored credential of `user`, `None` if unknown. Errors are
    /// faults, never "wrong password".
    async fn find(&self, user: &str) -> Result<Option<StoredPassword>, Fault>;
}

/// An in-memory credential store.
#[derive(Debug, Default, Clone)]
pub struct MemoryCredentialStore {
    users: HashMap<String, StoredPassword>,
}

impl MemoryCredentialStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `user` (whose subject is the user name).
    pub fn insert(&mut self, user: impl Into<String>, hash: PasswordHash) {
        let user = user.into();
        self.users.insert(
            user.clone(),
            StoredPassword {
                subject: user,
                hash,
            },
        );
    }

    /// Adds `user` with a different subject.
    pub fn insert_with_subject(
        &mut self,
        user: impl Into<String>,
        subject: impl Into<String>,
        hash: PasswordHash,
    ) {
        self.users.insert(
            user.into(),
            StoredPassword {
                subject: subject.into(),
                hash,
            },
        );
    }

    /// How many users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

#[async_trait]
impl CredentialStore for MemoryCredentialStore {
    async fn find(&self, user: &str) -> Result<Option<StoredPassword>, Fault> {
        Ok(self.users.get(user).cloned())
    }
}

/// Decoded Basic credentials. `Debug` redacts the password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserPass {
    /// The user-id.
    pub user: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for UserPass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPass")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Decodes a Basic token68: base64, UTF-8, split at the first `:`.
pub fn decode_user_pass(token68: &str) -> Result<UserPass, AuthnReason> {
    if token68.len() > MAX_TOKEN_LEN {
        return Err(AuthnReason::MalformedCredentials);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token68)
        .map_err(|_| AuthnReason::MalformedCredentials)?;
    let text = String::from_utf8(bytes).map_err(|_| AuthnReason::MalformedCredentials)?;
    let (user, password) = text
        .split_once(':')
        .ok_or(AuthnReason::MalformedCredentials)?;
    Ok(UserPass {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// Reads Basic credentials from the `Authorization` header. `Ok(None)` when
/// the header is absent or of another scheme.
pub fn user_pass_from_headers(headers: &http::HeaderMap) -> Result<Option<UserPass>, AuthnReason> {
    if !has_scheme(headers, SCHEME) {
        return Ok(None);
    }
    let creds = Credentials::from_headers(headers)
        .map_err(|_| AuthnReason::MalformedCredentials)?
        .ok_or(AuthnReason::MalformedCredentials)?;
    let token = creds.token68().ok_or(AuthnReason::MalformedCredentials)?;
    decode_user_pass(token).map(Some)
}

/// Verifies user names and passwords against a [`CredentialStore`]. The
/// check is also usable on its own (for a login endpoint) through
/// [`verify`](PasswordVerifierHandle::verify).
#[derive(Clone)]
pub struct BasicAuthenticator {
    realm: String,
    verifier: PasswordVerifierHandle,
}

impl fmt::Debug for BasicAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthenticator")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// Checks a user name and password with the timing of a real check for
/// unknown users. Shared by Basic and by session logins.
#[derive(Clone)]
pub struct PasswordVerifierHandle {
    store: Arc<dyn CredentialStore>,
    dummy: PasswordHash,
}

impl PasswordVerifierHandle {
    /// A verifier over `store`.
    pub fn new(store: impl CredentialStore) -> Self {
        Self::from_arc(Arc::new(store))
    }

    /// A verifier over a shared store.
    pub fn from_arc(store: Arc<dyn CredentialStore>) -> Self {
        // Same parameters as real hashes, so an unknown user costs the same.
        let dummy = PasswordHash::hash("bouncer-dummy-password")
            .unwrap_or_else(|_| PasswordHash(String::new()));
        Self { store, dummy }
    }

    /// The subject for `user` if `password` is right; `invalid_credentials`
    /// for a wrong password and an unknown user alike.
    pub async fn verify(&self, user: &str, password: &str) -> Result<String, AuthnError> {
        let stored = self.store.find(user).await?;
        let (hash, subject) = match stored {
            Some(s) => (s.hash, Some(s.subject)),
            None => (self.dummy.clone(), None),
        };
        let ok = verify_off_thread(hash, password.as_bytes().to_vec()).await?;
        match (ok, subject) {
            (true, Some(subject)) => Ok(subject),
            _ => Err(AuthnReason::InvalidCredentials.into()),
        }
    }
}

#[cfg(feature = "tokio")]
async fn verify_off_thread(hash: PasswordHash, password: Vec<u8>) -> Result<bool, Fault> {
    // argon2 takes tens of milliseconds by design: keep it off the async
    // worker threads when a tokio runtime is there.
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::task::spawn_blocking(move || hash.verify(&password))
            .await
            .map_err(|e| Fault::internal("password verification task failed", e))
    } else {
        Ok(hash.verify(&password))
    }
}

#[cfg(not(feature = "tokio"))]
async fn verify_off_thread(hash: PasswordHash, password: Vec<u8>) -> Result<bool, Fault> {
    Ok(hash.verify(&password))
}

impl BasicAuthenticator {
    /// Basic authentication for `realm` over `store`.
    pub fn new(realm: impl Into<String>, store: impl CredentialStore) -> Self {
        Self {
            realm: realm.into(),
            verifier: PasswordVerifierHandle::new(store),
        }
    }

    /// Basic authentication over a shared verifier.
    pub fn with_verifier(realm: impl Into<String>, verifier: PasswordVerifierHandle) -> Self {
        Self {
            realm: realm.into(),
            verifier,
        }
    }

    /// The password verifier (for login endpoints).
    pub fn verifier(&self) -> &PasswordVerifierHandle {
        &self.verifier
    }
}

#[async_trait]
impl Authenticator for BasicAuthenticator {
    fn scheme(&self) -> SchemeName {
        SchemeName::BASIC
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        has_scheme(request.headers(), SCHEME)
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let Some(up) = user_pass_from_headers(request.headers())? else {
            return Ok(None);
        };
        let subject = self.verifier.verify(&up.user, &up.password).await?;
        let auth = AuthContext::new()
            .with_amr(["pwd"])
            .with_auth_time(request.now());
        Ok(Some(
            Identity::user(subject, SchemeName::BASIC).with_auth_context(auth),
        ))
    }

    fn challenge(&self, _error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        // Basic defines no error parameters: the reason is in the body.
        Challenge::basic(&self.realm).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7617_vectors() {
        let up = decode_user_pass("QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert_eq!(
            (up.user.as_str(), up.password.as_str()),
            ("Aladdin", "open sesame")
        );
        // "test:123£" in UTF-8 (RFC 7617 §2.1).
        let up = decode_user_pass("dGVzdDoxMjPCow==").unwrap();
        assert_eq!((up.user.as_str(), up.password.as_str()), ("test", "123£"));
    }

    #[test]
    fn password_may_contain_colons() {
        let token = base64::engine::general_purpose::STANDARD.encode("grace:p@ss:wörd");
        let up = decode_user_pass(&token).unwrap();
        assert_eq!(up.user, "grace");
        assert_eq!(up.password, "p@ss:wörd");
    }

    #[test]
    fn malformed_inputs() {
        for t in ["%%%", "bm9jb2xvbg==", "/w==", ""] {
            assert_eq!(
                decode_user_pass(t),
                Err(AuthnReason::MalformedCredentials),
                "{t}"
            );
        }
    }

    #[test]
    fn debug_redacts_password_and_hash() {
        let up = UserPass {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{up:?}").contains("hunter2"));
        let h = PasswordHash::hash("hunter2").unwrap();
        assert!(!format!("{h:?}").contains("argon2"));
        assert!(h.verify(b"hunter2"));
        assert!(!h.verify(b"hunter3"));
    }
}
