//! The middleware: [`Guards`] (stage 1, on every request, before routing)
//! and [`Require`] (stages 2–5, per route, resource or scope).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage as _, HttpResponse};
use std::time::Instant;

use bouncer_core::logging::DecisionContext;
use bouncer_core::route::RouteRequirement;
use bouncer_core::{Caller, Decision, GuardsPassed, RequestContext, Verdict};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt as _;

use crate::convert::request_parts;
use crate::Bouncer;

/// Runs the request guards on every request, before routing, so that
/// `/.env` is 403 even though no route serves it. Apply it to the whole
/// app with [`App::wrap`](actix_web::App::wrap) (and wrap it last, so it is
/// the outermost middleware).
///
/// Made by [`Bouncer::guards`]. On success it leaves a [`GuardsPassed`]
/// proof in the request extensions, so [`Require`] does not run the
/// guards again.
#[derive(Debug, Clone)]
pub struct Guards {
    bouncer: Bouncer,
}

impl Guards {
    /// Guards from `bouncer`'s gate.
    pub fn new(bouncer: Bouncer) -> Self {
        Self { bouncer }
    }
}

impl<S, B> Transform<S, ServiceRequest> for Guards
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = GuardsMiddleware<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(GuardsMiddleware {
            service,
            bouncer: self.bouncer.clone(),
        }))
    }
}

/// The service of [`Guards`].
#[derive(Debug)]
pub struct GuardsMiddleware<S> {
    service: S,
    bouncer: Bouncer,
}

impl<S, B> Service<ServiceRequest> for GuardsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = GuardsFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = method_of(&req);
        // Before routing: no route pattern.
        let log = DecisionContext::new(&method).client(req.peer_addr());
        let denied = match request_parts(req.request()) {
            Err(fault) => Some(self.bouncer.undecided(&log, &fault.to_string())),
            Ok(parts) => {
                let ctx = RequestContext::from_parts(&parts).with_peer(req.peer_addr());
                let gate = self.bouncer.gate();
                match std::panic::catch_unwind(AssertUnwindSafe(|| gate.guard(&ctx))) {
                    Ok(Ok(proof)) => {
                        req.extensions_mut().insert(proof);
                        None
                    }
                    Ok(Err(verdict)) => Some(
                        self.bouncer
                            .respond(&log.elapsed(started.elapsed()), *verdict),
                    ),
                    Err(_) => Some(self.bouncer.undecided(&log, "a request guard panicked")),
                }
            }
        };
        match denied {
            None => GuardsFuture::inner(self.service.call(req)),
            Some(response) => GuardsFuture::denied(req.into_response(response)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`GuardsMiddleware`]: the inner service's, or an
    /// immediate denial.
    pub struct GuardsFuture<F, B> {
        #[pin]
        state: GuardState<F, B>,
    }
}

pin_project_lite::pin_project! {
    #[project = GuardProj]
    enum GuardState<F, B> {
        Inner { #[pin] future: F },
        Denied { response: Option<ServiceResponse> , _body: std::marker::PhantomData<B> },
    }
}

impl<F, B> GuardsFuture<F, B> {
    fn inner(future: F) -> Self {
        Self {
            state: GuardState::Inner { future },
        }
    }

    fn denied(response: ServiceResponse) -> Self {
        Self {
            state: GuardState::Denied {
                response: Some(response),
                _body: std::marker::PhantomData,
            },
        }
    }
}

impl<F, B> std::fmt::Debug for GuardsFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardsFuture").finish_non_exhaustive()
    }
}

impl<F, B> Future for GuardsFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            GuardProj::Inner { future } => {
                future.poll(cx).map_ok(ServiceResponse::map_into_left_body)
            }
            GuardProj::Denied { response, .. } => Poll::Ready(match response.take() {
                Some(r) => Ok(r.map_into_right_body()),
                // Polled again after completion: an error, not a panic.
                None => Err(actix_web::error::ErrorInternalServerError(
                    "bouncer guard future polled after completion",
                )),
            }),
        }
    }
}

/// Runs stages 2–5 (and stage 1 unless [`Guards`] already did) for one
/// route's [`RouteRequirement`], with the organization and resource taken
/// from the matched path parameters (`req.match_info()`). Denied requests
/// are answered here: they never reach a body extractor or the handler.
///
/// Made by [`Bouncer::require`]; wrap a route, a resource or a scope with
/// it (`web::get().to(h).wrap(..)`, `web::resource(..).wrap(..)`,
/// `web::scope(..).wrap(..)`). A scope's middleware sees the parameters
/// matched so far, that is the scope's own (`/orgs/{org}`); a requirement
/// that names `{id}` of a resource below belongs on that resource or route.
///
/// Allowed requests carry the [`Caller`] (and, when authenticated, the
/// [`Authenticated`](bouncer_core::Authenticated) caller) in their
/// extensions, for [`Principal`](crate::Principal) and
/// [`MaybePrincipal`](crate::MaybePrincipal).
#[derive(Debug, Clone)]
pub struct Require {
    bouncer: Bouncer,
    requirement: Rc<RouteRequirement>,
}

impl Require {
    /// Middleware enforcing `requirement` with `bouncer`'s gate.
    pub fn new(bouncer: Bouncer, requirement: impl Into<RouteRequirement>) -> Self {
        Self {
            bouncer,
            requirement: Rc::new(requirement.into()),
        }
    }

    /// The requirement.
    pub fn requirement(&self) -> &RouteRequirement {
        &self.requirement
    }
}

impl<S, B> Transform<S, ServiceRequest> for Require
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireMiddleware<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(RequireMiddleware {
            service: Rc::new(service),
            bouncer: self.bouncer.clone(),
            requirement: self.requirement.clone(),
        }))
    }
}

/// The service of [`Require`].
#[derive(Debug)]
pub struct RequireMiddleware<S> {
    service: Rc<S>,
    bouncer: Bouncer,
    requirement: Rc<RouteRequirement>,
}

/// The future of [`RequireMiddleware`].
pub type RequireFuture<B> = LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>;

impl<S, B> Service<ServiceRequest> for RequireMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = RequireFuture<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let bouncer = self.bouncer.clone();
        let resolved = {
            let params = req.match_info();
            self.requirement.resolve(|name| params.get(name))
        };
        let route = req.match_pattern();
        let method = method_of(&req);
        let peer = req.peer_addr();
        async move {
            let started = Instant::now();
            let base = DecisionContext::new(&method)
                .route(route.as_deref())
                .client(peer);
            let deny = |req: ServiceRequest, response: HttpResponse| {
                Ok(req.into_response(response).map_into_right_body())
            };
            let parts = match (request_parts(req.request()), resolved) {
                (Ok(parts), Ok(resolved)) => (parts, resolved),
                (Err(fault), _) | (_, Err(fault)) => {
                    return deny(req, bouncer.undecided(&base, &fault.to_string()));
                }
            };
            let (parts, resolved) = parts;
            let proof = req.extensions().get::<GuardsPassed>().copied();
            let ctx = RequestContext::from_parts(&parts).with_peer(req.peer_addr());
            let decide = async {
                match proof {
                    Some(p) => bouncer.gate().decide_guarded(p, &ctx, &resolved).await,
                    None => bouncer.gate().decide(&ctx, &resolved).await,
                }
            };
            let verdict: Verdict = match AssertUnwindSafe(decide).catch_unwind().await {
                Ok(v) => v,
                Err(_) => return deny(req, bouncer.undecided(&base, "a stage panicked")),
            };
            let log = base.requirement(&resolved).elapsed(started.elapsed());
            let caller = match verdict.decision() {
                Decision::Allow(caller) => caller.clone(),
                Decision::Deny(_) => {
                    let response = bouncer.respond(&log, verdict);
                    return deny(req, response);
                }
            };
            bouncer.log(&log, &verdict);
            {
                let mut ext = req.extensions_mut();
                if let Caller::Authenticated(a) = &caller {
                    ext.insert(a.clone());
                }
                ext.insert(caller);
            }
            service
                .call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        .boxed_local()
    }
}

/// The request's method as an `http` 1 method (actix-web's is `http` 0.2).
fn method_of(req: &ServiceRequest) -> http::Method {
    http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default()
}
