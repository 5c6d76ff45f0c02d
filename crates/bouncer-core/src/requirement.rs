//! What a route needs: accepted schemes, a permission, an organization, a
//! resource, elevation and step-up.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use crate::identity::{age, AuthContext, SchemeName};

/// Whether a route needs an authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Authentication {
    /// Credentials are required (401 without them).
    #[default]
    Required,
    /// Anonymous callers pass; credentials, when sent, must be valid.
    Optional,
    /// Nobody is authenticated: only the request guards run.
    Public,
}

/// A step-up requirement (RFC 9470): acceptable `acr` values or required
/// `amr` methods, and a maximum authentication age.
///
/// Satisfied when the identity's `acr` is one of [`acr_values`], or its
/// `amr` holds one of [`amr`] (either suffices when both are set), and,
/// with [`max_age`], its `auth_time` is no older than that.
///
/// [`acr_values`]: StepUp::acr_values
/// [`amr`]: StepUp::amr
/// [`max_age`]: StepUp::max_age
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    acr_values: Vec<String>,
    amr: Vec<String>,
    max_age: Option<Duration>,
}

impl StepUp {
    /// An empty requirement (always satisfied).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept these `acr` values.
    pub fn acr<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.acr_values.extend(values.into_iter().map(Into::into));
        self
    }

    /// Accept an `amr` holding any of these methods.
    pub fn amr<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.amr.extend(methods.into_iter().map(Into::into));
        self
    }

    /// Require `auth_time` no older than `max_age`.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// The acceptable `acr` values.
    pub fn acr_values(&self) -> &[String] {
        &self.acr_values
    }

    /// The accepted `amr` methods.
    pub fn amr_methods(&self) -> &[String] {
        &self.amr
    }

    /// The maximum age.
    pub fn max_age_limit(&self) -> Option<Duration> {
        self.max_age
    }

    /// Whether `ctx` meets the requirement at `now`.
    pub fn is_satisfied_by(&self, ctx: &AuthContext, now: SystemTime) -> bool {
        let class_needed = !self.acr_values.is_empty() || !self.amr.is_empty();
        let class_ok = !class_needed
            || ctx
                .acr()
                .is_some_and(|acr| self.acr_values.iter().any(|v| v == acr))
            || ctx.amr().iter().any(|m| self.amr.iter().any(|v| v == m));
        let fresh = match self.max_age {
            None => true,
            Some(max) => ctx.auth_time().is_some_and(|t| age(t, now) <= max),
        };
        class_ok && fresh
    }
}

/// What a route requires. Build one per route (or per request, when it
/// depends on path parameters).
///
/// ```
/// use bouncer_core::{Requirement, SchemeName, StepUp};
/// use std::time::Duration;
///
/// let r = Requirement::authenticated()
///     .schemes([SchemeName::BEARER])
///     .permission("admin:access")
///     .elevated()
///     .step_up(StepUp::new().acr(["urn:logto:acr:mfa"]).amr(["mfa"]).max_age(Duration::from_secs(300)));
/// assert!(r.is_elevated());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Requirement {
    authentication: Authentication,
    schemes: Option<Vec<SchemeName>>,
    permission: Option<Cow<'static, str>>,
    elevated: bool,
    organization: Option<String>,
    resource: Option<String>,
    // Boxed: rare, and a requirement lives in every decision's state.
    step_up: Option<Box<StepUp>>,
}

impl Requirement {
    /// Any authenticated caller, through any registered scheme.
    pub fn authenticated() -> Self {
        Self::default()
    }

    /// Authentication optional: anonymous callers pass.
    pub fn optional() -> Self {
        Self {
            authentication: Authentication::Optional,
            ..Self::default()
        }
    }

    /// No authentication; request guards only.
    pub fn public() -> Self {
        Self {
            authentication: Authentication::Public,
            ..Self::default()
        }
    }

    /// Accept only these schemes (default: every registered one).
    pub fn schemes<I: IntoIterator<Item = SchemeName>>(mut self, schemes: I) -> Self {
        self.schemes = Some(schemes.into_iter().collect());
        self
    }

    /// Require a permission (`resource:action`).
    pub fn permission(mut self, permission: impl Into<Cow<'static, str>>) -> Self {
        self.permission = Some(permission.into());
        self
    }

    /// The permission must come from a global (elevated) role; without it
    /// the answer is `elevation_required`.
    pub fn elevated(mut self) -> Self {
        self.elevated = true;
        self
    }

    /// The organization the request acts in.
    pub fn organization(mut self, org: impl Into<String>) -> Self {
        self.organization = Some(org.into());
        self
    }

    /// The resource the request acts on (resolved by the authorizer).
    pub fn resource(mut self, id: impl Into<String>) -> Self {
        self.resource = Some(id.into());
        self
    }

    /// Require stronger or fresher authentication.
    pub fn step_up(mut self, step_up: StepUp) -> Self {
        self.step_up = Some(Box::new(step_up));
        self
    }

    /// Whether authentication is required, optional or skipped.
    pub fn authentication(&self) -> Authentication {
        self.authentication
    }

    /// Whether `scheme` is accepted.
    pub fn accepts(&self, scheme: &SchemeName) -> bool {
        self.schemes.as_ref().is_none_or(|s| s.contains(scheme))
    }

    /// The accepted schemes, `None` for all.
    pub fn accepted_schemes(&self) -> Option<&[SchemeName]> {
        self.schemes.as_deref()
    }

    /// The permission needed.
    pub fn required_permission(&self) -> Option<&str> {
        self.permission.as_deref()
    }

    /// Whether the permission must come from a global role.
    pub fn is_elevated(&self) -> bool {
        self.elevated
    }

    /// The organization.
    pub fn organization_id(&self) -> Option<&str> {
        self.organization.as_deref()
    }

    /// The resource id.
    pub fn resource_id(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The step-up requirement.
    pub fn step_up_requirement(&self) -> Option<&StepUp> {
        self.step_up.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_up_accepts_acr_or_amr() {
        let s = StepUp::new().acr(["urn:logto:acr:mfa"]).amr(["mfa"]);
        let now = SystemTime::now();
        assert!(!s.is_satisfied_by(&AuthContext::new(), now));
        assert!(s.is_satisfied_by(&AuthContext::new().with_acr("urn:logto:acr:mfa"), now));
        assert!(s.is_satisfied_by(&AuthContext::new().with_amr(["pwd", "mfa"]), now));
        assert!(!s.is_satisfied_by(&AuthContext::new().with_amr(["pwd"]), now));
    }

    #[test]
    fn max_age_needs_a_recent_auth_time() {
        let s = StepUp::new().max_age(Duration::from_secs(300));
        let now = SystemTime::now();
        assert!(!s.is_satisfied_by(&AuthContext::new(), now));
        let recent = AuthContext::new().with_auth_time(now - Duration::from_secs(10));
        assert!(s.is_satisfied_by(&recent, now));
        let old = AuthContext::new().with_auth_time(now - Duration::from_secs(301));
        assert!(!s.is_satisfied_by(&old, now));
    }
}
