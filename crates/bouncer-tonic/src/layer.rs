//! The tower layer.

use std::net::SocketAddr;
use std::sync::Arc;

use bouncer_core::render::RenderOptions;
use bouncer_core::{Decision, Gate, Requirement, Verdict};
use tower_layer::Layer;

use crate::log;
use crate::methods::Methods;
use crate::service::BouncerService;
use crate::status::{denial_status, response};

/// The default bound on a request message the layer reads for a
/// [`target`](crate::MethodRequirement::target): 4 MiB, tonic's default
/// `max_decoding_message_size`.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) gate: Arc<Gate>,
    pub(crate) methods: Methods,
    pub(crate) options: RenderOptions,
    pub(crate) max_message_bytes: usize,
}

impl Shared {
    /// Logs a denial and renders it as a trailers-only response, its
    /// decision id in `ErrorInfo.metadata["decision_id"]`.
    pub(crate) fn deny<B: Default>(
        &self,
        path: &str,
        peer: Option<SocketAddr>,
        requirement: Option<&Requirement>,
        verdict: Verdict,
    ) -> http::Response<B> {
        let id = log::verdict(path, peer, requirement, &verdict);
        let (decision, _) = verdict.into_parts();
        match decision {
            Decision::Deny(denial) => response(denial_status(
                &denial,
                &self.options.clone().instance(id.urn()),
            )),
            Decision::Allow(_) => response(tonic::Status::internal("an internal error occurred")),
        }
    }
}

/// Runs the five stages for every call, before tonic routes it: stage 1
/// on every request; then `UNIMPLEMENTED` for methods the [`Methods`]
/// table does not know; then stages 2–5 against the method's
/// requirement. Denied calls never reach a handler and are answered
/// trailers-only with the status of [`status`](crate::status).
///
/// Put it on the whole server: `Server::builder().layer(layer)`.
#[derive(Debug, Clone)]
#[must_use]
pub struct BouncerLayer {
    shared: Arc<Shared>,
}

impl BouncerLayer {
    /// A layer deciding with `gate` against `methods`.
    pub fn new(gate: Gate, methods: Methods) -> Self {
        Self::from_arc(Arc::new(gate), methods)
    }

    /// A layer on a shared gate (one gate for an HTTP and a gRPC server).
    pub fn from_arc(gate: Arc<Gate>, methods: Methods) -> Self {
        Self {
            shared: Arc::new(Shared {
                gate,
                methods,
                options: RenderOptions::new(),
                max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            }),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Shared)) -> Self {
        let shared = Shared {
            gate: Arc::clone(&self.shared.gate),
            methods: self.shared.methods.clone(),
            options: self.shared.options.clone(),
            max_message_bytes: self.shared.max_message_bytes,
        };
        let mut shared = shared;
        f(&mut shared);
        self.shared = Arc::new(shared);
        self
    }

    /// Whether `grpc-message` (and the `google.rpc.Status` message)
    /// carries the problem `detail` (default `true`: fixed texts that
    /// never name an account or echo a credential).
    pub fn expose_detail(self, expose: bool) -> Self {
        self.with(|s| s.options = s.options.clone().expose_detail(expose))
    }

    /// The bound on a request message read for a method's target
    /// (default [`DEFAULT_MAX_MESSAGE_BYTES`]). A longer message is
    /// answered `RESOURCE_EXHAUSTED`, as gRPC answers a message over its
    /// receive limit, before any credential is looked at.
    pub fn max_message_bytes(self, limit: usize) -> Self {
        self.with(|s| s.max_message_bytes = limit)
    }

    /// The gate.
    pub fn gate(&self) -> &Gate {
        &self.shared.gate
    }

    /// The methods table.
    pub fn methods(&self) -> &Methods {
        &self.shared.methods
    }
}

impl<S> Layer<S> for BouncerLayer {
    type Service = BouncerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BouncerService::new(inner, Arc::clone(&self.shared))
    }
}
