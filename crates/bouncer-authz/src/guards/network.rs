//! Client address and country rules.
//!
//! The rules (how the client address is found, what fails closed) are in
//! the [`guards`](super) module docs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bouncer_core::{AccessError, Fault, ForbiddenReason, RequestContext, RequestGuard};
use http::header::{GetAll, FORWARDED};
use http::{HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;

/// The hop limit when none is configured: a forwarding list with more
/// elements than this is unreadable.
pub const DEFAULT_MAX_HOPS: usize = 32;

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static FORWARDED_NAME: HeaderName = FORWARDED;

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

/// The one header a [`ClientIpResolver`] reads behind a trusted proxy.
/// The others are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ForwardingSource {
    /// `X-Forwarded-For`: a comma-separated list of addresses, the proxy
    /// appending the address it saw on the right.
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239): a list of elements, each read for its one
    /// `for=` parameter.
    Forwarded,
    /// A header holding exactly one address that the proxy sets, such as
    /// `X-Real-IP`.
    Header(HeaderName),
}

impl ForwardingSource {
    /// The source a header name stands for: `X-Forwarded-For` and
    /// `Forwarded` (in any case) are the lists; any other name is a
    /// single-address header.
    pub fn from_header(name: HeaderName) -> Self {
        if name == X_FORWARDED_FOR {
            Self::XForwardedFor
        } else if name == FORWARDED_NAME {
            Self::Forwarded
        } else {
            Self::Header(name)
        }
    }

    /// The header read.
    pub fn header(&self) -> &HeaderName {
        match self {
            Self::XForwardedFor => &X_FORWARDED_FOR,
            Self::Forwarded => &FORWARDED_NAME,
            Self::Header(name) => name,
        }
    }
}

/// Why a trusted proxy's forwarding data gave no client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnreadableForwarding {
    /// The list has more elements than the hop limit.
    #[error("the forwarding list has more than {limit} elements")]
    TooManyHops {
        /// The configured limit.
        limit: usize,
    },
    /// An element that must be read is empty, does not parse, or (for
    /// `Forwarded`) has no single `for=` address.
    #[error("a forwarding element that must be read is empty or unreadable")]
    BadElement,
    /// A single-address header has several values or field lines.
    #[error("a single-address forwarding header has several values")]
    SeveralValues,
}

const fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// Splits on `sep` outside double-quoted strings (with `\` escapes inside
/// them). An unterminated quote runs to the end, so a comma written after
/// it by the next proxy cannot close it.
struct QuotedSplit<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
}

impl<'a> QuotedSplit<'a> {
    fn new(s: &'a [u8], sep: u8) -> Self {
        Self { rest: Some(s), sep }
    }
}

impl<'a> Iterator for QuotedSplit<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (i, &b) in s.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if quoted {
                match b {
                    b'\\' => escaped = true,
                    b'"' => quoted = false,
                    _ => {}
                }
            } else if b == b'"' {
                quoted = true;
            } else if b == self.sep {
                self.rest = s.get(i + 1..);
                return s.get(..i);
            }
        }
        self.rest = None;
        Some(s)
    }
}

/// A port: 1 to 5 digits, at most 65535.
fn is_port(s: &str) -> bool {
    (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u16>().is_ok()
}

/// An RFC 7239 obfuscated port: `_` then letters, digits, `.`, `_`, `-`.
fn is_obfport(s: &str) -> bool {
    s.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    })
}

/// Parses one node: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:443`. `obfport` also accepts RFC 7239 obfuscated ports.
/// `None` for `unknown`, obfuscated identifiers and anything else.
fn parse_node(s: &[u8], obfport: bool) -> Option<IpAddr> {
    let s = std::str::from_utf8(s).ok()?;
    let port_ok = |p: &str| is_port(p) || (obfport && is_obfport(p));
    if let Some(rest) = s.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip = v6.parse::<Ipv6Addr>().ok()?;
        return match after.strip_prefix(':') {
            None if after.is_empty() => Some(IpAddr::V6(ip)),
            Some(port) if port_ok(port) => Some(IpAddr::V6(ip)),
            _ => None,
        };
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = s.split_once(':')?;
    if port_ok(port) {
        return host.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
    }
    None
}

/// One `X-Forwarded-For` element: a bare node.
fn xff_element(element: &[u8]) -> Option<IpAddr> {
    parse_node(trim(element), false)
}

/// An RFC 7239 value: a token, or a quoted string without escapes (an
/// address never needs one).
fn forwarded_value(v: &[u8]) -> Option<&[u8]> {
    match v {
        [b'"', inner @ .., b'"'] if !inner.iter().any(|b| matches!(b, b'"' | b'\\')) => Some(inner),
        [] => None,
        _ if v.iter().any(|b| matches!(b, b'"' | b'\\') || is_ows(*b)) => None,
        _ => Some(v),
    }
}

/// One `Forwarded` element: exactly one `for=`, whose value is an address.
fn forwarded_element(element: &[u8]) -> Option<IpAddr> {
    let mut node = None;
    let mut fors = 0usize;
    for pair in QuotedSplit::new(element, b';') {
        let pair = trim(pair);
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|b| *b == b'=')?;
        let key = pair.get(..eq)?;
        let value = forwarded_value(pair.get(eq + 1..)?)?;
        if key.is_empty() || !key.iter().all(|b| is_tchar(*b)) {
            return None;
        }
        if key.eq_ignore_ascii_case(b"for") {
            fors += 1;
            node = Some(value);
        }
    }
    if fors != 1 {
        return None;
    }
    parse_node(node?, true)
}

/// An RFC 9110 token character.
const fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Resolves the client address from the peer and the one configured
/// forwarding source. See the [`guards`](crate::guards) module docs.
#[derive(Debug, Clone)]
pub struct ClientIpResolver {
    trusted: Vec<IpNet>,
    source: ForwardingSource,
    max_hops: usize,
}

impl Default for ClientIpResolver {
    /// No trusted proxies (the peer is always the client),
    /// `X-Forwarded-For`, [`DEFAULT_MAX_HOPS`].
    fn default() -> Self {
        Self::new(Vec::new(), ForwardingSource::default())
    }
}

impl ClientIpResolver {
    /// Trusts these proxy ranges and reads only `source` from them, with
    /// the hop limit [`DEFAULT_MAX_HOPS`].
    pub fn new(trusted: Vec<IpNet>, source: ForwardingSource) -> Self {
        Self {
            trusted,
            source,
            max_hops: DEFAULT_MAX_HOPS,
        }
    }

    /// Sets the hop limit: a forwarding list with more elements than this
    /// is unreadable (0 accepts no forwarding data at all).
    #[must_use]
    pub fn with_max_hops(mut self, limit: usize) -> Self {
        self.max_hops = limit;
        self
    }

    /// The forwarding source read.
    pub fn source(&self) -> &ForwardingSource {
        &self.source
    }

    /// The hop limit.
    pub fn max_hops(&self) -> usize {
        self.max_hops
    }

    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        contains(&self.trusted, ip)
    }

    /// The client address for a request from `peer`, or why the trusted
    /// proxy's forwarding data cannot say it. An untrusted peer is always
    /// its own client; its headers are not read.
    pub fn resolve(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Result<IpAddr, UnreadableForwarding> {
        let peer = canonical(peer);
        if !self.is_trusted(peer) {
            return Ok(peer);
        }
        match &self.source {
            ForwardingSource::XForwardedFor => {
                let lines = headers.get_all(&X_FORWARDED_FOR);
                let elements = self.elements(lines, |line| line.split(|b| *b == b','))?;
                self.walk(peer, &elements, xff_element)
            }
            ForwardingSource::Forwarded => {
                let lines = headers.get_all(&FORWARDED_NAME);
                let elements = self.elements(lines, |line| QuotedSplit::new(line, b','))?;
                self.walk(peer, &elements, forwarded_element)
            }
            ForwardingSource::Header(name) => self.single(peer, headers.get_all(name)),
        }
    }

    /// Every element of every field line, left to right; at most the hop
    /// limit of them.
    fn elements<'h, I>(
        &self,
        lines: GetAll<'h, HeaderValue>,
        split: impl Fn(&'h [u8]) -> I,
    ) -> Result<Vec<&'h [u8]>, UnreadableForwarding>
    where
        I: Iterator<Item = &'h [u8]>,
    {
        let mut elements = Vec::new();
        for line in lines {
            for element in split(line.as_bytes()) {
                if elements.len() >= self.max_hops {
                    return Err(UnreadableForwarding::TooManyHops {
                        limit: self.max_hops,
                    });
                }
                elements.push(element);
            }
        }
        Ok(elements)
    }

    /// Walks from the right while hops are trusted.
    fn walk(
        &self,
        peer: IpAddr,
        elements: &[&[u8]],
        parse: fn(&[u8]) -> Option<IpAddr>,
    ) -> Result<IpAddr, UnreadableForwarding> {
        let mut client = peer;
        for element in elements.iter().rev() {
            client = canonical(parse(element).ok_or(UnreadableForwarding::BadElement)?);
            if !self.is_trusted(client) {
                break;
            }
        }
        Ok(client)
    }

    /// A single-address header: exactly one value in one field line.
    fn single(
        &self,
        peer: IpAddr,
        lines: GetAll<'_, HeaderValue>,
    ) -> Result<IpAddr, UnreadableForwarding> {
        let mut lines = lines.iter();
        let Some(line) = lines.next() else {
            return Ok(peer);
        };
        if lines.next().is_some() || line.as_bytes().contains(&b',') {
            return Err(UnreadableForwarding::SeveralValues);
        }
        if self.max_hops == 0 {
            return Err(UnreadableForwarding::TooManyHops { limit: 0 });
        }
        xff_element(line.as_bytes())
            .map(canonical)
            .ok_or(UnreadableForwarding::BadElement)
    }
}

/// Looks up a client's country (e.g. from a GeoIP database).
pub trait CountryLookup: Send + Sync + 'static {
    /// The ISO 3166-1 alpha-2 code of `ip`, upper-case, if known.
    fn country(&self, ip: IpAddr) -> Option<[u8; 2]>;
}

/// IP allow/deny lists and country allow/deny lists, behind trusted-proxy
/// resolution. See the [`guards`](crate::guards) module docs for what fails
/// closed.
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

/// Two ASCII letters or digits (Cloudflare's `XX` and `T1` included),
/// upper-cased.
fn country_code(s: &[u8]) -> Option<[u8; 2]> {
    match trim(s) {
        [a, b] if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => {
            Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
        }
        _ => None,
    }
}

/// A trusted country header that cannot be read.
struct UnknownCountry;

impl NetworkGuard {
    /// A guard with the given resolver and no rules.
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
    /// is refused when the list is not empty). Codes are two ASCII letters
    /// or digits; others are skipped.
    pub fn allow_countries(mut self, codes: &[&str]) -> Self {
        self.allow_countries = codes
            .iter()
            .filter_map(|c| country_code(c.as_bytes()))
            .collect();
        self
    }

    /// These countries may not call.
    pub fn deny_countries(mut self, codes: &[&str]) -> Self {
        self.deny_countries = codes
            .iter()
            .filter_map(|c| country_code(c.as_bytes()))
            .collect();
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

    /// The trusted header's country (one value, one field line), else the
    /// lookup's; `Ok(None)` when neither says.
    fn country(
        &self,
        peer: IpAddr,
        client: IpAddr,
        headers: &HeaderMap,
    ) -> Result<Option<[u8; 2]>, UnknownCountry> {
        if let Some(name) = &self.country_header {
            if self.resolver.is_trusted(peer) {
                let mut lines = headers.get_all(name).iter();
                if let Some(line) = lines.next() {
                    if lines.next().is_some() || line.as_bytes().contains(&b',') {
                        return Err(UnknownCountry);
                    }
                    return country_code(line.as_bytes())
                        .map(Some)
                        .ok_or(UnknownCountry);
                }
            }
        }
        Ok(self.country_lookup.as_ref().and_then(|l| l.country(client)))
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
        let peer = canonical(peer.ip());
        let Ok(client) = self.resolver.resolve(peer, request.headers()) else {
            // Unknown is denied by whichever rules exist.
            return Err(if self.has_ip_rules() {
                ForbiddenReason::IpBlocked
            } else {
                ForbiddenReason::GeoBlocked
            }
            .into());
        };
        if contains(&self.deny_ips, client)
            || (!self.allow_ips.is_empty() && !contains(&self.allow_ips, client))
        {
            return Err(ForbiddenReason::IpBlocked.into());
        }
        if self.has_country_rules() {
            let Ok(country) = self.country(peer, client, request.headers()) else {
                return Err(ForbiddenReason::GeoBlocked.into());
            };
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
    use std::net::SocketAddr;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn headers(h: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in h {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn resolver(source: ForwardingSource) -> ClientIpResolver {
        ClientIpResolver::new(nets(&["127.0.0.0/8", "10.0.0.0/8"]), source)
    }

    /// The resolved address as text, or `"unknown"`.
    fn resolved(r: &ClientIpResolver, peer: &str, h: &[(&str, &str)]) -> String {
        match r.resolve(peer.parse().unwrap(), &headers(h)) {
            Ok(ip) => ip.to_string(),
            Err(_) => "unknown".into(),
        }
    }

    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str);

    fn run(source: ForwardingSource, cases: &[Case<'_>]) {
        let r = resolver(source.clone());
        for (h, expected) in cases {
            assert_eq!(resolved(&r, "127.0.0.1", h), *expected, "{source:?} {h:?}");
        }
    }

    const XFF: &str = "x-forwarded-for";
    const FWD: &str = "forwarded";
    const REAL: &str = "x-real-ip";

    fn list(n: usize) -> String {
        vec!["198.51.100.1"; n].join(", ")
    }

    #[test]
    fn x_forwarded_for_only() {
        let h32 = list(32);
        let h33 = list(33);
        let cases: &[Case<'_>] = &[
            (&[], "127.0.0.1"),
            (&[(XFF, "198.51.100.1")], "198.51.100.1"),
            // The client wrote 1.1.1.1; the proxy appended 203.0.113.9.
            (&[(XFF, "1.1.1.1, 203.0.113.9")], "203.0.113.9"),
            // Chained trusted proxies are skipped; all trusted: left-most.
            (&[(XFF, "203.0.113.9, 10.1.1.1")], "203.0.113.9"),
            (&[(XFF, "10.0.0.2, 10.0.0.1")], "10.0.0.2"),
            // Several field lines form one list.
            (&[(XFF, "203.0.113.9"), (XFF, "10.1.1.1")], "203.0.113.9"),
            // Other sources are ignored.
            (&[(FWD, "for=198.51.100.1")], "127.0.0.1"),
            (&[(REAL, "198.51.100.1")], "127.0.0.1"),
            (
                &[(FWD, "for=198.51.100.1"), (XFF, "198.51.100.2")],
                "198.51.100.2",
            ),
            // Ports, brackets, mapped addresses.
            (&[(XFF, "[2001:db8:bad::1]:443")], "2001:db8:bad::1"),
            (&[(XFF, "2001:db8:bad::1")], "2001:db8:bad::1"),
            (&[(XFF, "203.0.113.9:8080")], "203.0.113.9"),
            (&[(XFF, "::ffff:203.0.113.9")], "203.0.113.9"),
            // What the client wrote left of the client address is not read.
            (&[(XFF, "garbage, , 198.51.100.1")], "198.51.100.1"),
            // Unreadable where an address must be read: unknown.
            (&[(XFF, "")], "unknown"),
            (&[(XFF, "198.51.100.1,")], "unknown"),
            (&[(XFF, "198.51.100.1, , 10.0.0.1")], "unknown"),
            (&[(XFF, "198.51.100.1"), (XFF, "")], "unknown"),
            (&[(XFF, "garbage")], "unknown"),
            (&[(XFF, "203.0.113.9, garbage")], "unknown"),
            (&[(XFF, "unknown")], "unknown"),
            (&[(XFF, "\"198.51.100.1\"")], "unknown"),
            (&[(XFF, "198.51.100.1:99999")], "unknown"),
            (&[(XFF, "198.51.100.1:")], "unknown"),
            (&[(XFF, "[2001:db8::1]x")], "unknown"),
            (&[(XFF, "for=198.51.100.1")], "unknown"),
            // The hop limit counts the whole list.
            (&[(XFF, &h32)], "198.51.100.1"),
            (&[(XFF, &h33)], "unknown"),
            (&[(XFF, &h32), (XFF, "198.51.100.1")], "unknown"),
        ];
        run(ForwardingSource::XForwardedFor, cases);
    }

    #[test]
    fn forwarded_only() {
        let cases: &[Case<'_>] = &[
            (&[], "127.0.0.1"),
            (&[(FWD, "for=198.51.100.1")], "198.51.100.1"),
            (&[(FWD, "For=\"198.51.100.1:8080\"")], "198.51.100.1"),
            (
                &[(
                    FWD,
                    r#"for=1.1.1.1, for="[2001:db8:bad::5]:80";proto=https"#,
                )],
                "2001:db8:bad::5",
            ),
            (
                &[(FWD, "for=198.51.100.1;proto=https;by=10.0.0.1")],
                "198.51.100.1",
            ),
            (&[(FWD, "for=\"[2001:db8::1]:_abc\"")], "2001:db8::1"),
            (
                &[(FWD, "for=198.51.100.1"), (FWD, "for=10.0.0.1")],
                "198.51.100.1",
            ),
            // X-Forwarded-For is ignored.
            (&[(XFF, "198.51.100.1")], "127.0.0.1"),
            (
                &[(XFF, "203.0.113.9"), (FWD, "for=198.51.100.1")],
                "198.51.100.1",
            ),
            // Unreadable: unknown.
            (&[(FWD, "for=unknown")], "unknown"),
            (&[(FWD, "for=_hidden")], "unknown"),
            (&[(FWD, "proto=https")], "unknown"),
            (&[(FWD, "")], "unknown"),
            (&[(FWD, "for=")], "unknown"),
            (&[(FWD, "for=1.1.1.1;for=198.51.100.1")], "unknown"),
            (&[(FWD, "for=198.51.100.1, ")], "unknown"),
            (&[(FWD, "garbage")], "unknown"),
            (&[(FWD, "for=198.51.100.1;proto")], "unknown"),
            // A quoted string the client left open swallows what the proxy
            // appended on the same line.
            (&[(FWD, "for=\"198.51.100.1, for=203.0.113.9")], "unknown"),
            // A comma inside a quoted string does not split it.
            (&[(FWD, "for=\"198.51.100.1, 203.0.113.9\"")], "unknown"),
            (&[(FWD, "for=\"1.1.1.1\\\"\"")], "unknown"),
            (&[(FWD, &vec!["for=198.51.100.1"; 33].join(","))], "unknown"),
        ];
        run(ForwardingSource::Forwarded, cases);
    }

    #[test]
    fn single_address_header() {
        let cases: &[Case<'_>] = &[
            (&[], "127.0.0.1"),
            (&[(REAL, "198.51.100.1")], "198.51.100.1"),
            (&[(REAL, "::ffff:198.51.100.1")], "198.51.100.1"),
            (&[(REAL, "10.0.0.1")], "10.0.0.1"),
            (&[(XFF, "198.51.100.1")], "127.0.0.1"),
            (&[(FWD, "for=198.51.100.1")], "127.0.0.1"),
            (&[(REAL, "198.51.100.1, 203.0.113.9")], "unknown"),
            (&[(REAL, "198.51.100.1"), (REAL, "203.0.113.9")], "unknown"),
            (&[(REAL, "")], "unknown"),
            (&[(REAL, "garbage")], "unknown"),
        ];
        run(
            ForwardingSource::Header(HeaderName::from_static("x-real-ip")),
            cases,
        );
    }

    #[test]
    fn an_untrusted_peer_is_its_own_client() {
        let peer = "198.51.100.7";
        for source in [
            ForwardingSource::XForwardedFor,
            ForwardingSource::Forwarded,
            ForwardingSource::Header(HeaderName::from_static("x-real-ip")),
        ] {
            let r = resolver(source);
            for h in [
                &[(XFF, "203.0.113.9")][..],
                &[(FWD, "for=203.0.113.9")],
                &[(REAL, "203.0.113.9")],
                &[(XFF, ""), (FWD, "for=unknown"), (REAL, "a, b")],
                &[(XFF, &list(100))],
            ] {
                assert_eq!(resolved(&r, peer, h), peer, "{h:?}");
            }
            assert_eq!(resolved(&r, "::ffff:198.51.100.7", &[]), peer);
        }
    }

    #[test]
    fn source_from_header_names() {
        let name = |s: &str| HeaderName::from_bytes(s.as_bytes()).unwrap();
        assert_eq!(
            ForwardingSource::from_header(name("X-Forwarded-For")),
            ForwardingSource::XForwardedFor
        );
        assert_eq!(
            ForwardingSource::from_header(name("forwarded")),
            ForwardingSource::Forwarded
        );
        assert_eq!(
            ForwardingSource::from_header(name("X-Real-IP")),
            ForwardingSource::Header(name("x-real-ip"))
        );
        assert_eq!(ForwardingSource::XForwardedFor.header(), "x-forwarded-for");
        assert_eq!(ForwardingSource::Forwarded.header(), "forwarded");
        assert_eq!(ClientIpResolver::default().max_hops(), DEFAULT_MAX_HOPS);
        let r = resolver(ForwardingSource::XForwardedFor).with_max_hops(1);
        assert_eq!(
            resolved(&r, "127.0.0.1", &[(XFF, "198.51.100.1")]),
            "198.51.100.1"
        );
        assert_eq!(
            resolved(&r, "127.0.0.1", &[(XFF, "1.1.1.1, 198.51.100.1")]),
            "unknown"
        );
    }

    fn decide(g: &NetworkGuard, peer: &str, h: &[(&str, &str)]) -> &'static str {
        let mut b = http::Request::get("/x");
        for (k, v) in h {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).unwrap().into_parts();
        let peer = SocketAddr::new(peer.parse().unwrap(), 1);
        let ctx = RequestContext::from_parts(&parts).with_peer(Some(peer));
        match g.check(&ctx) {
            Ok(()) => "pass",
            Err(AccessError::Forbidden(f)) => f.reason().code(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn unknown_is_denied() {
        let base = || {
            NetworkGuard::new(resolver(ForwardingSource::XForwardedFor))
                .country_header(HeaderName::from_static("cf-ipcountry"))
        };
        let ip_and_geo = base()
            .deny_ips(nets(&["203.0.113.0/24"]))
            .deny_countries(&["ZZ", "T1"]);
        let geo_only = base().deny_countries(&["ZZ"]);
        let allow_de = base().allow_countries(&["de"]);
        let no_rules = base();
        let lo = "127.0.0.1";
        let out = "198.51.100.1";
        type GuardCase<'a> = (&'a NetworkGuard, &'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[GuardCase<'_>] = &[
            (&ip_and_geo, lo, &[], "pass"),
            (&ip_and_geo, lo, &[(XFF, "203.0.113.9")], "ip_blocked"),
            (&ip_and_geo, lo, &[(XFF, "garbage")], "ip_blocked"),
            (&ip_and_geo, lo, &[(XFF, "")], "ip_blocked"),
            (&ip_and_geo, lo, &[(XFF, &list(33))], "ip_blocked"),
            (&ip_and_geo, lo, &[(FWD, "for=203.0.113.9")], "pass"),
            (&geo_only, lo, &[(XFF, "garbage")], "geo_blocked"),
            (&no_rules, lo, &[(XFF, "garbage")], "pass"),
            // Country: one readable value from a trusted proxy.
            (&ip_and_geo, lo, &[("cf-ipcountry", "DE")], "pass"),
            (&ip_and_geo, lo, &[("cf-ipcountry", "XX")], "pass"),
            (&ip_and_geo, lo, &[("cf-ipcountry", "zz")], "geo_blocked"),
            (&ip_and_geo, lo, &[("cf-ipcountry", "T1")], "geo_blocked"),
            (
                &ip_and_geo,
                lo,
                &[("cf-ipcountry", "DE"), ("cf-ipcountry", "DE")],
                "geo_blocked",
            ),
            (
                &ip_and_geo,
                lo,
                &[("cf-ipcountry", "DE, FR")],
                "geo_blocked",
            ),
            (&ip_and_geo, lo, &[("cf-ipcountry", "")], "geo_blocked"),
            (&ip_and_geo, lo, &[("cf-ipcountry", "D")], "geo_blocked"),
            (&ip_and_geo, lo, &[("cf-ipcountry", "DEU")], "geo_blocked"),
            (&geo_only, lo, &[("cf-ipcountry", "D-")], "geo_blocked"),
            // No country: a deny list lets it through, an allow list not.
            (&geo_only, lo, &[], "pass"),
            (&allow_de, lo, &[], "geo_blocked"),
            (&allow_de, lo, &[("cf-ipcountry", "DE")], "pass"),
            // An untrusted peer's headers are never read.
            (&ip_and_geo, out, &[("cf-ipcountry", "ZZ")], "pass"),
            (
                &ip_and_geo,
                out,
                &[("cf-ipcountry", "DE"), ("cf-ipcountry", "DE")],
                "pass",
            ),
            (&ip_and_geo, out, &[(XFF, "garbage")], "pass"),
            (&ip_and_geo, out, &[(XFF, "203.0.113.9")], "pass"),
            (&allow_de, out, &[("cf-ipcountry", "DE")], "geo_blocked"),
        ];
        for (g, peer, h, expected) in cases {
            assert_eq!(decide(g, peer, h), *expected, "{g:?} {peer} {h:?}");
        }
    }

    #[test]
    fn mapped_v6_counts_as_v4() {
        let r = resolver(ForwardingSource::XForwardedFor);
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
