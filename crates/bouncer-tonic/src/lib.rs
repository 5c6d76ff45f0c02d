//! # bouncer-tonic
//!
//! bouncer for [tonic] gRPC servers: the same five-stage decisions as the
//! HTTP adapters, in gRPC's words — `UNAUTHENTICATED` when the caller
//! could not be identified, `PERMISSION_DENIED` when it was and is
//! refused, `UNAVAILABLE` with `RetryInfo` when a store is down,
//! `INTERNAL` for a fault, `UNIMPLEMENTED` for unknown methods.
//!
//! **Depend on this crate** with bouncer-core (and bouncer-authn /
//! bouncer-authz for the built-in schemes and policies; it does not
//! depend on them).
//!
//! | piece | what it does |
//! |---|---|
//! | [`BouncerLayer`] | a tower layer for `Server::builder().layer(..)`: stage 1 on every call, `UNIMPLEMENTED` for unknown methods, stages 2–5 per method; denied calls never reach a handler |
//! | [`Methods`] | which services and methods exist and what each requires; deny by default |
//! | [`MethodRequirement`] / [`Target`] | one method's requirement; the organization and resource read from the request message |
//! | [`Principal`] / [`MaybePrincipal`] | the caller, from a `tonic::Request` |
//! | [`status`] | a `Denial` as a `tonic::Status`, for handlers that deny themselves |
//!
//! ## What the client sees
//!
//! Every denial is a trailers-only response (HTTP/2 200, `content-type:
//! application/grpc`), never an HTTP 401/403. Rendered through core's one
//! renderer, so the texts and challenges are the HTTP adapters':
//!
//! - `grpc-status`: 16 (any 401 reason), 7 (any 403 reason), 5 (a
//!   missing resource), 8 (429), 14 (503), 13 (500);
//! - `grpc-message`: the problem body's `detail`, percent-encoded;
//! - `www-authenticate` metadata: the challenges the HTTP adapter sends,
//!   one value per challenge, in the same order (on 401s, and on a 403
//!   for `insufficient_scope`);
//! - `grpc-status-details-bin`: a `google.rpc.Status` (unpadded base64)
//!   whose details are a `google.rpc.ErrorInfo` (`reason` = the code in
//!   upper snake case such as `TOKEN_EXPIRED`, `domain` = `"bouncer"`,
//!   `metadata` = `{"code": "token_expired"}`), plus a
//!   `google.rpc.RetryInfo` on 503 and 429. Decode it with
//!   `tonic_types::StatusExt`.
//!
//! Credentials travel in metadata — `authorization` (Bearer or Basic)
//! and `x-api-key` — which are HTTP/2 headers, so the same authenticators
//! read them and give the same reason codes. The client address is
//! tonic's `remote_addr()`; proxy headers are read by the guards'
//! trusted-proxy settings.
//!
//! ## Requirements per method, deny by default
//!
//! The [`Methods`] table knows the services and methods (from the
//! descriptor set your build writes, or listed by name). A method of a
//! protected service with no requirement of its own needs an
//! authenticated caller; public methods are declared public; health and
//! reflection are public when enabled. Anything the table does not know
//! is `UNIMPLEMENTED` for every request the guards let through, whatever
//! credentials it carries.
//!
//! A requirement that needs the request's organization or resource reads
//! it from the request message ([`MethodRequirement::target`]): the
//! layer buffers the body up to the first message (at most
//! [`BouncerLayer::max_message_bytes`], 4 MiB by default; larger is
//! `RESOURCE_EXHAUSTED`, undecodable or compressed is
//! `INVALID_ARGUMENT`), decodes it with `prost`, and hands tonic the very
//! same bytes.
//!
//! Every gRPC call is an HTTP `POST`. A method that changes nothing is
//! declared so ([`MethodRequirement::no_side_effects`], or `option
//! idempotency_level = NO_SIDE_EFFECTS` in the proto), and read-only
//! resources then allow it; any other method on a read-only resource is
//! `read_only`.
//!
//! A panicking stage or resolver is `INTERNAL`; each decision gets a
//! decision id, sent in `ErrorInfo.metadata["decision_id"]` (gRPC has no
//! problem body for `instance`), and emits core's decision log event
//! (target `bouncer::decision`) with that id, the method path as the
//! route, the stage, the code and the subject — never a credential.
//!
//! ## Example
//!
//! ```
//! use bouncer_core::Gate;
//! use bouncer_tonic::{BouncerLayer, MethodRequirement, Methods, Principal, Target};
//! # #[derive(Clone, PartialEq, prost::Message)]
//! # struct GetDocumentRequest {
//! #     #[prost(string, tag = "1")] org: String,
//! #     #[prost(string, tag = "2")] id: String,
//! # }
//!
//! # fn build(gate: Gate) {
//! let methods = Methods::new()
//!     .service("docs.v1.Documents", ["Me", "GetDocument"])
//!     .method(
//!         "/docs.v1.Documents/GetDocument",
//!         MethodRequirement::authenticated()
//!             .permission("documents:read")
//!             .no_side_effects()
//!             .target(|m: &GetDocumentRequest| (m.org.clone(), m.id.clone())),
//!     )
//!     // `Me` has no requirement of its own: any authenticated caller.
//!     .health()
//!     .reflection();
//! let layer = BouncerLayer::new(gate, methods);
//! // tonic::transport::Server::builder().layer(layer).add_service(..)
//! # let _ = layer;
//! # }
//!
//! // In a handler:
//! fn me(request: &tonic::Request<()>) -> Result<String, tonic::Status> {
//!     Ok(Principal::from_request(request)?.subject().to_owned())
//! }
//! ```
//!
//! [tonic]: https://docs.rs/tonic

mod body;
mod extract;
mod layer;
mod log;
mod methods;
mod service;
pub mod status;

pub use extract::{MaybePrincipal, Principal};
pub use layer::{BouncerLayer, DEFAULT_MAX_MESSAGE_BYTES};
pub use methods::{
    DescriptorError, MethodRequirement, Methods, Target, HEALTH, REFLECTION_V1, REFLECTION_V1ALPHA,
};
pub use service::{BouncerService, ResponseFuture};
