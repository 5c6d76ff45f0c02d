//! The services behind the layers.

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams};
use axum::response::{IntoResponse, Response};
use bouncer_core::logging::DecisionContext;
use bouncer_core::render::RenderOptions;
use bouncer_core::DecisionId;
use bouncer_core::{Decision, Denial, Fault, GuardsPassed, RequestContext, Requirement};
use futures_util::FutureExt as _;
use http::request::Parts;
use http::Request;
use tower_service::Service;

use crate::future::{GuardFuture, ResponseFuture};
use crate::rejection::BouncerRejection;
use crate::Bouncer;
use bouncer_core::route::RouteRequirement;

fn peer<B>(req: &Request<B>) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

pub(crate) fn internal_error_response(id: &DecisionId) -> Response {
    BouncerRejection::new(Denial::Fault(Fault::internal_msg("bouncer layer failed")))
        .with_options(RenderOptions::new().instance(id.urn()))
        .into_response()
}

/// Service of [`GuardLayer`](crate::GuardLayer).
#[derive(Debug, Clone)]
pub struct GuardService<S> {
    inner: S,
    bouncer: Bouncer,
}

impl<S> GuardService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, bouncer: Bouncer) -> Self {
        Self { inner, bouncer }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for GuardService<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = GuardFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let peer = peer(&req);
        let started = Instant::now();
        let outcome = {
            let ctx = RequestContext::new(req.method(), req.uri(), req.headers()).with_peer(peer);
            std::panic::catch_unwind(AssertUnwindSafe(|| self.bouncer.gate().guard(&ctx)))
        };
        match outcome {
            Ok(Ok(proof)) => {
                req.extensions_mut().insert(proof);
                GuardFuture::inner(self.inner.call(req))
            }
            Ok(Err(verdict)) => {
                // Before routing: no route pattern.
                let ctx = DecisionContext::new(req.method())
                    .client(peer)
                    .elapsed(started.elapsed());
                GuardFuture::denied(self.bouncer.respond(&ctx, *verdict))
            }
            Err(_) => {
                let ctx = DecisionContext::new(req.method()).client(peer);
                GuardFuture::denied(self.bouncer.undecided(&ctx, "a request guard panicked"))
            }
        }
    }
}

/// Service of [`BouncerLayer`](crate::BouncerLayer).
#[derive(Debug, Clone)]
pub struct BouncerService<S> {
    inner: S,
    bouncer: Bouncer,
    // Shared: a request clones the pointer, not the requirement's strings.
    requirement: Arc<RouteRequirement>,
}

impl<S> BouncerService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, bouncer: Bouncer, requirement: RouteRequirement) -> Self {
        Self::shared(inner, bouncer, Arc::new(requirement))
    }

    pub(crate) fn shared(inner: S, bouncer: Bouncer, requirement: Arc<RouteRequirement>) -> Self {
        Self {
            inner,
            bouncer,
            requirement,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B> Service<Request<B>> for BouncerService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let mut admission: Admission = Box::pin(admit(
            self.bouncer.clone(),
            self.requirement.clone(),
            parts,
            started,
        ));
        // An in-memory pipeline (cached token, compiled policy) decides
        // without waiting: then the ready inner service is called here,
        // with no clone of it and no boxed future around the handler. A
        // stage that waits (a key fetch, Redis, introspection) sends the
        // same admission future down the boxed path, which polls it on:
        // nothing runs twice, and the next poll registers the real waker.
        let mut cx = Context::from_waker(Waker::noop());
        match admission.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(parts)) => {
                ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)))
            }
            Poll::Ready(Err(refused)) => ResponseFuture::refused(refused),
            Poll::Pending => {
                // The clone is not ready; keep the ready one for this call
                // (tower's clone-then-swap).
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::waiting(Box::pin(async move {
                    match admission.await {
                        Ok(parts) => inner.call(Request::from_parts(parts, body)).await,
                        Err(refused) => Ok(refused),
                    }
                }))
            }
        }
    }
}

/// The gate's decision on one request, under way.
type Admission = Pin<Box<dyn Future<Output = Result<Parts, Response>> + Send>>;

/// The gate's decision for one request, logged: the request's parts with
/// the caller in their extensions, for the handler, or the response that
/// refuses the request.
///
/// A plain function returning an `async move` block rather than an `async
/// fn`: an `async fn` keeps its arguments twice in its state (rustc
/// #62958), and this future must stay small.
#[allow(clippy::manual_async_fn)]
fn admit(
    bouncer: Bouncer,
    requirement: Arc<RouteRequirement>,
    mut parts: Parts,
    started: Instant,
) -> impl Future<Output = Result<Parts, Response>> + Send {
    async move {
        let resolved = resolve(&requirement, &mut parts);
        let peer = peer_of(&parts);
        let verdict = match &resolved {
            Err(_) => None,
            Ok(requirement) => {
                let proof = parts.extensions.get::<GuardsPassed>().copied();
                let ctx = RequestContext::from_parts(&parts).with_peer(peer);
                let decide = async {
                    match proof {
                        Some(p) => bouncer.gate().decide_guarded(p, &ctx, requirement).await,
                        None => bouncer.gate().decide(&ctx, requirement).await,
                    }
                };
                AssertUnwindSafe(decide).catch_unwind().await.ok()
            }
        };
        let route = parts.extensions.get::<MatchedPath>();
        let base = DecisionContext::new(&parts.method)
            .route(route.map(MatchedPath::as_str))
            .client(peer);
        let (verdict, requirement) = match (verdict, &resolved) {
            (Some(v), Ok(r)) => (v, r),
            (_, Err(bug)) => return Err(bouncer.undecided(&base, &bug.to_string())),
            (None, Ok(_)) => return Err(bouncer.undecided(&base, "a stage panicked")),
        };
        let ctx = base.elapsed(started.elapsed()).requirement(requirement);
        let caller = match verdict.decision() {
            Decision::Allow(caller) => {
                bouncer.log(&ctx, &verdict);
                caller.clone()
            }
            _ => return Err(bouncer.respond(&ctx, verdict)),
        };
        if let Some(a) = caller.authenticated() {
            parts.extensions.insert(a.clone());
        }
        parts.extensions.insert(caller);
        Ok(parts)
    }
}

fn peer_of(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The route's requirement with the organization and resource read from
/// the matched path parameters.
fn resolve(requirement: &RouteRequirement, parts: &mut Parts) -> Result<Requirement, Fault> {
    if !requirement.needs_params() {
        return requirement.resolve(|_| None);
    }
    // axum's extractor never waits: it reads what the router stored.
    let params = RawPathParams::from_request_parts(parts, &())
        .now_or_never()
        .and_then(Result::ok);
    requirement.resolve(|name| {
        params
            .as_ref()?
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    })
}
