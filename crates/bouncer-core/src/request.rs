//! A framework-neutral, borrowed view of the request that the stages read.

use std::net::SocketAddr;
use std::time::SystemTime;

use http::{HeaderMap, Method, Uri};

/// The parts of a request that guards, authenticators and authorizers may
/// look at, and the time of the decision. Borrowed from the framework's
/// request; building one is free.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    peer: Option<SocketAddr>,
    now: Option<SystemTime>,
}

impl<'a> RequestContext<'a> {
    /// A view over a request's method, URI and headers.
    pub fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        Self {
            method,
            uri,
            headers,
            peer: None,
            now: None,
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

    /// Sets the time of the decision. The [`Gate`](crate::Gate) sets it to
    /// its clock's reading before any stage runs, replacing what was set
    /// here: set it yourself only when calling a stage without a gate (a
    /// unit test of an authenticator).
    pub fn with_now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// The time of the decision: what stages compare expiry, `nbf`,
    /// session timeouts and `auth_time` against, so that they all agree
    /// with the gate's [`Clock`](crate::Clock). Outside a gate, without
    /// [`with_now`](Self::with_now), the system clock.
    pub fn now(&self) -> SystemTime {
        self.now.unwrap_or_else(SystemTime::now)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_time_is_the_one_set_else_the_systems() {
        let (parts, ()) = http::Request::get("/").body(()).unwrap().into_parts();
        let before = SystemTime::now();
        let unset = RequestContext::from_parts(&parts).now();
        assert!(unset >= before && unset <= SystemTime::now());
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(7);
        let set = RequestContext::from_parts(&parts).with_now(at);
        assert_eq!(set.now(), at);
        // Copies keep it (the gate hands stages a copy).
        let copy = set;
        assert_eq!(copy.now(), at);
    }
}
