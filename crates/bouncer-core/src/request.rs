//! A framework-neutral, borrowed view of the request that the stages read.

use std::net::SocketAddr;

use http::{HeaderMap, Method, Uri};

/// The parts of a request that guards, authenticators and authorizers may
/// look at. Borrowed from the framework's request; building one is free.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    peer: Option<SocketAddr>,
}

impl<'a> RequestContext<'a> {
    /// A view over a request's method, URI and headers.
    pub fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        Self {
            method,
            uri,
            headers,
            peer: None,
        }
    }

    /// A view over `http::request::Parts`.
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self::new(&parts.method, &parts.uri, &parts.headers)
    }

    /// Sets the TCP peer address (before any proxy resolution).
    pub fn with_peer(mut self, peer: Option<SocketAddr>) -> Self {
        self.peer = peer;
        self
    }

    /// The method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The URI.
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The raw path, still percent-encoded.
    pub fn path(&self) -> &'a str {
        self.uri.path()
    }

    /// The headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// The TCP peer, if the adapter knows it.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Whether this is a CORS preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`. Preflights never carry credentials.
    pub fn is_cors_preflight(&self) -> bool {
        self.method == Method::OPTIONS
            && self.headers.contains_key(http::header::ORIGIN)
            && self
                .headers
                .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
    }

    /// Whether the method may change state (not GET, HEAD, OPTIONS, TRACE).
    pub fn is_unsafe_method(&self) -> bool {
        !matches!(
            *self.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        )
    }
}
