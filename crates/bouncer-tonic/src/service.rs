//! The layer's service: the five stages per method, then tonic.

use std::borrow::Cow;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bouncer_core::{Caller, Decision, Denial, Fault, RequestContext, Requirement, Verdict};
use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;
use http::{Method, Request, Response};
use tonic::body::Body;
use tonic::metadata::MetadataMap;
use tower_service::Service;

use crate::body::{read_first_message, ReadError};
use crate::layer::Shared;
use crate::log;
use crate::methods::Lookup;
use crate::status::{denial_status, response};

/// Service of [`BouncerLayer`](crate::BouncerLayer).
#[derive(Debug, Clone)]
pub struct BouncerService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> BouncerService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
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

/// The future of [`BouncerService`].
pub struct ResponseFuture<B, E> {
    inner: BoxFuture<'static, Result<Response<B>, E>>,
}

impl<B, E> std::fmt::Debug for ResponseFuture<B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<B, E> Future for ResponseFuture<B, E> {
    type Output = Result<Response<B>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

/// The TCP peer as tonic records it (`TcpConnectInfo`, or its TLS
/// wrapper when tonic is built with TLS).
fn peer(extensions: &mut http::Extensions) -> Option<SocketAddr> {
    let request = tonic::Request::from_parts(MetadataMap::new(), std::mem::take(extensions), ());
    let addr = request.remote_addr();
    let (_, taken, ()) = request.into_parts();
    *extensions = taken;
    addr
}

fn internal<B: Default>(why: &str) -> Response<B> {
    let id = log::undecided(why);
    response(denial_status(
        &Denial::Fault(Fault::internal_msg("bouncer layer failed")),
        &bouncer_core::RenderOptions::new().instance(id.urn()),
    ))
}

fn unimplemented<B: Default>() -> Response<B> {
    response(tonic::Status::unimplemented(""))
}

fn unreadable<B: Default>(error: ReadError, limit: usize) -> Response<B> {
    let status = match error {
        ReadError::TooLarge => tonic::Status::resource_exhausted(format!(
            "the request message is larger than {limit} bytes"
        )),
        ReadError::Incomplete => {
            tonic::Status::invalid_argument("the request has no complete message")
        }
        ReadError::Compressed => tonic::Status::invalid_argument(
            "compressed request messages are not accepted on this method",
        ),
        ReadError::Broken => tonic::Status::cancelled("the request body could not be read"),
    };
    response(status)
}

impl<S, ResBody> Service<Request<Body>> for BouncerService<S>
where
    S: Service<Request<Body>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's
        // clone-then-swap).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let shared = Arc::clone(&self.shared);
        ResponseFuture {
            inner: Box::pin(decide_then_call(shared, inner, req)),
        }
    }
}

async fn decide_then_call<S, ResBody>(
    shared: Arc<Shared>,
    mut inner: S,
    req: Request<Body>,
) -> Result<Response<ResBody>, S::Error>
where
    S: Service<Request<Body>, Response = Response<ResBody>>,
    ResBody: Default,
{
    let (mut parts, body) = req.into_parts();
    let peer = peer(&mut parts.extensions);

    // Stage 1, before anything else is looked at.
    let guarded = {
        let ctx = RequestContext::new(&parts.method, &parts.uri, &parts.headers).with_peer(peer);
        std::panic::catch_unwind(AssertUnwindSafe(|| shared.gate.guard(&ctx)))
    };
    let proof = match guarded {
        Ok(Ok(proof)) => proof,
        Ok(Err(verdict)) => return Ok(shared.deny(parts.uri.path(), peer, None, *verdict)),
        Err(_) => return Ok(internal("a request guard panicked")),
    };

    let (requirement, no_side_effects) = match shared.methods.lookup(parts.uri.path()) {
        Lookup::Unknown => return Ok(unimplemented()),
        Lookup::PublicService => {
            parts.extensions.insert(Caller::Anonymous);
            return inner.call(Request::from_parts(parts, body)).await;
        }
        Lookup::Method {
            requirement,
            no_side_effects,
        } => (requirement, no_side_effects),
    };

    // The organization and resource, from the first message if the
    // method reads it.
    let (resolved, body): (Cow<'_, Requirement>, Body) = if requirement.reads_message() {
        let first = match read_first_message(body, shared.max_message_bytes).await {
            Ok(first) => first,
            Err(e) => return Ok(unreadable(e, shared.max_message_bytes)),
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| requirement.resolve(first.message()))) {
            Ok(Ok(resolved)) => (Cow::Owned(resolved), first.replay()),
            Ok(Err(_)) => {
                return Ok(response(tonic::Status::invalid_argument(
                    "the request message could not be decoded",
                )))
            }
            Err(_) => return Ok(internal("a request resolver panicked")),
        }
    } else {
        (Cow::Borrowed(requirement.base()), body)
    };

    // Stages 2–5. A gRPC call is always a POST; a method without side
    // effects is looked at as a GET, so read-only resources allow it.
    let get = Method::GET;
    let method = if no_side_effects { &get } else { &parts.method };
    let verdict = {
        let ctx = RequestContext::new(method, &parts.uri, &parts.headers).with_peer(peer);
        AssertUnwindSafe(shared.gate.decide_guarded(proof, &ctx, &resolved))
            .catch_unwind()
            .await
    };
    let verdict: Verdict = match verdict {
        Ok(v) => v,
        Err(_) => return Ok(internal("a stage panicked")),
    };
    match verdict.decision() {
        Decision::Allow(caller) => {
            log::verdict(parts.uri.path(), peer, Some(&resolved), &verdict);
            let caller = caller.clone();
            if let Some(a) = caller.authenticated() {
                parts.extensions.insert(a.clone());
            }
            parts.extensions.insert(caller);
            inner.call(Request::from_parts(parts, body)).await
        }
        Decision::Deny(_) => Ok(shared.deny(parts.uri.path(), peer, Some(&resolved), verdict)),
    }
}
