//! Verified claims and their mapping into core's [`Identity`].
//!
//! The default mapping reads the shapes of Logto, Auth0 and Keycloak:
//!
//! | claim | becomes |
//! |---|---|
//! | `sub` (required) | the subject; a service when `sub == client_id` |
//! | `scope` (space-separated) or `scp` (array) | token scopes |
//! | `organization_id`, or `aud = urn:logto:organization:<id>` | organization binding |
//! | `acr`, `amr`, `auth_time` | authentication context (step-up) |
//! | `realm_access.roles` (Keycloak) | asserted roles |
//! | `permissions` (Auth0) | asserted permissions |
//! | `jti`, `exp` | credential id and expiry (for revocation) |
//!
//! Anything else is reachable through [`Claims::get`] in a
//! [`ClaimsMapper`].

use std::time::{Duration, SystemTime};

use bouncer_core::{AuthContext, CredentialInfo, Identity, SchemeName, Unauthenticated};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Prefix of Logto's organization audience.
pub const LOGTO_ORGANIZATION_AUDIENCE: &str = "urn:logto:organization:";

/// `aud`: one string or an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

// Hand-written instead of `#[serde(untagged)]`: untagged enums buffer the
// value before trying each variant, which costs more than the rest of the
// claims together.
impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Audience;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::One(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Audience, E> {
                Ok(Audience::One(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Audience, A::Error> {
                let mut all = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    all.push(s);
                }
                Ok(Audience::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

impl Audience {
    /// The audiences as a slice-like iterator.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Self::One(s) => (Some(s.as_str()), [].iter()),
            Self::Many(v) => (None, v.iter()),
        };
        one.into_iter().chain(many.map(String::as_str))
    }
}

/// A time claim that is present must be a non-negative integer: `null`,
/// strings, floats and negative numbers make the token invalid (RFC 8725
/// §3.11: reject what does not follow the expected syntax).
fn numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64::deserialize(d).map(Some)
}

/// Keycloak's `realm_access`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RealmAccess {
    /// Realm roles.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The claims of a verified token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Claims {
    /// Subject.
    pub sub: Option<String>,
    /// Issuer.
    pub iss: Option<String>,
    /// Audience(s).
    pub aud: Option<Audience>,
    /// Expiry (seconds since the epoch).
    #[serde(default, deserialize_with = "numeric_date")]
    pub exp: Option<u64>,
    /// Not before (seconds since the epoch).
    #[serde(default, deserialize_with = "numeric_date")]
    pub nbf: Option<u64>,
    /// Issued at (seconds since the epoch).
    #[serde(default, deserialize_with = "numeric_date")]
    pub iat: Option<u64>,
    /// Token id.
    pub jti: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Scopes as an array.
    pub scp: Option<Vec<String>>,
    /// Logto's organization id.
    pub organization_id: Option<String>,
    /// The OAuth client.
    pub client_id: Option<String>,
    /// Authentication context class.
    pub acr: Option<String>,
    /// Authentication methods.
    pub amr: Option<Vec<String>>,
    /// Authentication time (seconds since the epoch).
    #[serde(default, deserialize_with = "numeric_date")]
    pub auth_time: Option<u64>,
    /// Keycloak realm roles.
    pub realm_access: Option<RealmAccess>,
    /// Auth0 permissions.
    pub permissions: Option<Vec<String>>,
    /// The whole payload, for claims not modelled here (parsed on demand).
    #[serde(skip)]
    raw: Vec<u8>,
}

impl Claims {
    /// Whether the claim `name` is present.
    pub fn has(&self, name: &str) -> bool {
        match name {
            "sub" => self.sub.is_some(),
            "iss" => self.iss.is_some(),
            "aud" => self.aud.is_some(),
            "exp" => self.exp.is_some(),
            "jti" => self.jti.is_some(),
            "scope" => self.scope.is_some(),
            "scp" => self.scp.is_some(),
            "organization_id" => self.organization_id.is_some(),
            "client_id" => self.client_id.is_some(),
            "acr" => self.acr.is_some(),
            "amr" => self.amr.is_some(),
            "auth_time" => self.auth_time.is_some(),
            "realm_access" => self.realm_access.is_some(),
            "permissions" => self.permissions.is_some(),
            "nbf" => self.nbf.is_some(),
            "iat" => self.iat.is_some(),
            other => self.get(other).is_some(),
        }
    }

    pub(crate) fn set_raw(&mut self, raw: Vec<u8>) {
        self.raw = raw;
    }

    /// Any claim by name, as JSON (parses the payload again: use it in
    /// custom mappings, not on every request).
    pub fn get(&self, name: &str) -> Option<Value> {
        serde_json::from_slice::<Map<String, Value>>(&self.raw)
            .ok()?
            .remove(name)
    }

    /// The organization the token is bound to: `organization_id`, or the id
    /// in a Logto organization audience.
    pub fn organization(&self) -> Option<&str> {
        self.organization_id.as_deref().or_else(|| {
            self.aud.as_ref().and_then(|a| {
                a.iter().find_map(|s| {
                    s.strip_prefix(LOGTO_ORGANIZATION_AUDIENCE)
                        .filter(|id| !id.is_empty())
                })
            })
        })
    }

    /// The scopes, if the token carries any scope claim.
    pub fn scopes(&self) -> Option<Vec<String>> {
        match (&self.scope, &self.scp) {
            (Some(s), _) => Some(
                s.split(' ')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            (None, Some(v)) => Some(v.clone()),
            (None, None) => None,
        }
    }
}

/// Maps verified claims to an identity. Implement it to read custom
/// claims; the default mapping has already run when yours is called.
pub trait ClaimsMapper: Send + Sync + 'static {
    /// Adjusts `identity` from `claims`, or rejects the token (for example,
    /// a required custom claim with a wrong value).
    fn map(&self, claims: &Claims, identity: Identity) -> Result<Identity, Unauthenticated>;
}

impl<F> ClaimsMapper for F
where
    F: Fn(&Claims, Identity) -> Result<Identity, Unauthenticated> + Send + Sync + 'static,
{
    fn map(&self, claims: &Claims, identity: Identity) -> Result<Identity, Unauthenticated> {
        self(claims, identity)
    }
}

/// `t` as seconds since the epoch (0 before it), the unit of `exp`,
/// `nbf` and `auth_time`.
pub(crate) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds since the epoch as a time; `None` past what the platform holds
/// (a huge `exp` or `auth_time` must not overflow).
pub(crate) fn epoch(secs: u64) -> Option<SystemTime> {
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// The default mapping. `None` when the token has no `sub`.
pub fn default_identity(claims: &Claims, credential_id: String) -> Option<Identity> {
    into_identity(claims.clone(), credential_id)
}

/// The default mapping, moving the claims' strings instead of copying them.
pub fn into_identity(mut claims: Claims, credential_id: String) -> Option<Identity> {
    let organization = claims.organization().map(str::to_owned);
    let scopes = claims.scopes();
    let sub = claims.sub.take().filter(|s| !s.is_empty())?;
    let service = claims.client_id.as_deref() == Some(sub.as_str());
    let mut identity = if service {
        Identity::service(sub, SchemeName::BEARER)
    } else {
        Identity::user(sub, SchemeName::BEARER)
    };
    if let Some(org) = organization {
        identity = identity.with_organization(org);
    }
    if let Some(scopes) = scopes {
        identity = identity.with_scopes(scopes);
    }
    if let Some(ra) = claims.realm_access.take() {
        identity = identity.with_roles(ra.roles);
    }
    if let Some(p) = claims.permissions.take() {
        identity = identity.with_permissions(p);
    }
    let mut ctx = AuthContext::new();
    if let Some(acr) = claims.acr.take() {
        ctx = ctx.with_acr(acr);
    }
    if let Some(amr) = claims.amr.take() {
        ctx = ctx.with_amr(amr);
    }
    if let Some(t) = claims.auth_time.and_then(epoch) {
        ctx = ctx.with_auth_time(t);
    }
    Some(
        identity
            .with_auth_context(ctx)
            .with_credential(CredentialInfo::new(
                Some(credential_id),
                claims.exp.and_then(epoch),
            )),
    )
}
