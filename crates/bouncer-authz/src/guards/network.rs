//! Client address and country rules.
//!
//! The client address is the TCP peer, unless the peer is a trusted proxy:
//! then it is the right-most address of `X-Forwarded-For` (or RFC 7239
//! `Forwarded: for=`) that is not itself a trusted proxy. Addresses the
//! client wrote further left never win, so a client cannot spoof its way
//! past a deny list. IPv4-mapped IPv6 addresses count as IPv4.

use std::net::IpAddr;
use std::sync::Arc;

use bouncer_core::{AccessError, Fault, ForbiddenReason, RequestContext, RequestGuard};
use http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// Most forwarded hops considered; anything further left is ignored.
const MAX_HOPS: usize = 32;

/// Folds IPv4-mapped IPv6 (`::ffff:a.b.c.d`) into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    nets.iter().any(|n| n.contains(&ip))
}

/// Parses one forwarded node: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`,
/// `[2001:db8::1]:443`, optionally quoted. `None` for `unknown`,
/// obfuscated identifiers and garbage.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        return rest.get(..end)?.parse().ok();
    }
    let (host, port) = s.rsplit_once(':')?;
    if port.bytes().all(|b| b.is_ascii_digit()) {
        return host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4);
    }
    None
}

/// Resolves the client address from the peer and forwarding headers.
#[derive(Debug, Clone, Default)]
pub struct ClientIpResolver {
    trusted: Vec<IpNet>,
}

impl ClientIpResolver {
    /// Trusts these proxy ranges.
    pub fn new(trusted: Vec<IpNet>) -> Self {
        Self { trusted }
    }

    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        contains(&self.trusted, ip)
    }

    /// The forwarded chain, left to right, from `X-Forwarded-For` if
    /// present, else from `Forwarded`. `None` entries are unparseable.
    fn chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let xff: Vec<Option<IpAddr>> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(parse_node)
            .collect();
        if !xff.is_empty() {
            return xff;
        }
        headers
            .get_all(http::header::FORWARDED)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v))
                })
            })
            .collect()
    }

    /// The client address for a request from `peer`.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.is_trusted(client) {
            return client;
        }
        let chain = Self::chain(headers);
        for hop in chain.iter().rev().take(MAX_HOPS) {
            match hop {
                // A hop we cannot read: the last trusted address we reached
                // is the best we know.
                None => return client,
                Some(ip) => {
                    client = canonical(*ip);
                    if !self.is_trusted(client) {
                        return client;
                    }
                }
            }
        }
        client
    }
}

/// Looks up a client's country (e.g. from a GeoIP database).
pub trait CountryLookup: Send + Sync + 'static {
    /// The ISO 3166-1 alpha-2 code of `ip`, upper-case, if known.
    fn country(&self, ip: IpAddr) -> Option<[u8; 2]>;
}

/// IP allow/deny lists and country allow/deny lists, behind trusted-proxy
/// resolution.
#[derive(Clone, Default)]
pub struct NetworkGuard {
    resolver: ClientIpResolver,
    allow_ips: Vec<IpNet>,
    deny_ips: Vec<IpNet>,
    country_header: Option<HeaderName>,
    country_lookup: Option<Arc<dyn CountryLookup>>,
    allow_countries: Vec<[u8; 2]>,
    deny_countries: Vec<[u8; 2]>,
}

impl std::fmt::Debug for NetworkGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkGuard")
            .field("resolver", &self.resolver)
            .field("allow_ips", &self.allow_ips)
            .field("deny_ips", &self.deny_ips)
            .field("country_header", &self.country_header)
            .finish_non_exhaustive()
    }
}

fn country_code(s: &str) -> Option<[u8; 2]> {
    match s.trim().as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

impl NetworkGuard {
    /// A guard with the given trusted proxies and no rules.
    pub fn new(resolver: ClientIpResolver) -> Self {
        Self {
            resolver,
            ..Self::default()
        }
    }

    /// Only these ranges may call (empty: everyone).
    pub fn allow_ips(mut self, nets: Vec<IpNet>) -> Self {
        self.allow_ips = nets;
        self
    }

    /// These ranges may not call.
    pub fn deny_ips(mut self, nets: Vec<IpNet>) -> Self {
        self.deny_ips = nets;
        self
    }

    /// Reads the country from this header, trusted only from trusted
    /// proxies (e.g. `CF-IPCountry`).
    pub fn country_header(mut self, name: HeaderName) -> Self {
        self.country_header = Some(name);
        self
    }

    /// Looks the country up by address when no trusted header gives it.
    pub fn country_lookup(mut self, lookup: Arc<dyn CountryLookup>) -> Self {
        self.country_lookup = Some(lookup);
        self
    }

    /// Only these countries may call (empty: everyone; an unknown country
    /// is refused when the list is not empty).
    pub fn allow_countries(mut self, codes: &[&str]) -> Self {
        self.allow_countries = codes.iter().filter_map(|c| country_code(c)).collect();
        self
    }

    /// These countries may not call.
    pub fn deny_countries(mut self, codes: &[&str]) -> Self {
        self.deny_countries = codes.iter().filter_map(|c| country_code(c)).collect();
        self
    }

    fn has_ip_rules(&self) -> bool {
        !self.allow_ips.is_empty() || !self.deny_ips.is_empty()
    }

    fn has_country_rules(&self) -> bool {
        !self.allow_countries.is_empty() || !self.deny_countries.is_empty()
    }

    /// The resolver.
    pub fn resolver(&self) -> &ClientIpResolver {
        &self.resolver
    }

    fn country(&self, peer: IpAddr, client: IpAddr, headers: &HeaderMap) -> Option<[u8; 2]> {
        if let Some(name) = &self.country_header {
            if self.resolver.is_trusted(peer) {
                if let Some(code) = headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .and_then(country_code)
                {
                    return Some(code);
                }
            }
        }
        self.country_lookup.as_ref().and_then(|l| l.country(client))
    }
}

impl RequestGuard for NetworkGuard {
    fn check(&self, request: &RequestContext<'_>) -> Result<(), AccessError> {
        if !self.has_ip_rules() && !self.has_country_rules() {
            return Ok(());
        }
        // Rules without an address would fail open: refuse to guess.
        let Some(peer) = request.peer() else {
            return Err(Fault::internal_msg(
                "IP or country rules are configured but the adapter gave no peer address",
            )
            .into());
        };
        let peer = peer.ip();
        let client = self.resolver.resolve(peer, request.headers());
        if contains(&self.deny_ips, client)
            || (!self.allow_ips.is_empty() && !contains(&self.allow_ips, client))
        {
            return Err(ForbiddenReason::IpBlocked.into());
        }
        if self.has_country_rules() {
            let country = self.country(peer, client, request.headers());
            let denied = country.is_some_and(|c| self.deny_countries.contains(&c));
            let not_allowed = !self.allow_countries.is_empty()
                && !country.is_some_and(|c| self.allow_countries.contains(&c));
            if denied || not_allowed {
                return Err(ForbiddenReason::GeoBlocked.into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn right_most_untrusted_wins() {
        let r = ClientIpResolver::new(nets(&["127.0.0.0/8", "10.0.0.0/8"]));
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        // The client wrote 1.1.1.1; the proxy appended the real 203.0.113.9.
        assert_eq!(
            r.resolve(lo, &headers(&["1.1.1.1, 203.0.113.9"])),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // Chained trusted proxies are skipped.
        assert_eq!(
            r.resolve(lo, &headers(&["203.0.113.9, 10.1.1.1"])),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // Several field lines form one list.
        assert_eq!(
            r.resolve(lo, &headers(&["203.0.113.9", "10.1.1.1"])),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        // An untrusted peer's header is ignored.
        let peer: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(r.resolve(peer, &headers(&["203.0.113.9"])), peer);
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(r.resolve(lo, &headers(&["203.0.113.9, garbage"])), lo);
        // Ports and brackets.
        assert_eq!(
            r.resolve(lo, &headers(&["[2001:db8:bad::1]:443"])),
            "2001:db8:bad::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            r.resolve(lo, &headers(&["203.0.113.9:8080"])),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn forwarded_header() {
        let r = ClientIpResolver::new(nets(&["127.0.0.0/8"]));
        let mut h = HeaderMap::new();
        h.insert(
            http::header::FORWARDED,
            HeaderValue::from_static(r#"for=1.1.1.1, for="[2001:db8:bad::5]:80";proto=https"#),
        );
        assert_eq!(
            r.resolve("127.0.0.1".parse().unwrap(), &h),
            "2001:db8:bad::5".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn mapped_v6_counts_as_v4() {
        let r = ClientIpResolver::new(nets(&["127.0.0.0/8"]));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(r.is_trusted(mapped));
        assert_eq!(
            canonical("::ffff:203.0.113.5".parse().unwrap()),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        assert!(contains(
            &nets(&["203.0.113.0/24"]),
            "::ffff:203.0.113.5".parse().unwrap()
        ));
    }
}
