//! Who the caller is: [`Identity`] (what an authenticator found) and
//! [`Authenticated`] (the proof, which only the [`Gate`](crate::Gate) can
//! make).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The name of a credential scheme, as routes list it (`"bearer"`,
/// `"basic"`, `"api_key"`, `"session"`, or your own). Compared
/// case-insensitively.
#[derive(Debug, Clone, Eq)]
pub struct SchemeName(Cow<'static, str>);

impl SchemeName {
    /// `Authorization: Bearer` tokens.
    pub const BEARER: SchemeName = SchemeName(Cow::Borrowed("bearer"));
    /// `Authorization: Basic` user and password.
    pub const BASIC: SchemeName = SchemeName(Cow::Borrowed("basic"));
    /// API keys in a header.
    pub const API_KEY: SchemeName = SchemeName(Cow::Borrowed("api_key"));
    /// Session cookies.
    pub const SESSION: SchemeName = SchemeName(Cow::Borrowed("session"));

    /// A scheme name known at compile time.
    pub const fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// A scheme name built at run time.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SchemeName {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl std::hash::Hash for SchemeName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        for b in self.0.bytes() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl fmt::Display for SchemeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the caller is a person or a machine.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A human user.
    User,
    /// A service principal (API key, client-credentials token).
    Service,
}

/// How and when the caller authenticated: OIDC `acr`, `amr` and `auth_time`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthContext {
    acr: Option<String>,
    amr: Vec<String>,
    auth_time: Option<SystemTime>,
}

impl AuthContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the authentication context class.
    pub fn with_acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }

    /// Sets the authentication methods.
    pub fn with_amr<I, S>(mut self, amr: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.amr = amr.into_iter().map(Into::into).collect();
        self
    }

    /// Sets when the user authenticated.
    pub fn with_auth_time(mut self, at: SystemTime) -> Self {
        self.auth_time = Some(at);
        self
    }

    /// The authentication context class.
    pub fn acr(&self) -> Option<&str> {
        self.acr.as_deref()
    }

    /// The authentication methods.
    pub fn amr(&self) -> &[String] {
        &self.amr
    }

    /// When the user authenticated.
    pub fn auth_time(&self) -> Option<SystemTime> {
        self.auth_time
    }
}

/// Metadata of the credential itself: its id (a JWT `jti`) and expiry,
/// so that a logout can revoke exactly this credential.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredentialInfo {
    id: Option<String>,
    expires_at: Option<SystemTime>,
}

impl CredentialInfo {
    /// Credential metadata.
    pub fn new(id: Option<String>, expires_at: Option<SystemTime>) -> Self {
        Self { id, expires_at }
    }

    /// The credential's id (`jti`), if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// When the credential expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

impl fmt::Debug for CredentialInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A session id or token id is a bearer secret in some stores: only
        // say whether there is one.
        f.debug_struct("CredentialInfo")
            .field("id", &self.id.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What an authenticator established about the caller. Built by
/// authenticators; the gate wraps it in [`Authenticated`].
///
/// Cheap to clone: the data is shared, and copied only when a clone is
/// changed.
#[derive(Debug, Clone)]
pub struct Identity {
    inner: Arc<IdentityData>,
}

#[derive(Debug, Clone)]
struct IdentityData {
    subject: String,
    kind: PrincipalKind,
    scheme: SchemeName,
    organization: Option<String>,
    scopes: Option<Vec<String>>,
    roles: Vec<String>,
    permissions: Vec<String>,
    auth: AuthContext,
    credential: CredentialInfo,
    extensions: http::Extensions,
}

impl Identity {
    /// A user identity authenticated by `scheme`.
    pub fn user(subject: impl Into<String>, scheme: SchemeName) -> Self {
        Self::new(subject, PrincipalKind::User, scheme)
    }

    /// A service identity authenticated by `scheme`.
    pub fn service(subject: impl Into<String>, scheme: SchemeName) -> Self {
        Self::new(subject, PrincipalKind::Service, scheme)
    }

    fn new(subject: impl Into<String>, kind: PrincipalKind, scheme: SchemeName) -> Self {
        Self {
            inner: Arc::new(IdentityData {
                subject: subject.into(),
                kind,
                scheme,
                organization: None,
                scopes: None,
                roles: Vec::new(),
                permissions: Vec::new(),
                auth: AuthContext::default(),
                credential: CredentialInfo::default(),
                extensions: http::Extensions::new(),
            }),
        }
    }

    /// Binds the credential to one organization (a token's
    /// `organization_id`, or Logto's organization audience).
    pub fn with_organization(mut self, org: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.inner).organization = Some(org.into());
        self
    }

    /// Limits the identity to these token scopes. Without this call the
    /// identity is not scope-limited (Basic, API keys, sessions).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arc::make_mut(&mut self.inner).scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Roles asserted by the credential itself (Keycloak `realm_access`).
    pub fn with_roles<I, S>(mut self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arc::make_mut(&mut self.inner).roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Permissions asserted by the credential itself (Auth0 `permissions`).
    pub fn with_permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arc::make_mut(&mut self.inner).permissions =
            permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The authentication context.
    pub fn with_auth_context(mut self, auth: AuthContext) -> Self {
        Arc::make_mut(&mut self.inner).auth = auth;
        self
    }

    /// The credential's id and expiry.
    pub fn with_credential(mut self, credential: CredentialInfo) -> Self {
        Arc::make_mut(&mut self.inner).credential = credential;
        self
    }

    pub(crate) fn set_scheme(&mut self, scheme: SchemeName) {
        // Usually already right: then the shared data (often a token
        // cache's copy) is not copied.
        if self.inner.scheme.as_str() != scheme.as_str() {
            Arc::make_mut(&mut self.inner).scheme = scheme;
        }
    }

    /// Attaches typed data for handlers (custom claims, tenant records).
    pub fn insert_extension<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        Arc::make_mut(&mut self.inner).extensions.insert(value);
    }

    /// The subject (`sub`, user name, service id).
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// User or service.
    pub fn kind(&self) -> PrincipalKind {
        self.inner.kind
    }

    /// The scheme that authenticated the caller.
    pub fn scheme(&self) -> &SchemeName {
        &self.inner.scheme
    }

    /// The organization the credential is bound to, if any.
    pub fn organization(&self) -> Option<&str> {
        self.inner.organization.as_deref()
    }

    /// The token scopes, or `None` when the identity is not scope-limited.
    pub fn scopes(&self) -> Option<&[String]> {
        self.inner.scopes.as_deref()
    }

    /// Whether the scopes allow `scope` (always true when not scope-limited).
    pub fn scope_allows(&self, scope: &str) -> bool {
        self.inner
            .scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == scope))
    }

    /// Roles asserted by the credential.
    pub fn roles(&self) -> &[String] {
        &self.inner.roles
    }

    /// Permissions asserted by the credential.
    pub fn permissions(&self) -> &[String] {
        &self.inner.permissions
    }

    /// The authentication context.
    pub fn auth_context(&self) -> &AuthContext {
        &self.inner.auth
    }

    /// The credential's metadata.
    pub fn credential(&self) -> &CredentialInfo {
        &self.inner.credential
    }

    /// Typed data attached by the authenticator.
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.extensions.get::<T>()
    }
}

/// Proof that the gate authenticated this identity and that it passed the
/// stages it was checked against. It cannot be built outside this crate:
/// an [`Authorizer`](crate::Authorizer) only ever sees callers the gate
/// authenticated. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Authenticated(Identity);

impl Authenticated {
    pub(crate) fn new(identity: Identity) -> Self {
        Self(identity)
    }

    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.0
    }

    /// Shortcut for `identity().subject()`.
    pub fn subject(&self) -> &str {
        self.0.subject()
    }
}

impl std::ops::Deref for Authenticated {
    type Target = Identity;
    fn deref(&self) -> &Identity {
        &self.0
    }
}

/// How long ago `at` was, saturating at zero for times in the future.
pub(crate) fn age(at: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(at).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_compare_case_insensitively() {
        assert_eq!(SchemeName::new("Bearer"), SchemeName::BEARER);
        assert_ne!(SchemeName::BASIC, SchemeName::BEARER);
    }

    #[test]
    fn scope_limits() {
        let i = Identity::user("a", SchemeName::BEARER);
        assert!(i.scope_allows("x"));
        let i = i.with_scopes(["x"]);
        assert!(i.scope_allows("x"));
        assert!(!i.scope_allows("y"));
    }

    #[test]
    fn credential_id_is_redacted() {
        let c = CredentialInfo::new(Some("secret-session".into()), None);
        assert!(!format!("{c:?}").contains("secret-session"));
    }
}
