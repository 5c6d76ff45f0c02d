//! The HTTP listener.
//!
//! | path | what |
//! |---|---|
//! | `GET /health` | 200 once the service is ready |
//! | `/auth` (any method) | nginx `auth_request`, Traefik `ForwardAuth`, Caddy `forward_auth` |
//! | `/envoy/...` (any method) | Envoy's HTTP `ext_authz` (`path_prefix: /envoy`) |
//! | `POST /login`, `POST /login/mfa` | cookie sessions (with `[sessions]`), answered as the quickstart does |
//! | `POST /logout` | ends the session, or revokes the bearer token |
//! | anything else | 404 |
//!
//! Paths are dispatched here rather than by a router so that nothing but
//! these exact paths reaches a handler.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bouncer_authn::basic::user_pass_from_headers;
use bouncer_core::{
    AuthnReason, Decision, Denial, Fault, RequestContext, Requirement, SchemeName, Unauthenticated,
};
use bouncer_session::LoginError;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use serde::Deserialize;

use super::original::{self, ENVOY_PREFIX};
use super::service::{refusal, Answer, IdentityHeaders, Service};

/// Envoy's HTTP `ext_authz`: headers the authorization server asks to
/// remove from the upstream request.
const ENVOY_HEADERS_TO_REMOVE: HeaderName =
    HeaderName::from_static("x-envoy-auth-headers-to-remove");

/// The largest login body read.
const MAX_BODY: usize = 16 * 1024;

type Shared = Arc<Service>;

/// The router: every request goes through [`dispatch`].
pub(crate) fn router(service: Shared) -> Router {
    Router::new().fallback(dispatch).with_state(service)
}

/// A rendered denial as a response.
/// A denial the service makes itself (a login, a refused description),
/// named and logged as a decision of its own.
pub(crate) fn denied(service: &Service, denial: &Denial) -> Response {
    response(service.refuse(denial, &bouncer_core::logging::DecisionContext::default()))
}

fn response(rendered: bouncer_core::render::Rendered) -> Response {
    let (status, headers, body) = rendered.into_parts();
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

fn allowed(identity: &IdentityHeaders, envoy: bool) -> Response {
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in &identity.values {
        h.insert(name.clone(), value.clone());
    }
    let absent: Vec<&str> = identity.absent().collect();
    if envoy && !absent.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&absent.join(",")) {
            h.insert(ENVOY_HEADERS_TO_REMOVE, v);
        }
    }
    res
}

async fn answer(service: &Service, original: original::Original, envoy: bool) -> Response {
    match service.decide(&original).await {
        Answer::Allow(identity) => allowed(&identity, envoy),
        Answer::Deny(denial, id) => response(service.render(&denial, &id)),
    }
}

async fn dispatch(
    State(service): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let not_found = || denied(&service, &Denial::NotFound);
    match path.as_str() {
        "/health" if parts.method == Method::GET || parts.method == Method::HEAD => {
            ([(CONTENT_TYPE, "text/plain")], "ok\n").into_response()
        }
        "/auth" => match original::forward_auth(&service.trust, peer, parts.headers) {
            Ok(o) => answer(&service, o, false).await,
            Err(r) => denied(&service, &refusal(r)),
        },
        p if p == ENVOY_PREFIX || p.starts_with("/envoy/") => {
            match original::envoy_http(
                &service.trust,
                peer,
                parts.method,
                &parts.uri,
                parts.headers,
            ) {
                Ok(o) => answer(&service, o, true).await,
                Err(r) => denied(&service, &refusal(r)),
            }
        }
        "/login" | "/login/mfa" | "/logout" if parts.method == Method::POST => {
            // A body over the limit is no login: malformed, like bad JSON.
            let body = axum::body::to_bytes(body, MAX_BODY).await.ok();
            let own = Own {
                service: &service,
                peer,
                uri: &parts.uri,
                headers: &parts.headers,
            };
            match path.as_str() {
                "/login" => own.login(body.as_ref()).await,
                "/login/mfa" => own.login_mfa(body.as_ref()).await,
                _ => own.logout().await,
            }
        }
        _ => not_found(),
    }
}

/// A request the service answers itself (login, MFA, logout), guarded by
/// stage 1 like every other.
struct Own<'a> {
    service: &'a Service,
    peer: SocketAddr,
    uri: &'a Uri,
    headers: &'a HeaderMap,
}

/// The JSON form of `POST /login`.
#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

/// The JSON body of `POST /login/mfa`.
#[derive(Deserialize)]
struct MfaBody {
    code: String,
}

impl Own<'_> {
    fn deny(&self, scheme: SchemeName, e: LoginError) -> Response {
        let requirement = Requirement::authenticated().schemes([scheme.clone()]);
        let denial = e.into_denial(&self.service.gate, &requirement, &scheme);
        denied(self.service, &denial)
    }

    fn reject(&self, scheme: SchemeName, reason: AuthnReason) -> Response {
        self.deny(
            scheme,
            LoginError::Unauthenticated(Unauthenticated::new(reason)),
        )
    }

    fn guard(&self) -> Result<bouncer_core::GuardsPassed, Denial> {
        let ctx =
            RequestContext::new(&Method::POST, self.uri, self.headers).with_peer(Some(self.peer));
        self.service.guard(&ctx)
    }

    /// `POST /login` with Basic credentials or `{"username", "password"}`.
    async fn login(&self, body: Option<&Bytes>) -> Response {
        if let Err(d) = self.guard() {
            return denied(self.service, &d);
        }
        let Some(sessions) = &self.service.sessions else {
            return denied(self.service, &Denial::NotFound);
        };
        let (user, password) = match user_pass_from_headers(self.headers) {
            Ok(Some(up)) => (up.user.clone(), up.password.clone()),
            Err(reason) => return self.reject(SchemeName::BASIC, reason),
            Ok(None) if body.is_some_and(Bytes::is_empty) => {
                return self.reject(SchemeName::BASIC, AuthnReason::MissingCredentials)
            }
            Ok(None) => match body.map(|b| serde_json::from_slice::<LoginBody>(b)) {
                Some(Ok(b)) => (b.username, b.password),
                _ => return self.reject(SchemeName::BASIC, AuthnReason::MalformedCredentials),
            },
        };
        // The guards have refused unreadable forwarding data already when
        // IP rules exist; otherwise such attempts share the proxy's bucket.
        let client = self
            .service
            .trust
            .resolve(self.peer.ip(), self.headers)
            .unwrap_or_else(|_| bouncer_authz::guards::canonical(self.peer.ip()));
        match sessions
            .login(self.headers, &user, &password, Some(client))
            .await
        {
            Ok(done) => (StatusCode::NO_CONTENT, [(SET_COOKIE, done.set_cookie)]).into_response(),
            Err(e) => self.deny(SchemeName::BASIC, e),
        }
    }

    /// `POST /login/mfa` with `{"code": "123456"}` and the pending cookie.
    async fn login_mfa(&self, body: Option<&Bytes>) -> Response {
        if let Err(d) = self.guard() {
            return denied(self.service, &d);
        }
        let Some(sessions) = &self.service.sessions else {
            return denied(self.service, &Denial::NotFound);
        };
        let code = body
            .and_then(|b| serde_json::from_slice::<MfaBody>(b).ok())
            .map(|b| b.code)
            .unwrap_or_default();
        match sessions.complete_mfa(self.headers, &code).await {
            Ok(cookie) => (StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response(),
            Err(e) => self.deny(SchemeName::SESSION, e),
        }
    }

    /// `POST /logout`: ends the session, or revokes the bearer token's
    /// `jti` until it expires.
    async fn logout(&self) -> Response {
        let service = self.service;
        let mut schemes = Vec::new();
        if service.revocations.is_some() {
            schemes.push(SchemeName::BEARER);
        }
        if service.sessions.is_some() {
            schemes.push(SchemeName::SESSION);
        }
        if schemes.is_empty() {
            return denied(service, &Denial::NotFound);
        }
        let proof = match self.guard() {
            Ok(p) => p,
            Err(d) => return denied(service, &d),
        };
        let ctx =
            RequestContext::new(&Method::POST, self.uri, self.headers).with_peer(Some(self.peer));
        let requirement = Requirement::authenticated().schemes(schemes);
        let verdict = match service.decide_guarded(proof, &ctx, &requirement).await {
            Ok(v) => v,
            Err(d) => return denied(service, &d),
        };
        let (decision, _) = verdict.into_parts();
        let who = match decision {
            Decision::Deny(d) => return denied(service, &d),
            Decision::Allow(caller) => match caller.authenticated() {
                Some(who) => who.clone(),
                None => {
                    return denied(
                        service,
                        &Denial::Fault(Fault::internal_msg("logout without a caller")),
                    )
                }
            },
        };
        if *who.scheme() == SchemeName::SESSION {
            if let Some(sessions) = &service.sessions {
                return match sessions.logout(who.identity()).await {
                    Ok(cookie) => (StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response(),
                    Err(f) => denied(service, &Denial::Fault(f)),
                };
            }
        }
        match &service.revocations {
            Some(store) => match bouncer_authn::jwt::revoke(store.as_ref(), who.identity()).await {
                Ok(_) => StatusCode::NO_CONTENT.into_response(),
                Err(f) => denied(service, &Denial::Fault(f)),
            },
            None => denied(
                service,
                &Denial::Fault(Fault::internal_msg("no revocation store")),
            ),
        }
    }
}
