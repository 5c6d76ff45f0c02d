//! What each gRPC method requires: the [`Methods`] table and its
//! [`MethodRequirement`]s, with the organization and resource read from
//! the request message ([`Target`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use bouncer_core::{Requirement, SchemeName, StepUp};
use prost::Message;

/// The organization and resource a request is about, read from its
/// message by a method's resolver ([`MethodRequirement::target`]).
///
/// Values are passed to the authorizer as given: an unset proto3 string
/// is `""`, which is nobody's organization (the authorizer refuses it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Target {
    organization: Option<String>,
    resource: Option<String>,
}

impl Target {
    /// Neither an organization nor a resource.
    pub fn new() -> Self {
        Self::default()
    }

    /// The request is about organization `org`.
    pub fn organization(mut self, org: impl Into<String>) -> Self {
        self.organization = Some(org.into());
        self
    }

    /// The request is about resource `id`.
    pub fn resource(mut self, id: impl Into<String>) -> Self {
        self.resource = Some(id.into());
        self
    }

    /// The organization, if any.
    pub fn organization_id(&self) -> Option<&str> {
        self.organization.as_deref()
    }

    /// The resource, if any.
    pub fn resource_id(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    fn apply(self, mut requirement: Requirement) -> Requirement {
        if let Some(org) = self.organization {
            requirement = requirement.organization(org);
        }
        if let Some(id) = self.resource {
            requirement = requirement.resource(id);
        }
        requirement
    }
}

/// `(organization, resource)`.
impl From<(String, String)> for Target {
    fn from((org, id): (String, String)) -> Self {
        Self::new().organization(org).resource(id)
    }
}

/// `(organization, resource if any)`.
impl From<(String, Option<String>)> for Target {
    fn from((org, id): (String, Option<String>)) -> Self {
        let t = Self::new().organization(org);
        match id {
            Some(id) => t.resource(id),
            None => t,
        }
    }
}

type Resolver = Arc<dyn Fn(&[u8]) -> Result<Target, prost::DecodeError> + Send + Sync>;

/// What one method requires: a core [`Requirement`], and optionally a
/// resolver that reads the organization and resource from the request
/// message.
///
/// ```
/// use bouncer_tonic::{MethodRequirement, Target};
/// # #[derive(Clone, PartialEq, prost::Message)]
/// # struct GetDocumentRequest {
/// #     #[prost(string, tag = "1")] org: String,
/// #     #[prost(string, tag = "2")] id: String,
/// # }
///
/// let read = MethodRequirement::authenticated()
///     .permission("documents:read")
///     .no_side_effects()
///     .target(|m: &GetDocumentRequest| (m.org.clone(), m.id.clone()));
/// assert!(read.reads_message());
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct MethodRequirement {
    base: Requirement,
    resolver: Option<Resolver>,
    no_side_effects: bool,
}

impl fmt::Debug for MethodRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MethodRequirement")
            .field("base", &self.base)
            .field("reads_message", &self.resolver.is_some())
            .field("no_side_effects", &self.no_side_effects)
            .finish()
    }
}

impl MethodRequirement {
    /// Any authenticated caller.
    pub fn authenticated() -> Self {
        Self::from(Requirement::authenticated())
    }

    /// Authentication optional: anonymous callers pass
    /// ([`MaybePrincipal`](crate::MaybePrincipal) sees no caller).
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

    /// A fixed organization.
    pub fn organization(mut self, org: impl Into<String>) -> Self {
        self.base = self.base.organization(org);
        self
    }

    /// Require stronger or fresher authentication.
    pub fn step_up(mut self, step_up: StepUp) -> Self {
        self.base = self.base.step_up(step_up);
        self
    }

    /// The method changes nothing (like an HTTP `GET`), so read-only
    /// resources do not refuse it. Every gRPC call is an HTTP `POST`, so
    /// without this (or `option idempotency_level = NO_SIDE_EFFECTS` in a
    /// descriptor given to [`Methods::descriptors`]) a method counts as
    /// changing its resource, and a read-only resource answers
    /// `read_only`: closed, not open.
    pub fn no_side_effects(mut self) -> Self {
        self.no_side_effects = true;
        self
    }

    /// Reads the organization and resource from the request message `M`.
    ///
    /// The layer buffers the body up to the first message (bounded by
    /// [`BouncerLayer::max_message_bytes`](crate::BouncerLayer::max_message_bytes)),
    /// decodes it with [`prost::Message::decode`], calls `resolve`, and
    /// hands tonic the very same bytes. A message that cannot be decoded
    /// is `INVALID_ARGUMENT`, one over the limit `RESOURCE_EXHAUSTED`.
    pub fn target<M, F, T>(mut self, resolve: F) -> Self
    where
        M: Message + Default + 'static,
        F: Fn(&M) -> T + Send + Sync + 'static,
        T: Into<Target>,
    {
        self.resolver = Some(Arc::new(move |bytes: &[u8]| {
            M::decode(bytes).map(|m| resolve(&m).into())
        }));
        self
    }

    /// Whether the layer reads the request message for this method.
    pub fn reads_message(&self) -> bool {
        self.resolver.is_some()
    }

    /// Whether the method is declared free of side effects.
    pub fn has_no_side_effects(&self) -> bool {
        self.no_side_effects
    }

    /// The requirement before the message is read.
    pub fn base(&self) -> &Requirement {
        &self.base
    }

    /// The requirement for one request, `message` being its first
    /// message (ignored without a resolver).
    pub fn resolve(&self, message: &[u8]) -> Result<Requirement, prost::DecodeError> {
        match &self.resolver {
            None => Ok(self.base.clone()),
            Some(resolve) => Ok(resolve(message)?.apply(self.base.clone())),
        }
    }
}

impl From<Requirement> for MethodRequirement {
    fn from(base: Requirement) -> Self {
        Self {
            base,
            resolver: None,
            no_side_effects: false,
        }
    }
}

/// The services and methods the layer knows, and what each requires.
///
/// - A **protected service** (from [`descriptors`](Self::descriptors) or
///   [`service`](Self::service)) lists its methods. A method with no
///   requirement of its own gets the service's (by default
///   [`MethodRequirement::authenticated`]): deny by default, nothing is
///   served unprotected by accident.
/// - A **public service** ([`public_service`](Self::public_service),
///   [`health`](Self::health), [`reflection`](Self::reflection)) passes
///   every method to tonic after the request guards.
/// - Anything else — a method its service does not list, a service not
///   named here, a path that is not `/package.Service/Method` — is
///   **unknown**: `UNIMPLEMENTED` for every request the guards let
///   through, whatever credentials it carries. A service mounted on the
///   server but not named here is therefore unreachable, never open.
///
/// ```
/// use bouncer_tonic::{MethodRequirement, Methods};
///
/// let methods = Methods::new()
///     .service("shop.v1.Orders", ["List", "Get", "Cancel"])
///     .method("/shop.v1.Orders/Cancel", MethodRequirement::authenticated().permission("orders:cancel"))
///     .public("/shop.v1.Orders/List")
///     .health();
/// assert!(methods.is_known("/shop.v1.Orders/Get"));
/// assert!(!methods.is_known("/shop.v1.Orders/Refund"));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Methods {
    services: HashMap<String, Service>,
    methods: HashMap<String, MethodRequirement>,
}

#[derive(Debug, Clone)]
enum Service {
    Public,
    Protected {
        default: Box<MethodRequirement>,
        methods: HashSet<String>,
        no_side_effects: HashSet<String>,
    },
}

impl Service {
    fn protected() -> Self {
        Self::Protected {
            default: Box::new(MethodRequirement::authenticated()),
            methods: HashSet::new(),
            no_side_effects: HashSet::new(),
        }
    }
}

/// What the table says about one request path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'a> {
    /// Not a method the layer knows.
    Unknown,
    /// A public service: only the guards run.
    PublicService,
    /// A known method and its requirement.
    Method {
        requirement: &'a MethodRequirement,
        no_side_effects: bool,
    },
}

/// `/package.Service/Method` → (`package.Service`, `Method`).
pub(crate) fn split_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let valid = |s: &str| !s.is_empty() && !s.contains('/');
    (valid(service) && valid(method)).then_some((service, method))
}

fn full_path(service: &str, method: &str) -> String {
    format!("/{service}/{method}")
}

/// A descriptor set that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a protobuf FileDescriptorSet: {0}")]
pub struct DescriptorError(#[from] prost::DecodeError);

impl Methods {
    /// An empty table: every method is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every service of an encoded `google.protobuf.FileDescriptorSet`
    /// (the bytes tonic-build / tonic-prost-build write with
    /// `file_descriptor_set_path`, which reflection serves too) as a
    /// protected service with its methods. Methods with
    /// `option idempotency_level = NO_SIDE_EFFECTS` count as
    /// [`no_side_effects`](MethodRequirement::no_side_effects).
    pub fn descriptors(mut self, encoded: &[u8]) -> Result<Self, DescriptorError> {
        let set = prost_types::FileDescriptorSet::decode(encoded)?;
        for file in &set.file {
            for service in &file.service {
                let name = match file.package() {
                    "" => service.name().to_owned(),
                    package => format!("{package}.{}", service.name()),
                };
                let safe = service
                    .method
                    .iter()
                    .filter(|m| {
                        m.options.as_ref().is_some_and(|o| {
                            o.idempotency_level()
                                == prost_types::method_options::IdempotencyLevel::NoSideEffects
                        })
                    })
                    .map(|m| m.name().to_owned());
                let safe: Vec<String> = safe.collect();
                self = self.service(&name, service.method.iter().map(|m| m.name()));
                if let Some(Service::Protected {
                    no_side_effects, ..
                }) = self.services.get_mut(&name)
                {
                    no_side_effects.extend(safe);
                }
            }
        }
        Ok(self)
    }

    /// A protected service `name` (`package.Service`) with these methods.
    /// Calling it again adds methods.
    pub fn service<'m>(mut self, name: &str, methods: impl IntoIterator<Item = &'m str>) -> Self {
        let entry = self
            .services
            .entry(name.to_owned())
            .or_insert_with(Service::protected);
        if let Service::Protected { methods: known, .. } = entry {
            known.extend(methods.into_iter().map(str::to_owned));
        }
        self
    }

    /// What the methods of service `name` without a requirement of their
    /// own require (default: an authenticated caller). Makes `name` a
    /// protected service if it was not one.
    pub fn service_requirement(
        mut self,
        name: &str,
        requirement: impl Into<MethodRequirement>,
    ) -> Self {
        let entry = self
            .services
            .entry(name.to_owned())
            .or_insert_with(Service::protected);
        match entry {
            Service::Protected { default, .. } => **default = requirement.into(),
            Service::Public => {
                *entry = Service::protected();
                if let Service::Protected { default, .. } = entry {
                    **default = requirement.into();
                }
            }
        }
        self
    }

    /// The requirement of one method, `path` = `/package.Service/Method`.
    /// The method becomes known (and its service protected, if it was
    /// not named before). A path of another shape matches nothing.
    pub fn method(mut self, path: &str, requirement: impl Into<MethodRequirement>) -> Self {
        if let Some((service, method)) = split_path(path) {
            let method = method.to_owned();
            self = self.service(service, []);
            if let Some(Service::Protected { methods, .. }) = self.services.get_mut(service) {
                methods.insert(method);
            }
        }
        self.methods.insert(path.to_owned(), requirement.into());
        self
    }

    /// A public method: request guards only.
    pub fn public(self, path: &str) -> Self {
        self.method(path, MethodRequirement::public())
    }

    /// A public service: every one of its methods passes after the
    /// request guards (tonic answers `UNIMPLEMENTED` for those it does
    /// not serve). Methods declared with [`method`](Self::method) keep
    /// their own requirement.
    pub fn public_service(mut self, name: &str) -> Self {
        self.services.insert(name.to_owned(), Service::Public);
        self
    }

    /// `grpc.health.v1.Health` is public.
    pub fn health(self) -> Self {
        self.public_service(HEALTH)
    }

    /// Server reflection (`grpc.reflection.v1.ServerReflection` and
    /// `grpc.reflection.v1alpha.ServerReflection`) is public.
    pub fn reflection(self) -> Self {
        self.public_service(REFLECTION_V1)
            .public_service(REFLECTION_V1ALPHA)
    }

    /// Whether `path` is a method the layer lets reach tonic (given the
    /// caller passes its requirement).
    pub fn is_known(&self, path: &str) -> bool {
        !matches!(self.lookup(path), Lookup::Unknown)
    }

    /// The requirement `path` is checked against, `None` for unknown
    /// methods and public services.
    pub fn requirement(&self, path: &str) -> Option<&MethodRequirement> {
        match self.lookup(path) {
            Lookup::Method { requirement, .. } => Some(requirement),
            _ => None,
        }
    }

    pub(crate) fn lookup(&self, path: &str) -> Lookup<'_> {
        let Some((service, method)) = split_path(path) else {
            return Lookup::Unknown;
        };
        let declared = self.methods.get(path);
        match (self.services.get(service), declared) {
            (None, _) => Lookup::Unknown,
            (Some(Service::Public), None) => Lookup::PublicService,
            (Some(Service::Public), Some(requirement)) => Lookup::Method {
                requirement,
                no_side_effects: requirement.no_side_effects,
            },
            (
                Some(Service::Protected {
                    default,
                    methods,
                    no_side_effects,
                }),
                declared,
            ) => {
                if !methods.contains(method) {
                    return Lookup::Unknown;
                }
                let requirement = declared.unwrap_or(&**default);
                Lookup::Method {
                    requirement,
                    no_side_effects: requirement.no_side_effects
                        || no_side_effects.contains(method),
                }
            }
        }
    }

    /// Every known method path of the protected services, sorted (for
    /// start-up logs and tests).
    pub fn known_methods(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .services
            .iter()
            .filter_map(|(name, s)| match s {
                Service::Protected { methods, .. } => Some((name, methods)),
                Service::Public => None,
            })
            .flat_map(|(name, methods)| methods.iter().map(move |m| full_path(name, m)))
            .collect();
        out.sort();
        out
    }
}

/// The health service's name.
pub const HEALTH: &str = "grpc.health.v1.Health";
/// The reflection service's name (v1).
pub const REFLECTION_V1: &str = "grpc.reflection.v1.ServerReflection";
/// The reflection service's name (v1alpha).
pub const REFLECTION_V1ALPHA: &str = "grpc.reflection.v1alpha.ServerReflection";

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_core::Authentication;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Get {
        #[prost(string, tag = "1")]
        org: String,
        #[prost(string, tag = "2")]
        id: String,
    }

    fn table() -> Methods {
        Methods::new()
            .service("p.S", ["A", "B", "C"])
            .method(
                "/p.S/B",
                MethodRequirement::authenticated().permission("x:y"),
            )
            .public("/p.S/C")
            .health()
            .reflection()
    }

    #[test]
    fn paths_split_only_when_well_formed() {
        assert_eq!(split_path("/p.S/M"), Some(("p.S", "M")));
        for bad in ["", "/", "p.S/M", "/p.S", "/p.S/", "//M", "/p.S/M/x"] {
            assert_eq!(split_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn methods_without_a_requirement_need_an_authenticated_caller() {
        let t = table();
        let a = t.requirement("/p.S/A").unwrap();
        assert_eq!(a.base().authentication(), Authentication::Required);
        assert_eq!(a.base().required_permission(), None);
        assert_eq!(
            t.requirement("/p.S/B")
                .unwrap()
                .base()
                .required_permission(),
            Some("x:y")
        );
        assert_eq!(
            t.requirement("/p.S/C").unwrap().base().authentication(),
            Authentication::Public
        );
    }

    #[test]
    fn unknown_methods_services_and_paths_are_unknown() {
        let t = table();
        for path in ["/p.S/D", "/q.S/A", "/p.S", "not a path", "/p.S/A/"] {
            assert!(!t.is_known(path), "{path}");
        }
        assert!(matches!(
            t.lookup("/grpc.health.v1.Health/Check"),
            Lookup::PublicService
        ));
        assert!(matches!(
            t.lookup("/grpc.health.v1.Health/Whatever"),
            Lookup::PublicService
        ));
        assert!(t.is_known("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
        assert!(t.is_known("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
        assert_eq!(t.known_methods(), ["/p.S/A", "/p.S/B", "/p.S/C"]);
    }

    #[test]
    fn a_service_requirement_is_the_default_of_its_methods() {
        let t = Methods::new()
            .service("p.S", ["A"])
            .service_requirement(
                "p.S",
                MethodRequirement::authenticated().permission("p:all"),
            )
            .method("/p.S/B", MethodRequirement::optional());
        assert_eq!(
            t.requirement("/p.S/A")
                .unwrap()
                .base()
                .required_permission(),
            Some("p:all")
        );
        assert_eq!(
            t.requirement("/p.S/B").unwrap().base().authentication(),
            Authentication::Optional
        );
        // A method of a public service can still be protected.
        let t = Methods::new()
            .public_service("p.S")
            .method("/p.S/Secret", MethodRequirement::authenticated());
        assert!(t.requirement("/p.S/Secret").is_some());
        assert!(matches!(t.lookup("/p.S/Other"), Lookup::PublicService));
    }

    #[test]
    fn the_target_is_read_from_the_message() {
        let r = MethodRequirement::authenticated()
            .permission("documents:read")
            .target(|m: &Get| (m.org.clone(), m.id.clone()));
        assert!(r.reads_message());
        let bytes = Get {
            org: "acme".into(),
            id: "welcome".into(),
        }
        .encode_to_vec();
        let resolved = r.resolve(&bytes).unwrap();
        assert_eq!(resolved.organization_id(), Some("acme"));
        assert_eq!(resolved.resource_id(), Some("welcome"));
        assert_eq!(resolved.required_permission(), Some("documents:read"));
        assert!(r.resolve(&[0xff, 0xff]).is_err());
        let org_only = MethodRequirement::authenticated()
            .target(|m: &Get| Target::new().organization(m.org.clone()));
        let resolved = org_only.resolve(&bytes).unwrap();
        assert_eq!(resolved.resource_id(), None);
        let t: Target = ("o".to_owned(), None).into();
        assert_eq!(t.organization_id(), Some("o"));
        assert_eq!(t.resource_id(), None);
    }

    #[test]
    fn descriptors_name_services_methods_and_side_effects() {
        use prost_types::{
            method_options::IdempotencyLevel, FileDescriptorProto, FileDescriptorSet,
            MethodDescriptorProto, MethodOptions, ServiceDescriptorProto,
        };
        let method = |name: &str, safe: bool| MethodDescriptorProto {
            name: Some(name.into()),
            options: safe.then(|| MethodOptions {
                idempotency_level: Some(IdempotencyLevel::NoSideEffects as i32),
                ..MethodOptions::default()
            }),
            ..MethodDescriptorProto::default()
        };
        let set = FileDescriptorSet {
            file: vec![FileDescriptorProto {
                package: Some("d.v1".into()),
                service: vec![ServiceDescriptorProto {
                    name: Some("Docs".into()),
                    method: vec![method("Get", true), method("Put", false)],
                    ..ServiceDescriptorProto::default()
                }],
                ..FileDescriptorProto::default()
            }],
        };
        let t = Methods::new().descriptors(&set.encode_to_vec()).unwrap();
        assert_eq!(t.known_methods(), ["/d.v1.Docs/Get", "/d.v1.Docs/Put"]);
        assert!(matches!(
            t.lookup("/d.v1.Docs/Get"),
            Lookup::Method {
                no_side_effects: true,
                ..
            }
        ));
        assert!(matches!(
            t.lookup("/d.v1.Docs/Put"),
            Lookup::Method {
                no_side_effects: false,
                ..
            }
        ));
        assert!(Methods::new().descriptors(&[0xff]).is_err());
    }
}
