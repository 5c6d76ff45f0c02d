//! Guard tables through the gate: spoofing, IPv6, mapped addresses, country.

use std::net::SocketAddr;

use bouncer_authz::Policy;
use bouncer_core::{Gate, RequestContext};

const POLICY: &str = r#"
[guards]
trusted_proxies = ["127.0.0.0/8", "::1/128"]
deny_ips = ["203.0.113.0/24", "2001:db8:bad::/48"]
country_header = "CF-IPCountry"
deny_countries = ["ZZ"]
blocked_paths = ["*.bak"]
"#;

fn gate() -> Gate {
    let policy = Policy::from_toml("guards.toml", POLICY).unwrap();
    let g = policy.guards();
    Gate::builder()
        .guard(g.path_guard().unwrap())
        .guard(g.network_guard())
        .build()
}

fn code(path: &str, peer: &str, headers: &[(&str, &str)]) -> &'static str {
    let mut b = http::Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let (parts, ()) = b.body(()).unwrap().into_parts();
    let peer: SocketAddr = peer.parse().unwrap();
    let ctx = RequestContext::from_parts(&parts).with_peer(Some(peer));
    match gate().guard(&ctx) {
        Ok(_) => "pass",
        Err(v) => v.decision().denial().unwrap().code(),
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
        (
            lo,
            &[("forwarded", "for=\"[2001:db8:bad::9]\"")],
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
