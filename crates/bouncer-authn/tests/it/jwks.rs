//! The JWKS source against loopback servers that rotate keys, go down,
//! serve garbage or hang; and OIDC discovery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bouncer_authn::jwt::{discover, JwksConfig, JwksSource, JwtAuthenticator, JwtValidation};
use bouncer_core::Gate;
use jsonwebtoken::Algorithm;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

/// What the fake provider serves next.
#[derive(Clone)]
enum Serve {
    Body(String, Option<u64>),
    Status(u16),
    Hang,
}

struct Provider {
    base: String,
    serve: Arc<Mutex<Serve>>,
    jwks_hits: Arc<AtomicUsize>,
}

impl Provider {
    async fn start(initial: Serve) -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let serve = Arc::new(Mutex::new(initial));
        let jwks_hits = Arc::new(AtomicUsize::new(0));
        let (s, hits, issuer) = (serve.clone(), jwks_hits.clone(), base.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (s, hits, issuer) = (s.clone(), hits.clone(), issuer.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    let req = String::from_utf8_lossy(&buf[..n]).to_string();
                    let reply = if req.starts_with("GET /.well-known/openid-configuration") {
                        let body = format!(r#"{{"issuer":"{issuer}","jwks_uri":"{issuer}/jwks"}}"#);
                        Serve::Body(body, None)
                    } else {
                        hits.fetch_add(1, Ordering::SeqCst);
                        s.lock().unwrap().clone()
                    };
                    let response = match reply {
                        Serve::Hang => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                        Serve::Status(code) => format!(
                            "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        ),
                        Serve::Body(body, max_age) => {
                            let cc = max_age
                                .map(|m| format!("cache-control: public, max-age={m}\r\n"))
                                .unwrap_or_default();
                            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{cc}content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                        }
                    };
                    let _ = sock.write_all(response.as_bytes()).await;
                });
            }
        });
        Provider {
            base,
            serve,
            jwks_hits,
        }
    }

    fn set(&self, s: Serve) {
        *self.serve.lock().unwrap() = s;
    }

    fn hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }
}

fn jwks_with(kids: &[&str]) -> String {
    // The fixture's EC key under any kid: what matters is which kids exist.
    let fixture: serde_json::Value = serde_json::from_slice(&fixture("jwks.json")).unwrap();
    let ec = fixture["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == "test-ec")
        .unwrap()
        .clone();
    let keys: Vec<serde_json::Value> = kids
        .iter()
        .map(|k| {
            let mut key = ec.clone();
            key["kid"] = serde_json::json!(k);
            key
        })
        .collect();
    serde_json::json!({ "keys": keys }).to_string()
}

fn fast() -> JwksConfig {
    JwksConfig::default()
        .with_unknown_kid_interval(Duration::from_millis(300))
        .with_timeout(Duration::from_millis(500))
}

async fn code_for(gate: &Gate, kid: &str) -> (u16, &'static str) {
    let t = sign_with(Algorithm::ES256, Some(kid), None, &claims("svc"));
    let v = decide(gate, &[("authorization", &format!("Bearer {t}"))]).await;
    (v.decision().status().as_u16(), code(&v))
}

fn gate(source: Arc<JwksSource>) -> Gate {
    Gate::builder()
        .authenticator(JwtAuthenticator::from_jwks(
            "api",
            source,
            JwtValidation::new(ISS, AUD),
        ))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_picked_up_on_an_unknown_kid() {
    let p = Provider::start(Serve::Body(jwks_with(&["k1"]), Some(3600))).await;
    // A long interval: the two unknown kids below must fall inside it even
    // on a slow machine.
    let config = fast().with_unknown_kid_interval(Duration::from_secs(30));
    let source = JwksSource::connect(&format!("{}/jwks", p.base), config)
        .await
        .unwrap();
    let g = gate(source.clone());
    assert_eq!(code_for(&g, "k1").await, (200, "allow"));
    assert_eq!(p.hits(), 1, "cached: no fetch per request");
    // The provider rotates to k2.
    p.set(Serve::Body(jwks_with(&["k2"]), Some(3600)));
    assert_eq!(
        code_for(&g, "k2").await,
        (200, "allow"),
        "refreshed at once for the unknown kid"
    );
    assert_eq!(p.hits(), 2);
    // A kid the provider does not have: 401, and no second fetch within the interval.
    assert_eq!(code_for(&g, "nope").await, (401, "invalid_token"));
    assert_eq!(code_for(&g, "nope-again").await, (401, "invalid_token"));
    assert_eq!(p.hits(), 2, "rate-limited: no fetch for either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_random_kids_fetches_once() {
    let p = Provider::start(Serve::Body(jwks_with(&["k1"]), Some(3600))).await;
    let source = JwksSource::connect(&format!("{}/jwks", p.base), JwksConfig::default())
        .await
        .unwrap();
    let g = Arc::new(gate(source));
    let before = p.hits();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let g = g.clone();
        tasks.push(tokio::spawn(async move {
            code_for(&g, &format!("random-{i}")).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), (401, "invalid_token"));
    }
    assert!(
        p.hits() - before <= 1,
        "single-flight and rate-limited: {} fetches",
        p.hits() - before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_down_garbage_or_hanging() {
    let p = Provider::start(Serve::Body(jwks_with(&["k1"]), Some(60))).await;
    let source = JwksSource::connect(&format!("{}/jwks", p.base), fast())
        .await
        .unwrap();
    let g = gate(source);
    for broken in [
        Serve::Status(500),
        Serve::Body("{not json".into(), None),
        Serve::Hang,
    ] {
        p.set(broken);
        tokio::time::sleep(Duration::from_millis(350)).await;
        // Known keys keep working.
        assert_eq!(code_for(&g, "k1").await, (200, "allow"));
        // An unknown kid while known keys are usable: 401, never 500, never
        // allow (garbage and errors count as unreachable).
        assert_eq!(code_for(&g, "k9").await, (401, "invalid_token"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_down_at_start_is_503_until_it_answers() {
    let p = Provider::start(Serve::Status(503)).await;
    let source = JwksSource::connect(&format!("{}/jwks", p.base), fast())
        .await
        .unwrap();
    let g = gate(source);
    assert_eq!(code_for(&g, "k1").await, (503, "service_unavailable"));
    p.set(Serve::Body(jwks_with(&["k1"]), None));
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(code_for(&g, "k1").await, (200, "allow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_checks_the_issuer_exactly() {
    let p = Provider::start(Serve::Body(jwks_with(&["k1"]), None)).await;
    let meta = discover(&p.base, &JwksConfig::default()).await.unwrap();
    assert_eq!(meta.jwks_uri, format!("{}/jwks", p.base));
    assert!(
        discover(&format!("{}/", p.base), &JwksConfig::default())
            .await
            .is_err(),
        "a trailing slash is another issuer"
    );
    assert!(
        JwksSource::new("http://idp.example/jwks", JwksConfig::default()).is_err(),
        "plain http off loopback"
    );
}

/// A token HMAC-signed with `secret` (the attacker reads the JWKS).
fn hs256_with(secret: &[u8], kid: Option<&str>) -> String {
    let mut h = jsonwebtoken::Header::new(Algorithm::HS256);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &h,
        &claims("attacker"),
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_keys_in_a_served_jwks_never_verify() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let mut doc: serde_json::Value = serde_json::from_str(&jwks_with(&["k1"])).unwrap();
    let secret = [42u8; 64];
    for oct in [
        serde_json::json!({"kty": "oct", "k": "", "kid": "empty", "alg": "HS256"}),
        serde_json::json!({"kty": "oct", "k": "", "kid": "bare"}),
        serde_json::json!({"kty": "oct", "k": b64(&secret), "kid": "shared", "alg": "HS256", "use": "sig"}),
        serde_json::json!({"kty": "oct", "k": b64(&secret), "alg": "HS256"}),
    ] {
        doc["keys"].as_array_mut().unwrap().push(oct);
    }
    let p = Provider::start(Serve::Body(doc.to_string(), Some(3600))).await;
    let source = JwksSource::connect(&format!("{}/jwks", p.base), fast())
        .await
        .unwrap();
    // The public key of the same set still works.
    let g = gate(source.clone());
    assert_eq!(code_for(&g, "k1").await, (200, "allow"));
    for (secret, kid) in [
        (&b""[..], Some("empty")),
        (&b""[..], Some("bare")),
        (&b""[..], None),
        (&secret[..], Some("shared")),
        (&secret[..], None),
    ] {
        let t = hs256_with(secret, kid);
        let v = decide(&g, &[("authorization", &format!("Bearer {t}"))]).await;
        assert_eq!(
            (v.decision().status().as_u16(), code(&v)),
            (401, "invalid_token"),
            "HS256 with the JWKS's own oct key {kid:?}"
        );
    }
    // A rotation to a set of nothing but symmetric keys keeps the good keys.
    p.set(Serve::Body(
        serde_json::json!({"keys": [{"kty": "oct", "k": "", "kid": "k2", "alg": "HS256"}]})
            .to_string(),
        Some(3600),
    ));
    assert!(source.refresh().await.is_err(), "no usable key: refused");
    assert_eq!(code_for(&g, "k1").await, (200, "allow"));
}
