//! The axum/tower side: the layer in front of the MCP endpoint, and the
//! metadata route.
//!
//! For every request the layer makes one gate decision before the MCP
//! service sees anything:
//!
//! 1. A POST's body is read within [`McpResourceServer::max_body`]
//!    (`Content-Length` over it is refused unread) — unless the request has
//!    no `Authorization` at all, which is a 401 without reading a byte.
//! 2. [`operation_of`] names the operation; the gate authenticates the
//!    token and checks that operation's scopes.
//! 3. A denial is rendered by core's renderer (401 with
//!    `resource_metadata`, 403 `insufficient_scope`, 503 with
//!    `Retry-After`). Only an authenticated caller learns that its body was
//!    refused (400 or 413 with a JSON-RPC error). Otherwise the body goes on
//!    byte for byte, with the caller in the request extensions (bouncer-axum's
//!    `Principal` reads it).
//!
//! GET (the event stream) and DELETE (ending a session) name no operation:
//! a valid token is enough. A stage that panics is a 500.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bouncer_axum::BouncerRejection;
use bouncer_core::logging::DecisionContext;
use bouncer_core::render::RenderOptions;
use bouncer_core::{Caller, Decision, DecisionId, Denial, Fault, RequestContext};
use futures_util::future::BoxFuture;
use futures_util::FutureExt as _;
use http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use tower_layer::Layer;
use tower_service::Service;

use crate::{operation_of, McpResourceServer, OperationError};

/// The layer for the MCP endpoint (from [`McpResourceServer::layer`]).
#[derive(Debug, Clone)]
pub struct McpLayer {
    mcp: McpResourceServer,
}

impl<S> Layer<S> for McpLayer {
    type Service = McpService<S>;

    fn layer(&self, inner: S) -> McpService<S> {
        McpService {
            inner,
            mcp: self.mcp.clone(),
        }
    }
}

/// The service of [`McpLayer`].
#[derive(Debug, Clone)]
pub struct McpService<S> {
    inner: S,
    mcp: McpResourceServer,
}

/// Why a POST body goes no further.
enum BodyRefusal {
    TooLarge,
    Unreadable,
    Operation(OperationError),
}

impl BodyRefusal {
    fn response(&self) -> Response {
        let (status, code, message) = match self {
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                "the request body is too large",
            ),
            Self::Unreadable => (
                StatusCode::BAD_REQUEST,
                -32700,
                "the request body could not be read",
            ),
            Self::Operation(e @ OperationError::Malformed(_)) => (
                StatusCode::BAD_REQUEST,
                e.jsonrpc_code(),
                "parse error: not one JSON-RPC message",
            ),
            Self::Operation(e @ OperationError::Batch) => (
                StatusCode::BAD_REQUEST,
                e.jsonrpc_code(),
                "JSON-RPC batches are not accepted",
            ),
            Self::Operation(e) => (
                StatusCode::BAD_REQUEST,
                e.jsonrpc_code(),
                "invalid params: the operation's target is missing",
            ),
        };
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": null,
            "error": {"code": code, "message": message},
        });
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

async fn read_body(body: Body, max: usize) -> Result<Bytes, BodyRefusal> {
    match http_body_util::Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyRefusal::TooLarge),
        Err(_) => Err(BodyRefusal::Unreadable),
    }
}

fn fault_response(id: &DecisionId) -> Response {
    BouncerRejection::new(Denial::Fault(Fault::internal_msg("the MCP layer failed")))
        .with_options(RenderOptions::new().instance(id.urn()))
        .into_response()
}

impl<S, R> Service<Request<Body>> for McpService<S>
where
    S: Service<Request<Body>, Response = R, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    R: IntoResponse,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // tower's clone-then-swap: keep the ready service for this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let mcp = self.mcp.clone();
        Box::pin(async move {
            let started = Instant::now();
            let (mut parts, body) = req.into_parts();
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0);
            // Streamable HTTP sends messages by POST; GET opens a stream and
            // DELETE ends a session, with no message. Any other method with
            // a body is read and checked as a POST is, never passed unread.
            let carries_message = !matches!(
                parts.method,
                Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
            );
            let reads_body = carries_message && parts.headers.contains_key(header::AUTHORIZATION);
            let declared_too_large = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| n > mcp.max_body() as u64);
            let (body, operation) = if !reads_body {
                // Not read: it goes on untouched (a GET or DELETE has none;
                // a message without credentials is refused below).
                (Some(body), None)
            } else if declared_too_large {
                (None, Some(Err(BodyRefusal::TooLarge)))
            } else {
                match read_body(body, mcp.max_body()).await {
                    Ok(bytes) => {
                        let op = operation_of(&bytes).map_err(BodyRefusal::Operation);
                        // The very bytes read, for the MCP service.
                        (Some(Body::from(bytes)), Some(op))
                    }
                    Err(refusal) => (None, Some(Err(refusal))),
                }
            };
            let requirement = mcp.requirement(match &operation {
                Some(Ok(op)) => Some(op),
                _ => None,
            });
            let decide = async {
                let ctx = RequestContext::from_parts(&parts).with_peer(peer);
                mcp.gate().decide(&ctx, &requirement).await
            };
            let route = mcp.resource_path();
            let method = parts.method.clone();
            let log = DecisionContext::new(&method)
                .route(Some(&route))
                .client(peer)
                .requirement(&requirement);
            let verdict = match AssertUnwindSafe(decide).catch_unwind().await {
                Ok(v) => v,
                Err(_) => {
                    let id = DecisionId::new();
                    bouncer_core::logging::undecided(&id, &log, "a stage panicked");
                    return Ok(fault_response(&id));
                }
            };
            let log = log.elapsed(started.elapsed());
            let id = DecisionId::new();
            bouncer_core::logging::decision(&id, &verdict, &log);
            let caller = match verdict.into_parts().0 {
                Decision::Deny(denial) => {
                    return Ok(BouncerRejection::new(denial)
                        .with_options(RenderOptions::new().instance(id.urn()))
                        .into_response())
                }
                Decision::Allow(caller) => caller,
            };
            if let Some(Err(refusal)) = &operation {
                return Ok(refusal.response());
            }
            let Some(body) = body.filter(|_| !carries_message || operation.is_some()) else {
                // A message whose operation was not checked never goes on
                // (without credentials the gate answers 401 first).
                return Ok(fault_response(&id));
            };
            if let Some(a) = caller.authenticated() {
                parts.extensions.insert(a.clone());
            }
            parts.extensions.insert::<Caller>(caller);
            match inner.call(Request::from_parts(parts, body)).await {
                Ok(r) => Ok(r.into_response()),
                Err(never) => match never {},
            }
        })
    }
}

impl McpResourceServer {
    /// The layer for the MCP endpoint.
    pub fn layer(&self) -> McpLayer {
        McpLayer { mcp: self.clone() }
    }

    /// The path the MCP endpoint is served at: the resource URL's (`/`
    /// for none).
    pub fn resource_path(&self) -> String {
        let path = self
            .resource()
            .parse::<http::Uri>()
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        if path.is_empty() {
            "/".to_owned()
        } else {
            path
        }
    }

    /// A router serving the RFC 9728 document at
    /// [`metadata_path`](Self::metadata_path), public (clients read it
    /// before they have a token).
    pub fn metadata_router<St: Clone + Send + Sync + 'static>(&self) -> Router<St> {
        let document = self.metadata().to_json();
        Router::new().route(
            self.metadata_path(),
            get(move || {
                let document = document.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], document) }
            }),
        )
    }

    /// The whole profile around an MCP service (rmcp's
    /// `StreamableHttpService`, say): `service` behind [`layer`](Self::layer)
    /// at [`resource_path`](Self::resource_path), and the metadata route.
    pub fn router<S, R, St>(&self, service: S) -> Router<St>
    where
        S: Service<Request<Body>, Response = R, Error = Infallible> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        R: IntoResponse + 'static,
        St: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route_service(&self.resource_path(), self.layer().layer(service))
            .merge(self.metadata_router())
    }
}
