//! Per-route requirements for framework adapters: a [`Requirement`] whose
//! organization and resource come from the route's path parameters.
//!
//! The adapter declares a [`RouteRequirement`] next to each route and, per
//! request, resolves it with a lookup of the matched path parameters
//! (axum's `RawPathParams`, actix-web's `match_info()`, …). The lookup is a
//! plain `Fn(&str) -> Option<&str>`, so this type knows no framework.

use std::borrow::Cow;

use crate::identity::SchemeName;
use crate::outcome::Fault;
use crate::requirement::{Requirement, StepUp};

/// What a route requires; turned into a core [`Requirement`] per request
/// once the path parameters are known.
///
/// ```
/// use bouncer_core::route::RouteRequirement;
/// use bouncer_core::SchemeName;
///
/// let read = RouteRequirement::authenticated()
///     .schemes([SchemeName::BEARER, SchemeName::BASIC])
///     .permission("documents:read")
///     .organization_from("org")
///     .resource_from("id");
///
/// // Per request, with the matched path parameters:
/// let params = [("org", "acme"), ("id", "welcome")];
/// let lookup = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
/// let resolved = read.resolve(lookup)?;
/// assert_eq!(resolved.organization_id(), Some("acme"));
/// assert_eq!(resolved.resource_id(), Some("welcome"));
/// # Ok::<(), bouncer_core::Fault>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RouteRequirement {
    base: Requirement,
    organization_param: Option<Cow<'static, str>>,
    resource_param: Option<Cow<'static, str>>,
}

impl RouteRequirement {
    /// Any authenticated caller.
    pub fn authenticated() -> Self {
        Self::from(Requirement::authenticated())
    }

    /// Authentication optional: anonymous callers pass, and the adapter's
    /// optional-principal extractor sees no caller.
    pub fn optional() -> Self {
        Self::from(Requirement::optional())
    }

    /// No authentication; request guards only.
    pub fn public() -> Self {
        Self::from(Requirement::public())
    }

    /// Accept only these schemes.
    pub fn schemes<I: IntoIterator<Item = SchemeName>>(mut self, schemes: I) -> Self {
        self.base = self.base.schemes(schemes);
        self
    }

    /// Require a permission.
    pub fn permission(mut self, permission: impl Into<Cow<'static, str>>) -> Self {
        self.base = self.base.permission(permission);
        self
    }

    /// The permission must come from a global role (`elevation_required`).
    pub fn elevated(mut self) -> Self {
        self.base = self.base.elevated();
        self
    }

    /// Require stronger or fresher authentication.
    pub fn step_up(mut self, step_up: StepUp) -> Self {
        self.base = self.base.step_up(step_up);
        self
    }

    /// The organization is the path parameter `name`.
    pub fn organization_from(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.organization_param = Some(name.into());
        self
    }

    /// A fixed organization.
    pub fn organization(mut self, org: impl Into<String>) -> Self {
        self.base = self.base.organization(org);
        self
    }

    /// The resource id is the path parameter `name`.
    pub fn resource_from(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.resource_param = Some(name.into());
        self
    }

    /// The requirement without path parameters.
    pub fn base(&self) -> &Requirement {
        &self.base
    }

    /// Whether [`resolve`](Self::resolve) reads path parameters (so an
    /// adapter can skip collecting them when it does not).
    pub fn needs_params(&self) -> bool {
        self.organization_param.is_some() || self.resource_param.is_some()
    }

    /// The requirement for one request, `param` looking up the matched
    /// path parameters by name.
    ///
    /// A named parameter that is missing makes the route unusable, which
    /// is a configuration bug, never the caller's: a
    /// [`Fault::misconfigured`] (500), not an allow.
    pub fn resolve<'p>(
        &self,
        param: impl Fn(&str) -> Option<&'p str>,
    ) -> Result<Requirement, Fault> {
        let mut r = self.base.clone();
        if let Some(name) = &self.organization_param {
            let org = param(name).ok_or(Fault::misconfigured(
                "organization path parameter not found",
            ))?;
            r = r.organization(org);
        }
        if let Some(name) = &self.resource_param {
            let id =
                param(name).ok_or(Fault::misconfigured("resource path parameter not found"))?;
            r = r.resource(id);
        }
        Ok(r)
    }
}

impl From<Requirement> for RouteRequirement {
    fn from(base: Requirement) -> Self {
        Self {
            base,
            organization_param: None,
            resource_param: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;

    fn none(_: &str) -> Option<&'static str> {
        None
    }

    #[test]
    fn parameters_fill_organization_and_resource() {
        let r = RouteRequirement::authenticated()
            .permission("documents:read")
            .organization_from("org")
            .resource_from("id");
        assert!(r.needs_params());
        let resolved = r
            .resolve(|n| match n {
                "org" => Some("acme"),
                "id" => Some("roadmap"),
                _ => None,
            })
            .unwrap();
        assert_eq!(resolved.organization_id(), Some("acme"));
        assert_eq!(resolved.resource_id(), Some("roadmap"));
        assert_eq!(resolved.required_permission(), Some("documents:read"));
    }

    #[test]
    fn a_missing_parameter_is_a_500_not_an_allow() {
        for r in [
            RouteRequirement::authenticated().organization_from("org"),
            RouteRequirement::authenticated().resource_from("id"),
        ] {
            let fault = r.resolve(none).unwrap_err();
            assert_eq!(fault.code(), Code::InternalError);
            assert_eq!(fault.status(), 500);
        }
    }

    #[test]
    fn without_parameters_the_base_is_used_as_is() {
        let r = RouteRequirement::optional().organization("globex");
        assert!(!r.needs_params());
        let resolved = r.resolve(none).unwrap();
        assert_eq!(resolved.organization_id(), Some("globex"));
        assert_eq!(
            resolved.authentication(),
            crate::requirement::Authentication::Optional
        );
    }
}
