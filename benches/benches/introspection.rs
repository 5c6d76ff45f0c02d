//! Opaque bearer tokens: a cached introspection answer (token hash, cache
//! hit, strict re-read of the answer, mapping, revocation check) next to
//! the plain HS256 JWT bearer path with the same revocation store.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use bouncer_authn::introspection::{ClientAuth, IntrospectionAuthenticator, IntrospectionConfig};
use bouncer_authn::jwt::{Algorithm, JwtAuthenticator, JwtValidation, KeySet, VerifyKey};
use bouncer_authn::revocation::MemoryRevocationStore;
use bouncer_core::{Authenticator, RequestContext};
use criterion::{criterion_group, criterion_main, Criterion};
use jsonwebtoken::{EncodingKey, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ISS: &str = "https://auth.bouncer.test";
const AUD: &str = "https://api.bouncer.test";
const SECRET: &[u8] = b"bench-secret-of-at-least-thirty-two-bytes";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Polls a future that never waits (a cache hit is all in memory).
fn now_or_never<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}

fn parts(token: &str) -> http::request::Parts {
    http::Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// An endpoint on loopback that answers every call with `body`.
async fn endpoint(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/introspect", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

fn bearer(c: &mut Criterion) {
    let revocations = Arc::new(MemoryRevocationStore::new());
    let now = now();
    // The same claims both ways: what oidc-provider answers for a
    // client-credentials token, and a JWT carrying them.
    let claims = serde_json::json!({
        "active": true, "sub": "alice", "client_id": "svc-reporter", "iss": ISS, "aud": AUD,
        "exp": now + 3600, "iat": now, "jti": "3b8c7a1e-bench",
        "scope": "documents:read documents:write", "organization_id": "acme", "token_type": "Bearer",
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(endpoint(claims.to_string()));
    let introspection = IntrospectionAuthenticator::new(
        "b",
        IntrospectionConfig::new(url, ClientAuth::secret_basic("api", "s"))
            .with_allow_loopback_http(true)
            .with_audience(AUD)
            .with_issuer(ISS)
            .with_ttl(std::time::Duration::from_secs(3600)),
    )
    .unwrap()
    .revocation(revocations.clone());
    let opaque = parts("Es6x7ZGy_JSGMcpsXsKgaTbfNAbLgDDosMd9LPlXaD6");
    let opaque_ctx = RequestContext::from_parts(&opaque);
    // Warm the cache with one real call.
    rt.block_on(introspection.authenticate(&opaque_ctx))
        .unwrap()
        .unwrap();

    let jwt = JwtAuthenticator::new(
        "b",
        KeySet::new()
            .with(VerifyKey::hmac(Algorithm::HS256, SECRET).unwrap())
            .unwrap(),
        JwtValidation::new(ISS, AUD),
    )
    .revocation(revocations);
    let t = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    let jwt_parts = parts(&t);
    let jwt_ctx = RequestContext::from_parts(&jwt_parts);

    let mut group = c.benchmark_group("introspection");
    group.bench_function("bouncer_authenticate_cached", |b| {
        b.iter(|| {
            black_box(
                now_or_never(introspection.authenticate(black_box(&opaque_ctx)))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.bench_function("jwt_hs256_authenticate", |b| {
        b.iter(|| {
            black_box(
                now_or_never(jwt.authenticate(black_box(&jwt_ctx)))
                    .unwrap()
                    .unwrap(),
            )
        })
    });
    group.finish();
    drop(rt);
}

criterion_group!(benches, bearer);
criterion_main!(benches);
