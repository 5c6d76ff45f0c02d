//! Credential stores from configuration, e.g. the `[credentials]` table of
//! a policy file. Only hashes are stored: argon2id PHC strings for
//! passwords, a prefix and a SHA-256 digest for API keys (make them with
//! `cargo xtask hash-password` and `cargo xtask api-key`).
//!
//! ```
//! use bouncer_authn::config::CredentialsConfig;
//!
//! let cfg: CredentialsConfig = serde_json::from_str(r#"{
//!   "api_keys": { "svc-reporter": { "prefix": "demo-rep",
//!     "sha256": "4d8c2b3c3c0a86b0a5b7a1e7e7a3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5" } }
//! }"#)?;
//! let keys = cfg.api_key_store()?;
//! # let _ = keys;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::api_key::{MemoryApiKeyStore, StoredApiKey};
use crate::basic::{MemoryCredentialStore, PasswordHash};

/// The credentials section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsConfig {
    /// user name → argon2id PHC string.
    #[serde(default)]
    pub passwords: BTreeMap<String, String>,
    /// subject → stored API key.
    #[serde(default)]
    pub api_keys: BTreeMap<String, ApiKeyConfig>,
    /// subject → base32 TOTP secret (second factor enrolment; read by
    /// `bouncer-session`).
    #[serde(default)]
    pub totp: BTreeMap<String, String>,
}

/// One stored API key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// The key's public prefix (its first 8 characters).
    pub prefix: String,
    /// Hex SHA-256 of the whole key.
    pub sha256: String,
    /// `user` to authenticate a user instead of a service.
    #[serde(default)]
    pub kind: Option<String>,
}

/// A credential entry that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A password entry that is not an argon2 PHC string.
    #[error("password of `{user}` is not an argon2 PHC string")]
    Password {
        /// The user.
        user: String,
    },
    /// A TOTP secret that is not base32 (reported by `bouncer-session`,
    /// which reads the `totp` table).
    #[error("TOTP secret of `{subject}` is not base32")]
    Totp {
        /// The subject.
        subject: String,
    },
    /// An API key entry with a bad digest or kind.
    #[error("API key of `{subject}` is invalid: {reason}")]
    ApiKey {
        /// The subject.
        subject: String,
        /// What is wrong.
        reason: &'static str,
    },
}

impl CredentialsConfig {
    /// The password store.
    pub fn password_store(&self) -> Result<MemoryCredentialStore, ConfigError> {
        let mut store = MemoryCredentialStore::new();
        for (user, phc) in &self.passwords {
            let hash = PasswordHash::from_phc(phc.clone())
                .map_err(|_| ConfigError::Password { user: user.clone() })?;
            store.insert(user.clone(), hash);
        }
        Ok(store)
    }

    /// The API key store.
    pub fn api_key_store(&self) -> Result<MemoryApiKeyStore, ConfigError> {
        let mut store = MemoryApiKeyStore::new();
        for (subject, k) in &self.api_keys {
            let bad = |reason| ConfigError::ApiKey {
                subject: subject.clone(),
                reason,
            };
            let mut key = StoredApiKey::from_digest(subject.clone(), k.prefix.clone(), &k.sha256)
                .map_err(|_| bad("the sha256 digest must be 64 hex digits"))?;
            match k.kind.as_deref() {
                None | Some("service") => {}
                Some("user") => key = key.for_user(),
                Some(_) => return Err(bad("kind must be `service` or `user`")),
            }
            store.insert(key);
        }
        Ok(store)
    }
}
