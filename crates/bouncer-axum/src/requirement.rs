//! Per-route requirements, declared next to the routes, with the
//! organization and resource taken from path parameters.

use std::borrow::Cow;

use axum::extract::RawPathParams;
use bouncer_core::{Requirement, SchemeName, StepUp};

/// What a route requires; turned into a core [`Requirement`] per request
/// once the path parameters are known.
///
/// ```
/// use bouncer_axum::RouteRequirement;
/// use bouncer_core::SchemeName;
///
/// let read = RouteRequirement::authenticated()
///     .schemes([SchemeName::BEARER, SchemeName::BASIC])
///     .permission("documents:read")
///     .organization_from("org")
///     .resource_from("id");
/// # let _ = read;
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

    /// Authentication optional (use [`MaybePrincipal`](crate::MaybePrincipal)).
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

    pub(crate) fn needs_params(&self) -> bool {
        self.organization_param.is_some() || self.resource_param.is_some()
    }

    /// The requirement for one request. A named parameter that is missing
    /// makes the route unusable, which is a configuration bug: `Err`.
    pub(crate) fn resolve(
        &self,
        params: Option<&RawPathParams>,
    ) -> Result<Requirement, &'static str> {
        let mut r = self.base.clone();
        let find = |name: &str| -> Option<String> {
            params?
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        };
        if let Some(name) = &self.organization_param {
            r = r.organization(find(name).ok_or("organization path parameter not found")?);
        }
        if let Some(name) = &self.resource_param {
            r = r.resource(find(name).ok_or("resource path parameter not found")?);
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
