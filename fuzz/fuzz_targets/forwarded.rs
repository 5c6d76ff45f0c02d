//! Forwarding headers: never panics; an untrusted peer is always the
//! client; behind a trusted proxy the answer is unknown or an address, and
//! only the configured source can change it.
//!
//! Input: the first byte picks the source (modulo 3: X-Forwarded-For,
//! Forwarded, X-Real-IP) and, in its upper six bits when not zero, the hop
//! limit (default 32); the rest is split at the first `\n` into the configured
//! header's value and a value given to every other source. `\r` separates
//! field lines of the configured header.
#![no_main]
use std::net::IpAddr;

use bouncer_authz::guards::{canonical, ClientIpResolver, ForwardingSource};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let source = match pick % 3 {
        0 => ForwardingSource::XForwardedFor,
        1 => ForwardingSource::Forwarded,
        _ => ForwardingSource::Header(HeaderName::from_static("x-real-ip")),
    };
    let mut resolver = ClientIpResolver::new(
        vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ],
        source.clone(),
    );
    // The rest of the first byte, when not zero, is the hop limit.
    if pick >> 2 != 0 {
        resolver = resolver.with_max_hops(usize::from(pick >> 2));
    }
    let (configured, other) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let mut only = HeaderMap::new();
    for line in configured.split(|b| *b == b'\r') {
        if let Ok(v) = HeaderValue::from_bytes(line) {
            only.append(source.header(), v);
        }
    }
    let mut all = only.clone();
    if let Ok(v) = HeaderValue::from_bytes(other) {
        for name in NAMES {
            if name != source.header().as_str() {
                all.append(name, v.clone());
            }
        }
    }
    let untrusted: IpAddr = "198.51.100.7".parse().unwrap();
    assert_eq!(resolver.resolve(untrusted, &all), Ok(untrusted));
    let trusted: IpAddr = "127.0.0.1".parse().unwrap();
    let client = resolver.resolve(trusted, &all);
    // Headers that are not the configured source change nothing.
    assert_eq!(client, resolver.resolve(trusted, &only));
    if let Ok(ip) = client {
        assert_eq!(ip, canonical(ip));
    }
});
