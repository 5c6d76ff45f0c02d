//! Test stages (no bouncer-authn or bouncer-authz: this crate does not
//! depend on them), the test service and a loopback server.

use std::net::SocketAddr;
use std::time::Duration;

use bouncer_core::{
    async_trait, AccessError, AccountDirectory, AccountState, AuthContext, Authenticated,
    Authenticator, AuthnError, AuthnReason, Authorizer, BearerError, Challenge, ChallengeContext,
    Credentials, Fault, Forbidden, ForbiddenReason, Gate, Identity, RequestContext, RequestGuard,
    Requirement, SchemeName, StepUp,
};
use bouncer_tonic::{BouncerLayer, MaybePrincipal, MethodRequirement, Methods, Principal, Target};
use tonic::{Request, Response, Status};

use crate::pb::docs_server::{Docs, DocsServer};
use crate::pb::{DocRequest, Empty, Reply};

pub(crate) const REALM: &str = "test";
pub(crate) const MFA: &str = "urn:test:acr:mfa";

/// Stage 1: `x-guard: path | ip | geo | panic | peer` (`peer` blocks when
/// the layer did not pass the TCP peer on).
pub(crate) struct HeaderGuard;

impl RequestGuard for HeaderGuard {
    fn check(&self, request: &RequestContext<'_>) -> Result<(), AccessError> {
        match request.headers().get("x-guard").map(|v| v.as_bytes()) {
            Some(b"path") => Err(ForbiddenReason::BlockedPath.into()),
            Some(b"ip") => Err(ForbiddenReason::IpBlocked.into()),
            Some(b"geo") => Err(ForbiddenReason::GeoBlocked.into()),
            Some(b"panic") => panic!("a guard panicked"),
            Some(b"peer") => match request.peer() {
                Some(p) if p.ip().is_loopback() => Ok(()),
                _ => Err(ForbiddenReason::IpBlocked.into()),
            },
            _ => Ok(()),
        }
    }
}

/// Bearer tokens by name: a subject, or a failure.
pub(crate) struct Bearer;

#[async_trait]
impl Authenticator for Bearer {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        bouncer_core::authorization::scheme_of(request.headers())
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let mut values = request.headers().get_all("authorization").iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(AuthnReason::MalformedCredentials.into());
        };
        let credentials = Credentials::parse_bytes(value.as_bytes())
            .map_err(|_| AuthnError::from(AuthnReason::MalformedCredentials))?;
        let Some(token) = credentials.token68() else {
            return Err(AuthnReason::MalformedCredentials.into());
        };
        let user = |sub: &str| Identity::user(sub, SchemeName::BEARER);
        match token {
            "alice" | "bob" | "dave" | "erin" => Ok(Some(user(token))),
            "alice-read-scope" => Ok(Some(user("alice").with_scopes(["documents:read"]))),
            "erin-mfa" => Ok(Some(
                user("erin").with_auth_context(AuthContext::new().with_acr(MFA)),
            )),
            "expired" => Err(AuthnReason::TokenExpired.into()),
            "revoked" => Err(AuthnReason::TokenRevoked.into()),
            "down" => Err(Fault::unavailable(
                "revocation store",
                Duration::from_secs(2),
                std::io::Error::other("connection refused"),
            )
            .into()),
            "bug" => Err(Fault::internal_msg("a bug in the authenticator").into()),
            "panic" => panic!("an authenticator panicked"),
            _ => Err(AuthnReason::InvalidToken.into()),
        }
    }

    fn challenge(&self, error: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let mut b = Challenge::bearer().realm(REALM);
        if let Some(ctx) = error {
            if let Some(e) = BearerError::for_reason(ctx.reason) {
                b = b.error(e).error_description(ctx.description);
            }
            if let Some(scope) = ctx.scope {
                b = b.scope(scope);
            }
            if let Some(step_up) = ctx.step_up {
                if !step_up.acr_values().is_empty() {
                    b = b.acr_values(step_up.acr_values().join(" "));
                }
            }
        }
        b.build().ok()
    }
}

/// Basic `user:<user>-pass`.
pub(crate) struct Basic;

#[async_trait]
impl Authenticator for Basic {
    fn scheme(&self) -> SchemeName {
        SchemeName::BASIC
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        bouncer_core::authorization::scheme_of(request.headers())
            .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        let value = request
            .headers()
            .get("authorization")
            .ok_or(AuthnReason::MalformedCredentials)?;
        let credentials = Credentials::parse_bytes(value.as_bytes())
            .map_err(|_| AuthnError::from(AuthnReason::MalformedCredentials))?;
        match credentials.token68() {
            // alice:alice-pass
            Some("YWxpY2U6YWxpY2UtcGFzcw==") => {
                Ok(Some(Identity::user("alice", SchemeName::BASIC)))
            }
            Some(t) if t.contains(|c: char| !c.is_ascii_alphanumeric() && !"+/=".contains(c)) => {
                Err(AuthnReason::MalformedCredentials.into())
            }
            _ => Err(AuthnReason::InvalidCredentials.into()),
        }
    }

    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        Challenge::basic(REALM).ok()
    }
}

/// `x-api-key: svc-key` (no registered challenge).
pub(crate) struct ApiKey;

#[async_trait]
impl Authenticator for ApiKey {
    fn scheme(&self) -> SchemeName {
        SchemeName::API_KEY
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        request.headers().contains_key("x-api-key")
    }

    async fn authenticate(
        &self,
        request: &RequestContext<'_>,
    ) -> Result<Option<Identity>, AuthnError> {
        match request.headers().get("x-api-key").map(|v| v.as_bytes()) {
            Some(b"svc-key") => Ok(Some(Identity::service("svc", SchemeName::API_KEY))),
            _ => Err(AuthnReason::InvalidCredentials.into()),
        }
    }

    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        None
    }
}

/// `cookie: session=…`: every session is unknown.
pub(crate) struct Session;

#[async_trait]
impl Authenticator for Session {
    fn scheme(&self) -> SchemeName {
        SchemeName::new("session")
    }

    fn recognizes(&self, request: &RequestContext<'_>) -> bool {
        request.headers().contains_key("cookie")
    }

    async fn authenticate(&self, _: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        Err(AuthnReason::SessionInvalid.into())
    }

    fn challenge(&self, _: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        None
    }
}

/// dave is suspended.
pub(crate) struct Accounts;

#[async_trait]
impl AccountDirectory for Accounts {
    async fn state(&self, identity: &Identity) -> Result<AccountState, Fault> {
        Ok(match identity.subject() {
            "dave" => AccountState::Suspended,
            _ => AccountState::Active,
        })
    }
}

/// acme: alice writes, bob and svc read, erin is the global admin.
/// Resources: `welcome`, `roadmap` (shared with alice only), `archived`
/// (read-only); anything else is missing; `boom` is a fault.
pub(crate) struct Policy;

#[async_trait]
impl Authorizer for Policy {
    async fn authorize(
        &self,
        caller: &Authenticated,
        request: &RequestContext<'_>,
        requirement: &Requirement,
    ) -> Result<(), AccessError> {
        let who = caller.subject();
        if let Some(org) = requirement.organization_id() {
            if org != "acme" {
                return Err(ForbiddenReason::TenantMismatch.into());
            }
        }
        if let Some(p) = requirement.required_permission() {
            let granted = match p {
                "admin:access" => who == "erin",
                "documents:read" => matches!(who, "alice" | "bob" | "svc" | "erin"),
                "documents:write" => who == "alice",
                _ => false,
            };
            if requirement.is_elevated() && !granted {
                return Err(ForbiddenReason::ElevationRequired.into());
            }
            if !granted {
                return Err(ForbiddenReason::InsufficientPermission.into());
            }
            if !caller.identity().scope_allows(p) {
                return Err(Forbidden::insufficient_scope(p.to_owned()).into());
            }
        }
        match requirement.resource_id() {
            None | Some("welcome") => Ok(()),
            Some("roadmap") if who == "alice" => Ok(()),
            Some("roadmap") => Err(ForbiddenReason::NotShared.into()),
            Some("archived") if request.is_unsafe_method() => Err(ForbiddenReason::ReadOnly.into()),
            Some("archived") => Ok(()),
            Some("boom") => Err(Fault::internal_msg("the resource store broke").into()),
            Some(_) => Err(AccessError::NotFound),
        }
    }
}

pub(crate) fn gate() -> Gate {
    Gate::builder()
        .realm(REALM)
        .guard(HeaderGuard)
        .authenticator(Bearer)
        .authenticator(Basic)
        .authenticator(ApiKey)
        .authenticator(Session)
        .accounts(Accounts)
        .authorizer(Policy)
        .build()
}

pub(crate) const SVC: &str = "bouncer.test.v1.Docs";

pub(crate) fn path(method: &str) -> String {
    format!("/{SVC}/{method}")
}

pub(crate) fn methods() -> Methods {
    let doc = |m: &DocRequest| (m.org.clone(), m.id.clone());
    Methods::new()
        .descriptors(crate::DESCRIPTOR)
        .unwrap()
        .method(&path("Me"), MethodRequirement::authenticated())
        .method(
            &path("Get"),
            MethodRequirement::authenticated()
                .permission("documents:read")
                .target(doc),
        )
        .method(
            &path("Put"),
            MethodRequirement::authenticated()
                .permission("documents:write")
                .target(doc),
        )
        .method(
            &path("PutMany"),
            MethodRequirement::authenticated()
                .permission("documents:write")
                .target(doc),
        )
        .public(&path("Open"))
        .method(
            &path("Audit"),
            MethodRequirement::authenticated()
                .schemes([SchemeName::BEARER])
                .permission("admin:access")
                .elevated()
                .step_up(StepUp::new().acr([MFA])),
        )
        .method(
            &path("Admin"),
            MethodRequirement::authenticated()
                .permission("admin:access")
                .elevated(),
        )
        .method(
            &path("Fragile"),
            MethodRequirement::authenticated().target(|m: &DocRequest| -> Target {
                if m.id == "panic" {
                    panic!("a resolver panicked")
                }
                Target::new().organization(m.org.clone())
            }),
        )
        .health()
        .reflection()
}

/// The test service: answers who called.
pub(crate) struct Service;

fn who<T>(request: &Request<T>) -> Result<String, Status> {
    Ok(Principal::from_request(request)?.subject().to_owned())
}

#[tonic::async_trait]
impl Docs for Service {
    async fn me(&self, request: Request<Empty>) -> Result<Response<Reply>, Status> {
        Ok(Response::new(Reply {
            sub: who(&request)?,
            detail: String::new(),
        }))
    }

    async fn get(&self, request: Request<DocRequest>) -> Result<Response<Reply>, Status> {
        let sub = who(&request)?;
        let m = request.into_inner();
        Ok(Response::new(Reply {
            sub,
            detail: format!("{}/{}", m.org, m.id),
        }))
    }

    async fn put(&self, request: Request<DocRequest>) -> Result<Response<Reply>, Status> {
        let sub = who(&request)?;
        Ok(Response::new(Reply {
            sub,
            detail: request.into_inner().payload,
        }))
    }

    async fn open(&self, request: Request<Empty>) -> Result<Response<Reply>, Status> {
        let maybe = MaybePrincipal::from_request(&request)?;
        Ok(Response::new(Reply {
            sub: maybe.0.map(|a| a.subject().to_owned()).unwrap_or_default(),
            detail: String::new(),
        }))
    }

    async fn undeclared(&self, request: Request<Empty>) -> Result<Response<Reply>, Status> {
        Ok(Response::new(Reply {
            sub: who(&request)?,
            detail: String::new(),
        }))
    }

    async fn audit(&self, request: Request<Empty>) -> Result<Response<Reply>, Status> {
        self.me(request).await
    }

    async fn admin(&self, request: Request<Empty>) -> Result<Response<Reply>, Status> {
        self.me(request).await
    }

    async fn fragile(&self, request: Request<DocRequest>) -> Result<Response<Reply>, Status> {
        self.get(request).await
    }

    async fn put_many(
        &self,
        request: Request<tonic::Streaming<DocRequest>>,
    ) -> Result<Response<Reply>, Status> {
        let sub = who(&request)?;
        let mut stream = request.into_inner();
        let mut payloads = Vec::new();
        while let Some(m) = stream.message().await? {
            payloads.push(m.payload);
        }
        Ok(Response::new(Reply {
            sub,
            detail: payloads.join(","),
        }))
    }
}

/// Serves `layer` in front of health, reflection and the test service on
/// a loopback port.
pub(crate) async fn serve(layer: BouncerLayer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::DESCRIPTOR)
        .build_v1()
        .unwrap();
    let router = tonic::transport::Server::builder()
        .layer(layer)
        .add_service(health)
        .add_service(reflection)
        .add_service(DocsServer::new(Service));
    tokio::spawn(
        router.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    addr
}

pub(crate) async fn channel(addr: SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}
