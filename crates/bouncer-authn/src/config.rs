//! Credential stores from configuration, e.g. the `[credentials]` table of
//! a policy file. Only hashes are stored: argon2id PHC strings for
//! passwords, a prefix and a SHA-256 digest for API keys (make them with
//! `cargo xtask hash-password` and `cargo xtask api-key`).
//!
//! [`CredentialsConfig::from_file`] and [`CredentialsConfig::from_toml_str`]
//! read only the `[credentials]` table of a TOML file: the rest of a
//! shared policy file belongs to other loaders (bouncer-authz reads the
//! policy and `[guards]`). Errors name the file, line and column.
//!
//! ```
//! use bouncer_authn::config::CredentialsConfig;
//!
//! let cfg = CredentialsConfig::from_toml_str("policy.toml", r#"
//!     [roles.viewer]                  # not read here
//!     permissions = ["documents:read"]
//!
//!     [credentials.api_keys.svc-reporter]
//!     prefix = "demo-rep"
//!     sha256 = "4d8c2b3c3c0a86b0a5b7a1e7e7a3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5"
//! "#)?;
//! let keys = cfg.api_key_store()?;
//! # let _ = keys;
//!
//! // The table alone, in any serde format:
//! let cfg: CredentialsConfig = serde_json::from_str(r#"{
//!   "api_keys": { "svc-reporter": { "prefix": "demo-rep",
//!     "sha256": "4d8c2b3c3c0a86b0a5b7a1e7e7a3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5" } }
//! }"#)?;
//! # let _ = cfg;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

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

/// A TOML file as this loader sees it: the `[credentials]` table, every
/// other table left to its own loader.
#[derive(Debug, Default, Deserialize)]
struct CredentialsFile {
    #[serde(default)]
    credentials: CredentialsConfig,
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

/// A credentials file or entry that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the credentials: {message}")]
    Io {
        /// The file.
        file: String,
        /// What the system said.
        message: String,
    },
    /// Not valid TOML, or a `[credentials]` table of the wrong shape (an
    /// unknown key included).
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file name (or the label given for in-memory text).
        file: String,
        /// 1-based line (0 when not tied to a place).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The problem.
        message: String,
    },
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
    /// Reads the `[credentials]` table of a TOML file; every other table is
    /// left to its own loader, and a file without the table gives empty
    /// stores. Errors name the file, line and column.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&file, &text)
    }

    /// Reads the `[credentials]` table of TOML text; `name` labels it in
    /// errors.
    pub fn from_toml_str(name: &str, text: &str) -> Result<Self, ConfigError> {
        match toml::from_str::<CredentialsFile>(text) {
            Ok(f) => Ok(f.credentials),
            Err(e) => {
                let (line, column) = e.span().map_or((0, 0), |s| line_column(text, s.start));
                Err(ConfigError::Syntax {
                    file: name.to_owned(),
                    line,
                    column,
                    message: e.message().to_owned(),
                })
            }
        }
    }

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

/// The 1-based line and column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "4d8c2b3c3c0a86b0a5b7a1e7e7a3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5";

    #[test]
    fn only_the_credentials_table_is_read() {
        let text = format!(
            "[roles.viewer]\nanything = 1\n[guards]\nwhatever = true\n\
             [credentials.api_keys.svc]\nprefix = \"demo-rep\"\nsha256 = \"{KEY}\"\n\
             [credentials.totp]\nerin = \"JBSWY3DPEHPK3PXP\"\n"
        );
        let cfg = CredentialsConfig::from_toml_str("p.toml", &text).unwrap();
        assert_eq!(cfg.api_keys.len(), 1);
        assert_eq!(
            cfg.totp.get("erin").map(String::as_str),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert!(cfg.api_key_store().is_ok());
        let empty = CredentialsConfig::from_toml_str("p.toml", "[roles.viewer]\n").unwrap();
        assert!(empty.passwords.is_empty() && empty.api_keys.is_empty());
    }

    #[test]
    fn typos_in_the_credentials_table_name_their_place() {
        let e = CredentialsConfig::from_toml_str(
            "p.toml",
            "[roles.v]\n\n[credentials]\npasswrds = {}\n",
        )
        .unwrap_err();
        match e {
            ConfigError::Syntax {
                file,
                line,
                column,
                message,
            } => {
                assert_eq!((file.as_str(), line, column), ("p.toml", 4, 1), "{message}");
                assert!(message.contains("passwrds"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let e = CredentialsConfig::from_toml_str("p.toml", "[credentials\n").unwrap_err();
        assert!(e.to_string().starts_with("p.toml:1:"), "{e}");
        let e = CredentialsConfig::from_file("/nonexistent/bouncer/policy.toml").unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }), "{e}");
    }
}
