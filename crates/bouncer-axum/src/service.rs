//! The services behind the layers.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams};
use axum::response::{IntoResponse, Response};
use bouncer_core::logging::DecisionContext;
use bouncer_core::render::RenderOptions;
use bouncer_core::DecisionId;
use bouncer_core::{Caller, Decision, Denial, Fault, RequestContext, Verdict};
use futures_util::FutureExt as _;
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
    type Future = ResponseFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's
        // clone-then-swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let bouncer = self.bouncer.clone();
        let requirement = self.requirement.clone();
        let inner_future = async move {
            let (mut parts, body) = req.into_parts();
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            let params = if requirement.needs_params() {
                RawPathParams::from_request_parts(&mut parts, &())
                    .await
                    .ok()
            } else {
                None
            };
            let param = |name: &str| {
                params
                    .as_ref()?
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v)
            };
            let started = Instant::now();
            let route = parts.extensions.get::<MatchedPath>().cloned();
            let method = parts.method.clone();
            let base = DecisionContext::new(&method)
                .route(route.as_ref().map(MatchedPath::as_str))
                .client(peer);
            let resolved = requirement.resolve(param);
            let verdict = match &resolved {
                Err(bug) => Err(bug.to_string()),
                Ok(resolved) => {
                    let proof = parts
                        .extensions
                        .get::<bouncer_core::GuardsPassed>()
                        .copied();
                    let ctx = RequestContext::from_parts(&parts).with_peer(peer);
                    let decide = async {
                        match proof {
                            Some(p) => bouncer.gate().decide_guarded(p, &ctx, resolved).await,
                            None => bouncer.gate().decide(&ctx, resolved).await,
                        }
                    };
                    match AssertUnwindSafe(decide).catch_unwind().await {
                        Ok(v) => Ok(v),
                        Err(_) => Err("a stage panicked".to_owned()),
                    }
                }
            };
            let verdict: Verdict = match verdict {
                Ok(v) => v,
                Err(bug) => return Ok(bouncer.undecided(&base, &bug)),
            };
            let mut ctx = base.elapsed(started.elapsed());
            if let Ok(resolved) = &resolved {
                ctx = ctx.requirement(resolved);
            }
            match verdict.decision() {
                Decision::Allow(caller) => {
                    bouncer.log(&ctx, &verdict);
                    let caller: Caller = caller.clone();
                    if let Some(a) = caller.authenticated() {
                        parts.extensions.insert(a.clone());
                    }
                    parts.extensions.insert(caller);
                    inner.call(Request::from_parts(parts, body)).await
                }
                _ => Ok(bouncer.respond(&ctx, verdict)),
            }
        };
        ResponseFuture {
            inner: Box::pin(inner_future),
        }
    }
}
