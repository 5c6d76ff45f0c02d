//! Test tokens: JWT access tokens with the claims bouncer reads, signed
//! with a key of your choice, for tests of routes behind a JWT scheme.
//!
//! ```
//! use bouncer_test::token::TestToken;
//!
//! let secret = b"a-test-secret-that-is-at-least-32-bytes!";
//! let token = TestToken::new("alice")
//!     .issuer("https://auth.example")
//!     .audience("https://api.example")
//!     .scope("documents:read")
//!     .organization("acme")
//!     .sign_hs256(secret)?;
//! assert_eq!(token.split('.').count(), 3);
//! # Ok::<(), jsonwebtoken::errors::Error>(())
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A token under construction: `sub`, `iat`, `exp` in five minutes and a
/// unique `jti` to begin with.
#[derive(Debug, Clone)]
#[must_use]
pub struct TestToken {
    header: Header,
    claims: Map<String, Value>,
}

impl TestToken {
    /// A token for `subject`.
    pub fn new(subject: &str) -> Self {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let t = now();
        let mut claims = Map::new();
        claims.insert("sub".into(), subject.into());
        claims.insert("iat".into(), t.into());
        claims.insert("exp".into(), (t + 300).into());
        claims.insert(
            "jti".into(),
            format!("test-{t}-{}", SEQ.fetch_add(1, Ordering::Relaxed)).into(),
        );
        Self {
            header: Header::new(Algorithm::HS256),
            claims,
        }
    }

    /// Sets any claim (`Value::Null` removes it).
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        match value.into() {
            Value::Null => {
                self.claims.remove(name);
            }
            v => {
                self.claims.insert(name.to_owned(), v);
            }
        }
        self
    }

    /// `iss`.
    pub fn issuer(self, issuer: &str) -> Self {
        self.claim("iss", issuer)
    }

    /// `aud`.
    pub fn audience(self, audience: &str) -> Self {
        self.claim("aud", audience)
    }

    /// `exp` this many seconds from now (negative: already expired).
    pub fn expires_in(self, seconds: i64) -> Self {
        self.claim("exp", now().saturating_add(seconds))
    }

    /// `scope`, space-separated.
    pub fn scope(self, scope: &str) -> Self {
        self.claim("scope", scope)
    }

    /// `organization_id`: binds the token to one organization.
    pub fn organization(self, organization: &str) -> Self {
        self.claim("organization_id", organization)
    }

    /// `amr: ["pwd", "mfa"]` and `auth_time` now: a second factor was used.
    pub fn mfa(self) -> Self {
        self.claim("amr", serde_json::json!(["pwd", "mfa"]))
            .claim("auth_time", now())
    }

    /// The header's `kid`.
    pub fn kid(mut self, kid: &str) -> Self {
        self.header.kid = Some(kid.to_owned());
        self
    }

    /// The header's `typ` (`None`: no `typ`).
    pub fn typ(mut self, typ: Option<&str>) -> Self {
        self.header.typ = typ.map(str::to_owned);
        self
    }

    /// The claims as they stand.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Signs with an HMAC secret (HS256).
    pub fn sign_hs256(self, secret: &[u8]) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign(Algorithm::HS256, &EncodingKey::from_secret(secret))
    }

    /// Signs with `key` under `alg`.
    pub fn sign(
        mut self,
        alg: Algorithm,
        key: &EncodingKey,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.header.alg = alg;
        jsonwebtoken::encode(&self.header, &self.claims, key)
    }
}
