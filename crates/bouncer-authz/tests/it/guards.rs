//! Guard tables through the gate: spoofing, IPv6, mapped addresses,
//! country, the one configured forwarding source, and properties of the
//! client-address resolver.

use std::net::{IpAddr, SocketAddr};

use bouncer_authz::guards::{canonical, ClientIpResolver, ForwardingSource};
use bouncer_authz::{Policy, PolicyErrorKind};
use bouncer_core::{Gate, RequestContext};
use http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;

const POLICY: &str = r#"
[guards]
trusted_proxies = ["127.0.0.0/8", "::1/128"]
deny_ips = ["203.0.113.0/24", "2001:db8:bad::/48"]
country_header = "CF-IPCountry"
deny_countries = ["ZZ"]
blocked_paths = ["*.bak"]
"#;

fn gate() -> Gate {
    gate_for(POLICY)
}

fn gate_for(text: &str) -> Gate {
    let policy = Policy::from_toml("guards.toml", text).unwrap();
    let g = policy.guards();
    Gate::builder()
        .guard(g.path_guard().unwrap())
        .guard(g.network_guard())
        .build()
}

fn code(path: &str, peer: &str, headers: &[(&str, &str)]) -> &'static str {
    code_with(&gate(), path, peer, headers)
}

fn code_with(gate: &Gate, path: &str, peer: &str, headers: &[(&str, &str)]) -> &'static str {
    let mut b = http::Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    let peer: SocketAddr = peer.parse().unwrap();
    let ctx = RequestContext::from_parts(&parts).with_peer(Some(peer));
    match gate.guard(&ctx) {
        Ok(_) => "pass",
        Err(v) => v.decision().denial().unwrap().code().as_str(),
    }
}

#[test]
fn ip_table() {
    let lo = "127.0.0.1:5000";
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (lo, &[], "pass"),
        ("203.0.113.7:1", &[], "ip_blocked"),
        (lo, &[("x-forwarded-for", "203.0.113.7")], "ip_blocked"),
        // A client-sent left-most address never wins over the proxy's view.
        (
            lo,
            &[("x-forwarded-for", "203.0.113.7, 198.51.100.1")],
            "pass",
        ),
        (
            lo,
            &[("x-forwarded-for", "198.51.100.1, 203.0.113.7")],
            "ip_blocked",
        ),
        // Untrusted peers cannot claim another address.
        ("198.51.100.1:1", &[("x-forwarded-for", "10.0.0.1")], "pass"),
        (
            "203.0.113.7:1",
            &[("x-forwarded-for", "198.51.100.1")],
            "ip_blocked",
        ),
        // IPv6 and v4-mapped.
        ("[2001:db8:bad::1]:1", &[], "ip_blocked"),
        ("[2001:db8:bad:ffff::1]:1", &[], "ip_blocked"),
        ("[2001:db8:bae::1]:1", &[], "pass"),
        ("[::ffff:203.0.113.9]:1", &[], "ip_blocked"),
        (
            "[::1]:1",
            &[("x-forwarded-for", "2001:db8:bad::2")],
            "ip_blocked",
        ),
        (
            "[::ffff:127.0.0.1]:1",
            &[("x-forwarded-for", "::ffff:203.0.113.1")],
            "ip_blocked",
        ),
        // The policy reads X-Forwarded-For (the default): `Forwarded` is
        // ignored, whatever it says.
        (lo, &[("forwarded", "for=\"[2001:db8:bad::9]\"")], "pass"),
        // Unreadable forwarding data fails closed.
        (lo, &[("x-forwarded-for", "")], "ip_blocked"),
        (lo, &[("x-forwarded-for", "garbage")], "ip_blocked"),
        (
            lo,
            &[("x-forwarded-for", "198.51.100.1, , 127.0.0.2")],
            "ip_blocked",
        ),
    ];
    for (peer, headers, expected) in cases {
        assert_eq!(code("/x", peer, headers), *expected, "{peer} {headers:?}");
    }
}

#[test]
fn country_only_from_trusted_proxies() {
    assert_eq!(
        code("/x", "127.0.0.1:1", &[("cf-ipcountry", "ZZ")]),
        "geo_blocked"
    );
    assert_eq!(
        code("/x", "127.0.0.1:1", &[("cf-ipcountry", "zz")]),
        "geo_blocked"
    );
    assert_eq!(code("/x", "127.0.0.1:1", &[("cf-ipcountry", "DE")]), "pass");
    assert_eq!(
        code("/x", "198.51.100.1:1", &[("cf-ipcountry", "ZZ")]),
        "pass"
    );
}

#[test]
fn paths_before_addresses_and_pattern_rules() {
    assert_eq!(code("/.env", "203.0.113.7:1", &[]), "blocked_path");
    assert_eq!(
        code("/static/%2e%2e/.git/config", "127.0.0.1:1", &[]),
        "blocked_path"
    );
    assert_eq!(code("/backup/DB.BAK", "127.0.0.1:1", &[]), "blocked_path");
    assert_eq!(
        code("/.well-known/oauth-protected-resource", "127.0.0.1:1", &[]),
        "pass"
    );
}

#[test]
fn rules_without_a_peer_fail_closed() {
    let (parts, ()) = http::Request::get("/x").body(()).unwrap().into_parts();
    let v = gate()
        .guard(&RequestContext::from_parts(&parts))
        .unwrap_err();
    assert_eq!(v.decision().status(), 500);
}

#[test]
fn one_configured_forwarding_source() {
    let forwarded = gate_for(&POLICY.replace(
        "[guards]\n",
        "[guards]\nforwarded_header = \"Forwarded\"\nmax_forwarded_hops = 2\n",
    ));
    let real_ip =
        gate_for(&POLICY.replace("[guards]\n", "[guards]\nforwarded_header = \"X-Real-IP\"\n"));
    let lo = "127.0.0.1:1";
    type Case<'a> = (&'a Gate, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case<'_>] = &[
        (
            &forwarded,
            &[("forwarded", "for=203.0.113.5")],
            "ip_blocked",
        ),
        (&forwarded, &[("x-forwarded-for", "203.0.113.5")], "pass"),
        (
            &forwarded,
            &[
                ("x-forwarded-for", "198.51.100.1"),
                ("forwarded", "for=203.0.113.5"),
            ],
            "ip_blocked",
        ),
        (&forwarded, &[("forwarded", "for=unknown")], "ip_blocked"),
        (
            &forwarded,
            &[("forwarded", "for=1.1.1.1, for=2.2.2.2, for=127.0.0.2")],
            "ip_blocked",
        ),
        (
            &forwarded,
            &[("forwarded", "for=1.1.1.1, for=127.0.0.2")],
            "pass",
        ),
        (&real_ip, &[("x-real-ip", "203.0.113.5")], "ip_blocked"),
        (&real_ip, &[("x-forwarded-for", "203.0.113.5")], "pass"),
        (&real_ip, &[("forwarded", "for=203.0.113.5")], "pass"),
        (
            &real_ip,
            &[("x-real-ip", "198.51.100.1"), ("x-real-ip", "198.51.100.2")],
            "ip_blocked",
        ),
    ];
    for (gate, headers, expected) in cases {
        assert_eq!(code_with(gate, "/x", lo, headers), *expected, "{headers:?}");
    }
    let xff = vec!["198.51.100.1"; 33].join(", ");
    assert_eq!(code("/x", lo, &[("x-forwarded-for", &xff)]), "ip_blocked");
    assert_eq!(
        code("/x", lo, &[("x-forwarded-for", &xff[14..])]),
        "pass",
        "32 elements are within the default limit"
    );
}

#[test]
fn unreadable_country_is_geo_blocked() {
    let lo = "127.0.0.1:1";
    for (headers, expected) in [
        (
            &[("cf-ipcountry", "DE"), ("cf-ipcountry", "DE")][..],
            "geo_blocked",
        ),
        (&[("cf-ipcountry", "DE, FR")], "geo_blocked"),
        (&[("cf-ipcountry", "")], "geo_blocked"),
        (&[("cf-ipcountry", "DEU")], "geo_blocked"),
        (&[("cf-ipcountry", "T1")], "pass"),
        (&[("cf-ipcountry", "XX")], "pass"),
        (&[], "pass"),
    ] {
        assert_eq!(code("/x", lo, headers), expected, "{headers:?}");
    }
    // Only country rules: an unknown address is geo_blocked.
    let geo_only = gate_for(
        "[guards]\ntrusted_proxies = [\"127.0.0.0/8\"]\ncountry_header = \"CF-IPCountry\"\ndeny_countries = [\"ZZ\", \"T1\"]\n",
    );
    assert_eq!(
        code_with(&geo_only, "/x", lo, &[("x-forwarded-for", "garbage")]),
        "geo_blocked"
    );
    assert_eq!(
        code_with(&geo_only, "/x", lo, &[("cf-ipcountry", "T1")]),
        "geo_blocked"
    );
    assert_eq!(
        code_with(&geo_only, "/x", "198.51.100.1:1", &[("cf-ipcountry", "T1")]),
        "pass"
    );
}

#[test]
fn forwarding_settings_in_the_policy_file() {
    let guards = |extra: &str| {
        Policy::from_toml("p.toml", &format!("[guards]\n{extra}")).map(|p| p.guards().clone())
    };
    let g = guards("").unwrap();
    assert_eq!(g.forwarding_source(), &ForwardingSource::XForwardedFor);
    assert_eq!(g.max_forwarded_hops(), 32);
    let g = guards("forwarded_header = \"forwarded\"\nmax_forwarded_hops = 256\n").unwrap();
    assert_eq!(g.forwarding_source(), &ForwardingSource::Forwarded);
    assert_eq!(g.max_forwarded_hops(), 256);
    assert_eq!(g.resolver().source(), &ForwardingSource::Forwarded);
    assert_eq!(g.resolver().max_hops(), 256);
    let g = guards("forwarded_header = \"X-Real-IP\"\n").unwrap();
    assert_eq!(
        g.forwarding_source(),
        &ForwardingSource::Header(HeaderName::from_static("x-real-ip"))
    );

    for (extra, kind, column) in [
        (
            "forwarded_header = \"X Real IP\"\n",
            PolicyErrorKind::BadHeader("X Real IP".into()),
            20,
        ),
        (
            "forwarded_header = \"\"\n",
            PolicyErrorKind::BadHeader(String::new()),
            20,
        ),
        (
            "max_forwarded_hops = 0\n",
            PolicyErrorKind::BadHopLimit(0),
            22,
        ),
        (
            "max_forwarded_hops = -3\n",
            PolicyErrorKind::BadHopLimit(-3),
            22,
        ),
        (
            "max_forwarded_hops = 257\n",
            PolicyErrorKind::BadHopLimit(257),
            22,
        ),
    ] {
        let e = guards(&format!("deny_ips = []\n{extra}")).unwrap_err();
        assert_eq!(e.kind, kind, "{extra}");
        assert_eq!((e.line, e.column), (3, column), "{e}");
        assert!(e.to_string().starts_with("p.toml:3:"), "{e}");
    }
    let e = guards("max_forwarded_hops = \"32\"\n").unwrap_err();
    assert!(matches!(e.kind, PolicyErrorKind::Syntax(_)), "{e}");
    assert_eq!(e.line, 2, "{e}");
    let e = guards("country_header = \"CF-IPCountry\"\ndeny_countries = [\"T1\", \"T-\"]\n")
        .unwrap_err();
    assert_eq!(e.kind, PolicyErrorKind::BadCountry("T-".into()));
    assert_eq!(e.line, 3, "{e}");
}

// Properties of the resolver: whatever the headers say, the client address
// is the peer or one a trusted proxy wrote in the configured header.

const TRUSTED: [&str; 3] = ["127.0.0.0/8", "10.0.0.0/8", "::1/128"];
/// Addresses that may appear in the configured header.
const POOL: [&str; 9] = [
    "198.51.100.1",
    "198.51.100.2",
    "203.0.113.9",
    "2001:db8::1",
    "::ffff:198.51.100.9",
    "127.0.0.1",
    "10.0.0.1",
    "10.9.9.9",
    "::1",
];
/// Addresses that appear only in headers that are not configured.
const OTHER_POOL: [&str; 3] = ["192.0.2.1", "192.0.2.2", "2001:db8:ffff::1"];
const XFF: &str = "x-forwarded-for";
const REAL_IP: &str = "x-real-ip";

fn resolver(source: &ForwardingSource) -> ClientIpResolver {
    ClientIpResolver::new(
        TRUSTED.iter().map(|n| n.parse().unwrap()).collect(),
        source.clone(),
    )
}

fn sources() -> impl Strategy<Value = ForwardingSource> {
    prop_oneof![
        Just(ForwardingSource::XForwardedFor),
        Just(ForwardingSource::Forwarded),
        Just(ForwardingSource::Header(HeaderName::from_static(REAL_IP))),
    ]
}

/// One list element as the model sees it.
#[derive(Debug, Clone)]
enum Elem {
    /// An address, in one of several spellings (with port, brackets…).
    Addr(IpAddr, u8),
    /// Something that is not an address where one must be read.
    Junk(&'static str),
}

const JUNK: [&str; 14] = [
    "",
    " ",
    "garbage",
    "unknown",
    "_hidden",
    "1.2.3",
    "300.1.1.1",
    "198.51.100.1:99999",
    "[2001:db8::1",
    "\"\"",
    "\"198.51.100.1, 203.0.113.9\"",
    "for=",
    "proto=https",
    "for=198.51.100.1;for=198.51.100.2",
];

fn elem() -> impl Strategy<Value = Elem> {
    prop_oneof![
        3 => (prop::sample::select(&POOL[..]), any::<u8>())
            .prop_map(|(a, style)| Elem::Addr(a.parse().unwrap(), style)),
        1 => prop::sample::select(&JUNK[..]).prop_map(Elem::Junk),
    ]
}

fn node(ip: IpAddr, style: u8) -> String {
    match (ip, style % 3) {
        (IpAddr::V4(v4), 0) => v4.to_string(),
        (IpAddr::V4(v4), _) => format!("{v4}:{}", u16::from(style) * 7),
        (IpAddr::V6(v6), 0) => v6.to_string(),
        (IpAddr::V6(v6), 1) => format!("[{v6}]"),
        (IpAddr::V6(v6), _) => format!("[{v6}]:{}", u16::from(style) * 7),
    }
}

/// The element as the configured source spells it.
fn render(source: &ForwardingSource, e: &Elem) -> String {
    match (source, e) {
        (ForwardingSource::Forwarded, Elem::Addr(ip, style)) => {
            let n = node(*ip, *style);
            let value = if n.contains(':') {
                format!("\"{n}\"")
            } else {
                n
            };
            match style % 4 {
                0 => format!("for={value}"),
                1 => format!("For={value};proto=https"),
                2 => format!("by=10.0.0.1;for={value}"),
                _ => format!("proto=http;FOR={value};host=example.com"),
            }
        }
        (ForwardingSource::Forwarded, Elem::Junk(j)) if !j.contains('=') => {
            // Both the bare junk and `for=` with it are unreadable.
            if j.len() % 2 == 0 {
                (*j).to_owned()
            } else {
                format!("for={j}")
            }
        }
        (_, Elem::Addr(ip, style)) => node(*ip, *style),
        (_, Elem::Junk(j)) => (*j).to_owned(),
    }
}

fn is_trusted(ip: IpAddr) -> bool {
    TRUSTED
        .iter()
        .any(|n| n.parse::<ipnet::IpNet>().unwrap().contains(&canonical(ip)))
}

/// The answer the contract asks for, from the model: walk from the right
/// while hops are trusted; unknown on junk or too many elements.
fn reference(source: &ForwardingSource, peer: IpAddr, elems: &[Elem]) -> Option<IpAddr> {
    if matches!(source, ForwardingSource::Header(_)) {
        return match elems {
            [] => Some(peer),
            [Elem::Addr(ip, _)] => Some(canonical(*ip)),
            _ => None,
        };
    }
    // X-Forwarded-For has no quoting: a comma in junk splits it in two.
    let count: usize = elems
        .iter()
        .map(|e| match (source, e) {
            (ForwardingSource::XForwardedFor, Elem::Junk(j)) => j.matches(',').count() + 1,
            _ => 1,
        })
        .sum();
    if count > 32 {
        return None;
    }
    let mut client = peer;
    for e in elems.iter().rev() {
        match e {
            Elem::Addr(ip, _) => {
                client = canonical(*ip);
                if !is_trusted(client) {
                    break;
                }
            }
            Elem::Junk(_) => return None,
        }
    }
    Some(client)
}

/// The headers: the configured one from `elems` (`breaks` chooses where a
/// new field line starts), and every other source with `others`.
fn build(
    source: &ForwardingSource,
    elems: &[Elem],
    breaks: &[bool],
    others: &[String],
) -> (HeaderMap, HeaderMap) {
    let name = source.header().clone();
    let mut only = HeaderMap::new();
    let mut line = String::new();
    for (i, e) in elems.iter().enumerate() {
        if !line.is_empty() || i > 0 {
            if breaks.get(i).copied().unwrap_or(false) {
                only.append(&name, HeaderValue::from_str(&line).unwrap());
                line.clear();
            } else {
                line.push_str(", ");
            }
        }
        line.push_str(&render(source, e));
    }
    if !elems.is_empty() {
        only.append(&name, HeaderValue::from_str(&line).unwrap());
    }
    let mut all = only.clone();
    for other in [XFF, "forwarded", REAL_IP] {
        if other == name.as_str() {
            continue;
        }
        for v in others {
            all.append(other, HeaderValue::from_str(v).unwrap());
        }
    }
    (only, all)
}

fn other_values() -> impl Strategy<Value = Vec<String>> {
    let value = prop_oneof![
        prop::sample::select(&OTHER_POOL[..]).prop_map(str::to_owned),
        prop::sample::select(&OTHER_POOL[..]).prop_map(|a| format!("for=\"{a}\"")),
        prop::collection::vec(prop::sample::select(&OTHER_POOL[..]), 1..4)
            .prop_map(|v| v.join(", ")),
        "[0-9a-f:.\\[\\]\", ;=_forunkw]{0,20}",
    ];
    prop::collection::vec(value, 0..3)
}

proptest! {
    #[test]
    fn the_client_is_the_peer_or_written_by_a_trusted_proxy(
        source in sources(),
        elems in prop_oneof![
            // No configured header at all: the case where a resolver that
            // falls back to another header would be fooled.
            1 => Just(Vec::new()),
            3 => prop::collection::vec(elem(), 1..6),
            2 => prop::collection::vec(elem(), 28..40),
        ],
        breaks in prop::collection::vec(any::<bool>(), 40),
        others in other_values(),
        peer in prop::sample::select(&["127.0.0.1", "::1", "10.0.0.7", "198.51.100.7"][..]),
    ) {
        // A single-address header holds one value; lists many.
        let elems = if matches!(source, ForwardingSource::Header(_)) && elems.len() > 2 {
            elems.get(..1).unwrap().to_vec()
        } else {
            elems
        };
        let peer: IpAddr = peer.parse().unwrap();
        let r = resolver(&source);
        let (only, all) = build(&source, &elems, &breaks, &others);
        let got = r.resolve(peer, &all).ok();
        // Never an address only in a header that is not configured.
        prop_assert_eq!(got, r.resolve(peer, &only).ok());
        if !is_trusted(peer) {
            prop_assert_eq!(got, Some(peer));
            return Ok(());
        }
        if let Some(ip) = got {
            let written_by_trusted = |i: usize| {
                elems.get(i + 1..).unwrap().iter().all(|e| matches!(e, Elem::Addr(a, _) if is_trusted(*a)))
            };
            prop_assert!(
                ip == peer
                    || elems.iter().enumerate().any(|(i, e)| {
                        matches!(e, Elem::Addr(a, _) if canonical(*a) == ip) && written_by_trusted(i)
                    }),
                "{ip} is neither the peer nor written by a trusted proxy"
            );
            prop_assert!(!OTHER_POOL.iter().any(|o| o.parse::<IpAddr>().unwrap() == ip));
        }
        prop_assert_eq!(got, reference(&source, peer, &elems));
    }

    /// Whatever the client sends (any bytes, open quotes, commas), the
    /// proxies' appended hops decide: the answer is the client's real
    /// address or unknown, never an address the client wrote.
    #[test]
    fn a_client_cannot_choose_its_address(
        source in sources(),
        sent in prop_oneof![
            "[ -~]{0,60}",
            "[0-9a-f:.\\[\\]\", ;=_forFORunkw\\\\]{0,60}",
            prop::collection::vec(prop::sample::select(&POOL[..]), 0..5).prop_map(|v| v.join(",")),
        ],
        real in prop::sample::select(&["198.51.100.1", "203.0.113.9", "2001:db8::1", "::ffff:198.51.100.9"][..]),
        proxies in prop::collection::vec((prop::sample::select(&["127.0.0.1", "10.0.0.1", "::1"][..]), any::<bool>()), 1..4),
        others in other_values(),
    ) {
        let real: IpAddr = real.parse().unwrap();
        let name = source.header().clone();
        let mut headers = HeaderMap::new();
        for other in [XFF, "forwarded", REAL_IP] {
            for v in &others {
                headers.append(other, HeaderValue::from_str(v).unwrap());
            }
        }
        headers.remove(&name);
        let spell = |ip: IpAddr| match (&source, ip) {
            (ForwardingSource::Forwarded, IpAddr::V6(v6)) => format!("for=\"[{v6}]\""),
            (ForwardingSource::Forwarded, v4) => format!("for={v4}"),
            (_, ip) => ip.to_string(),
        };
        // The last proxy is the peer; each proxy before it appended (on the
        // same field line, or a new one) the address it saw.
        let (peer, _) = *proxies.last().unwrap();
        let peer: IpAddr = peer.parse().unwrap();
        let mut lines = vec![sent.clone()];
        let mut seen = real;
        for (proxy, new_line) in &proxies {
            if matches!(source, ForwardingSource::Header(_)) {
                // A single-address header is set by the edge proxy, not
                // appended to.
                if seen == real {
                    lines = vec![spell(real)];
                }
            } else if *new_line {
                lines.push(spell(seen));
            } else {
                let last = lines.last_mut().unwrap();
                last.push_str(", ");
                last.push_str(&spell(seen));
            }
            seen = proxy.parse().unwrap();
        }
        for l in &lines {
            headers.append(&name, HeaderValue::from_str(l).unwrap());
        }
        let got = resolver(&source).resolve(peer, &headers);
        match got {
            Ok(ip) => prop_assert_eq!(ip, canonical(real)),
            Err(_) => {
                // Only the client's own bytes can have made it unreadable:
                // too many elements, or (Forwarded) a quote it left open
                // that swallowed the proxies' hops.
                let elements: usize = lines.iter().map(|l| l.split(',').count()).sum();
                prop_assert!(
                    matches!(source, ForwardingSource::Forwarded) || elements > 32,
                    "{lines:?}"
                );
            }
        }
    }
}
