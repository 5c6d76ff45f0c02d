//! X-Forwarded-For / Forwarded: never panics; an untrusted peer is always
//! the client; the answer is the peer or an address the headers named.
#![no_main]
use std::net::IpAddr;

use bouncer_authz::guards::{canonical, ClientIpResolver};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let resolver = ClientIpResolver::new(vec![
        "127.0.0.0/8".parse().unwrap(),
        "10.0.0.0/8".parse().unwrap(),
    ]);
    let mut headers = http::HeaderMap::new();
    let (xff, fwd) = data.split_at(data.len() / 2);
    if let Ok(v) = http::HeaderValue::from_bytes(xff) {
        headers.insert("x-forwarded-for", v);
    }
    if let Ok(v) = http::HeaderValue::from_bytes(fwd) {
        headers.insert(http::header::FORWARDED, v);
    }
    let untrusted: IpAddr = "198.51.100.7".parse().unwrap();
    assert_eq!(resolver.resolve(untrusted, &headers), untrusted);
    let trusted: IpAddr = "127.0.0.1".parse().unwrap();
    let client = resolver.resolve(trusted, &headers);
    assert_eq!(client, canonical(client));
});
