//! The original request, as the proxy describes it — believed only from a
//! trusted proxy.
//!
//! | proxy | method | URI |
//! |---|---|---|
//! | nginx `auth_request` | `X-Original-Method` | `X-Original-URI` |
//! | Traefik `ForwardAuth`, Caddy `forward_auth` | `X-Forwarded-Method` | `X-Forwarded-Uri` |
//! | Envoy `ext_authz` over HTTP | the check request's method | its path after `/envoy` |
//! | Envoy `ext_authz` over gRPC | `attributes.request.http.method` | `attributes.request.http.path` |
//!
//! A request from a peer that is not a trusted proxy (the policy's
//! `[guards] trusted_proxies`) is refused with 403 `ip_blocked`, whatever it
//! describes: its description is never read. A trusted proxy whose
//! description cannot be used — missing, repeated, not a method or an
//! origin-form URI, or given in both the nginx and the forward-auth headers
//! (one of them then came from the client, which the proxy configuration
//! should have removed) — is a misconfigured proxy: 500, never a guess.
//!
//! The credentials and forwarding headers are the proxy's request headers
//! (nginx, Traefik, Caddy and Envoy pass the client's `Authorization`,
//! `Cookie` and `X-API-Key` on), and the client address is resolved from
//! the proxy's `X-Forwarded-For` by the request guards, as in the library.

use std::net::{IpAddr, SocketAddr};

use bouncer_authz::ClientIpResolver;
use http::{HeaderMap, HeaderName, Method, Uri};

/// nginx: the original method.
pub(crate) const X_ORIGINAL_METHOD: HeaderName = HeaderName::from_static("x-original-method");
/// nginx: the original request URI.
pub(crate) const X_ORIGINAL_URI: HeaderName = HeaderName::from_static("x-original-uri");
/// Traefik and Caddy: the original method.
pub(crate) const X_FORWARDED_METHOD: HeaderName = HeaderName::from_static("x-forwarded-method");
/// Traefik and Caddy: the original request URI.
pub(crate) const X_FORWARDED_URI: HeaderName = HeaderName::from_static("x-forwarded-uri");

/// The prefix of Envoy's HTTP `ext_authz` check requests.
pub(crate) const ENVOY_PREFIX: &str = "/envoy";

/// The request the proxy asks about.
#[derive(Debug, Clone)]
pub(crate) struct Original {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    /// The address the request came from: the proxy's TCP peer (HTTP), or
    /// Envoy's `attributes.source.address` (gRPC).
    pub(crate) peer: Option<SocketAddr>,
}

/// Why a description is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 403 `ip_blocked`: not a trusted proxy; nothing it says is believed.
    Untrusted,
    /// 500: a trusted proxy sent a description that cannot be used.
    Unusable(&'static str),
}

/// Whether `peer` may describe original requests.
pub(crate) fn is_trusted(trust: &ClientIpResolver, peer: IpAddr) -> bool {
    trust.is_trusted(bouncer_authz::guards::canonical(peer))
}

/// The single value of `name`, if present.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<&'h str>, Refusal> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Refusal::Unusable("the original request is described twice"));
    }
    first
        .to_str()
        .map(|s| Some(s.trim()))
        .map_err(|_| Refusal::Unusable("the original request's description is not text"))
}

/// Parses an original method.
pub(crate) fn method(text: &str) -> Result<Method, Refusal> {
    if text.is_empty() {
        return Err(Refusal::Unusable("the original method is empty"));
    }
    Method::from_bytes(text.as_bytes())
        .map_err(|_| Refusal::Unusable("the original method is not a method"))
}

/// Parses an original request target: origin form (`/path?query`), or the
/// path and query of an absolute URI.
pub(crate) fn target(text: &str) -> Result<Uri, Refusal> {
    let bad = Refusal::Unusable("the original URI is not a request target");
    let uri: Uri = text.parse().map_err(|_| bad)?;
    let path_and_query = uri.path_and_query().ok_or(bad)?;
    if !path_and_query.as_str().starts_with('/') {
        return Err(bad);
    }
    if uri.scheme().is_none() {
        return Ok(uri);
    }
    Uri::try_from(path_and_query.as_str()).map_err(|_| bad)
}

/// `/auth`: nginx `auth_request` (`X-Original-*`), Traefik `ForwardAuth`
/// and Caddy `forward_auth` (`X-Forwarded-Method`, `X-Forwarded-Uri`).
pub(crate) fn forward_auth(
    trust: &ClientIpResolver,
    peer: SocketAddr,
    headers: HeaderMap,
) -> Result<Original, Refusal> {
    if !is_trusted(trust, peer.ip()) {
        return Err(Refusal::Untrusted);
    }
    let nginx = (
        single(&headers, &X_ORIGINAL_METHOD)?,
        single(&headers, &X_ORIGINAL_URI)?,
    );
    let forwarded = (
        single(&headers, &X_FORWARDED_METHOD)?,
        single(&headers, &X_FORWARDED_URI)?,
    );
    let (m, u) = match (nginx, forwarded) {
        ((None, None), (None, None)) => {
            return Err(Refusal::Unusable(
                "no original request: send X-Original-Method and X-Original-URI, or X-Forwarded-Method and X-Forwarded-Uri",
            ))
        }
        ((None, None), described) | (described, (None, None)) => described,
        _ => {
            return Err(Refusal::Unusable(
                "the original request is described by both X-Original-* and X-Forwarded-Method/-Uri",
            ))
        }
    };
    let (Some(m), Some(u)) = (m, u) else {
        return Err(Refusal::Unusable(
            "the original request needs both its method and its URI",
        ));
    };
    Ok(Original {
        method: method(m)?,
        uri: target(u)?,
        headers,
        peer: Some(peer),
    })
}

/// `/envoy/...`: Envoy's HTTP `ext_authz`, whose check request carries the
/// original method, and the original path and query after the prefix.
pub(crate) fn envoy_http(
    trust: &ClientIpResolver,
    peer: SocketAddr,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
) -> Result<Original, Refusal> {
    if !is_trusted(trust, peer.ip()) {
        return Err(Refusal::Untrusted);
    }
    let bad = Refusal::Unusable("the Envoy check path does not start with /envoy/");
    let full = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let rest = full.strip_prefix(ENVOY_PREFIX).ok_or(bad)?;
    if !rest.starts_with('/') {
        return Err(bad);
    }
    Ok(Original {
        method,
        uri: target(rest)?,
        headers,
        peer: Some(peer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_authz::ForwardingSource;

    fn trust() -> ClientIpResolver {
        ClientIpResolver::new(
            vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            ForwardingSource::XForwardedFor,
        )
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    const PROXY: &str = "127.0.0.1:40000";
    const STRANGER: &str = "198.51.100.7:40000";

    #[test]
    fn nginx_and_forward_auth_headers_describe_the_request() {
        let o = forward_auth(
            &trust(),
            PROXY.parse().unwrap(),
            headers(&[
                ("x-original-method", "DELETE"),
                ("x-original-uri", "/orgs/acme/documents/welcome?x=1"),
                ("authorization", "Basic Ym9iOmJvYi1wYXNz"),
            ]),
        )
        .unwrap();
        assert_eq!(o.method, Method::DELETE);
        assert_eq!(o.uri.path(), "/orgs/acme/documents/welcome");
        assert_eq!(o.uri.query(), Some("x=1"));
        assert!(o.headers.contains_key("authorization"));

        let o = forward_auth(
            &trust(),
            "[::1]:1".parse().unwrap(),
            headers(&[
                ("x-forwarded-method", "PUT"),
                ("x-forwarded-uri", "/orgs/acme/documents/roadmap"),
                ("x-forwarded-host", "api.example"),
                ("x-forwarded-proto", "https"),
            ]),
        )
        .unwrap();
        assert_eq!(o.method, Method::PUT);
        assert_eq!(o.uri.path(), "/orgs/acme/documents/roadmap");
    }

    #[test]
    fn an_untrusted_describer_is_refused_and_never_read() {
        for h in [
            headers(&[("x-original-method", "GET"), ("x-original-uri", "/health")]),
            headers(&[("x-forwarded-method", "GET"), ("x-forwarded-uri", "/me")]),
            headers(&[]),
            headers(&[("x-original-uri", "not a uri at all")]),
        ] {
            let refused = forward_auth(&trust(), STRANGER.parse().unwrap(), h.clone());
            assert_eq!(refused.unwrap_err(), Refusal::Untrusted);
            let refused = envoy_http(
                &trust(),
                STRANGER.parse().unwrap(),
                Method::GET,
                &"/envoy/me".parse().unwrap(),
                h,
            );
            assert_eq!(refused.unwrap_err(), Refusal::Untrusted);
        }
        // IPv4-mapped IPv6 peers count as IPv4.
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:1".parse().unwrap();
        assert!(is_trusted(&trust(), mapped.ip()));
        let mapped: SocketAddr = "[::ffff:198.51.100.7]:1".parse().unwrap();
        assert!(!is_trusted(&trust(), mapped.ip()));
    }

    #[test]
    fn unusable_descriptions_are_faults_not_guesses() {
        let cases: &[&[(&str, &str)]] = &[
            &[],
            &[("x-original-uri", "/me")],
            &[("x-original-method", "GET")],
            &[
                ("x-original-method", "GET"),
                ("x-original-uri", "/me"),
                ("x-forwarded-uri", "/admin/audit"),
            ],
            &[
                ("x-original-method", "GET"),
                ("x-original-uri", "/me"),
                ("x-original-uri", "/admin/audit"),
            ],
            &[("x-original-method", "G T"), ("x-original-uri", "/me")],
            &[("x-original-method", ""), ("x-original-uri", "/me")],
            &[("x-original-method", "GET"), ("x-original-uri", "me")],
            &[("x-original-method", "GET"), ("x-original-uri", "*")],
            &[("x-original-method", "GET"), ("x-original-uri", "")],
        ];
        for pairs in cases {
            let r = forward_auth(&trust(), PROXY.parse().unwrap(), headers(pairs));
            assert!(matches!(r, Err(Refusal::Unusable(_))), "{pairs:?}: {r:?}");
        }
    }

    #[test]
    fn absolute_targets_keep_their_path_and_query() {
        let u = target("http://api.example/orgs/acme/documents?q=1").unwrap();
        assert_eq!(u.to_string(), "/orgs/acme/documents?q=1");
    }

    #[test]
    fn envoy_paths_lose_their_prefix() {
        let o = envoy_http(
            &trust(),
            PROXY.parse().unwrap(),
            Method::POST,
            &"/envoy/orgs/acme/documents?draft=1".parse().unwrap(),
            headers(&[]),
        )
        .unwrap();
        assert_eq!(o.method, Method::POST);
        assert_eq!(o.uri.to_string(), "/orgs/acme/documents?draft=1");
        let root = envoy_http(
            &trust(),
            PROXY.parse().unwrap(),
            Method::GET,
            &"/envoy/".parse().unwrap(),
            headers(&[]),
        )
        .unwrap();
        assert_eq!(root.uri.path(), "/");
        for bad in ["/envoy", "/envoyx/me", "/other/me"] {
            let r = envoy_http(
                &trust(),
                PROXY.parse().unwrap(),
                Method::GET,
                &bad.parse().unwrap(),
                headers(&[]),
            );
            assert!(matches!(r, Err(Refusal::Unusable(_))), "{bad}");
        }
    }
}
