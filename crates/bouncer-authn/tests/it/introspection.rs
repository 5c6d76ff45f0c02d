//! Token introspection against a loopback endpoint that answers what each
//! test says (active, inactive, garbage, errors, slowly, not at all),
//! through a gate: the decision table of the module docs, the cache, the
//! revocation store, and lookups shared by concurrent requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bouncer_authn::introspection::{ClientAuth, IntrospectionAuthenticator, IntrospectionConfig};
use bouncer_authn::{MemoryRevocationStore, RevocationStore};
use bouncer_core::{Fault, Gate, Verdict};
use bouncer_store::CacheStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

const ENDPOINT_PATH: &str = "/oauth/introspect";

#[derive(Clone)]
enum Reply {
    /// 200 with this content type and body.
    Body(&'static str, String),
    Status(u16, String),
    Slow(Duration, String),
    Hang,
}

fn active(extra: &str) -> Reply {
    Reply::Body(
        "application/json; charset=utf-8",
        format!(
            r#"{{"active":true,"sub":"alice","client_id":"app","scope":"docs:read","aud":"{AUD}","iss":"{ISS}","exp":{}{extra}}}"#,
            now() + 300
        ),
    )
}

struct Endpoint {
    url: String,
    reply: Arc<Mutex<Reply>>,
    calls: Arc<AtomicUsize>,
    last: Arc<Mutex<String>>,
}

impl Endpoint {
    async fn start(initial: Reply) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{ENDPOINT_PATH}", listener.local_addr().unwrap());
        let reply = Arc::new(Mutex::new(initial));
        let calls = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(String::new()));
        let (r, c, l) = (reply.clone(), calls.clone(), last.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (r, c, l) = (r.clone(), c.clone(), l.clone());
                tokio::spawn(async move {
                    let request = read_request(&mut sock).await;
                    c.fetch_add(1, Ordering::SeqCst);
                    *l.lock().unwrap() = request;
                    let reply = r.lock().unwrap().clone();
                    let (status, ctype, body) = match reply {
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                        Reply::Slow(d, body) => {
                            tokio::time::sleep(d).await;
                            (200, "application/json", body)
                        }
                        Reply::Body(ctype, body) => (200, ctype, body),
                        Reply::Status(s, body) => (s, "application/json", body),
                    };
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(response.as_bytes()).await;
                });
            }
        });
        Endpoint {
            url,
            reply,
            calls,
            last,
        }
    }

    fn set(&self, r: Reply) {
        *self.reply.lock().unwrap() = r;
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last_request(&self) -> String {
        self.last.lock().unwrap().clone()
    }
}

/// Reads one request: headers, then the body by `content-length`.
async fn read_request(sock: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

fn config(e: &Endpoint) -> IntrospectionConfig {
    IntrospectionConfig::new(&e.url, ClientAuth::secret_basic("api", "api-secret"))
        .with_allow_loopback_http(true)
        .with_audience(AUD)
        .with_issuer(ISS)
        .with_timeout(Duration::from_millis(500))
}

fn gate(a: IntrospectionAuthenticator) -> Gate {
    Gate::builder().authenticator(a).build()
}

async fn ask(gate: &Gate, token: &str) -> Verdict {
    decide(gate, &[("authorization", &format!("Bearer {token}"))]).await
}

fn identity(v: &Verdict) -> bouncer_core::Identity {
    match v.decision() {
        bouncer_core::Decision::Allow(caller) => caller.authenticated().unwrap().identity().clone(),
        bouncer_core::Decision::Deny(d) => panic!("denied: {}", d.code().as_str()),
    }
}

fn status(v: &Verdict) -> u16 {
    v.decision().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_token_is_allowed_and_its_answer_cached() {
    let e = Endpoint::start(active(r#","organization_id":"acme""#)).await;
    let g = gate(IntrospectionAuthenticator::new("api", config(&e)).unwrap());
    let v = ask(&g, "opaque-token-1").await;
    assert_eq!(code(&v), "allow");
    let id = identity(&v);
    assert_eq!(id.subject(), "alice");
    assert_eq!(id.organization(), Some("acme"));
    assert_eq!(id.scopes().unwrap(), &["docs:read".to_owned()]);
    // client_secret_basic, and the token in the form body.
    let req = e.last_request();
    assert!(req.starts_with("POST /oauth/introspect "), "{req}");
    let basic = base64_basic("api", "api-secret");
    assert!(
        req.to_ascii_lowercase().contains(&format!(
            "authorization: basic {}",
            basic.to_ascii_lowercase()
        )),
        "{req}"
    );
    assert!(
        req.ends_with("token=opaque-token-1&token_type_hint=access_token"),
        "{req}"
    );
    // The second request is answered from the cache.
    assert_eq!(code(&ask(&g, "opaque-token-1").await), "allow");
    assert_eq!(e.calls(), 1);
}

fn base64_basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_post_sends_the_credentials_in_the_body() {
    let e = Endpoint::start(active("")).await;
    let c = IntrospectionConfig::new(&e.url, ClientAuth::secret_post("api", "s e/c"))
        .with_allow_loopback_http(true);
    let g = gate(IntrospectionAuthenticator::new("api", c).unwrap());
    assert_eq!(code(&ask(&g, "t").await), "allow");
    let req = e.last_request();
    assert!(
        req.ends_with("&client_id=api&client_secret=s+e%2Fc"),
        "{req}"
    );
    assert!(!req.to_ascii_lowercase().contains("authorization:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inactive_token_is_invalid_token_with_a_bearer_challenge() {
    let e = Endpoint::start(Reply::Body(
        "application/json",
        r#"{"active":false}"#.into(),
    ))
    .await;
    let g = gate(IntrospectionAuthenticator::new("api", config(&e)).unwrap());
    let v = ask(&g, "gone").await;
    assert_eq!((status(&v), code(&v)), (401, "invalid_token"));
    let c = &v.decision().denial().unwrap().challenges()[0];
    assert_eq!(c.scheme(), "Bearer");
    assert_eq!(c.get("realm"), Some("api"));
    assert_eq!(c.get("error"), Some("invalid_token"));
    // Cached for the (short) negative TTL.
    assert_eq!(code(&ask(&g, "gone").await), "invalid_token");
    assert_eq!(e.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_table_over_http() {
    let big = format!(
        r#"{{"active":true,"sub":"a","aud":"{AUD}","iss":"{ISS}","pad":"{}"}}"#,
        "x".repeat(20_000)
    );
    let table: Vec<(Reply, u16, &str)> = vec![
        (active(""), 200, "allow"),
        (Reply::Status(500, "{}".into()), 503, "service_unavailable"),
        (
            Reply::Status(502, String::new()),
            503,
            "service_unavailable",
        ),
        (
            Reply::Status(429, String::new()),
            503,
            "service_unavailable",
        ),
        (
            Reply::Status(401, r#"{"error":"invalid_client"}"#.into()),
            500,
            "internal_error",
        ),
        (Reply::Status(403, String::new()), 500, "internal_error"),
        (Reply::Status(404, String::new()), 500, "internal_error"),
        (Reply::Status(302, String::new()), 500, "internal_error"),
        (Reply::Status(204, String::new()), 500, "internal_error"),
        (
            Reply::Status(400, r#"{"error":"invalid_request"}"#.into()),
            500,
            "internal_error",
        ),
        (
            Reply::Status(400, r#"{"error":"unsupported_token_type"}"#.into()),
            401,
            "invalid_token",
        ),
        (
            Reply::Body("text/plain", r#"{"active":true,"sub":"a"}"#.into()),
            503,
            "service_unavailable",
        ),
        (
            Reply::Body("application/json", "<html>".into()),
            503,
            "service_unavailable",
        ),
        (
            Reply::Body("application/json", r#"{"active":"true","sub":"a"}"#.into()),
            503,
            "service_unavailable",
        ),
        (
            Reply::Body(
                "application/json",
                r#"{"active":false,"active":true,"sub":"a"}"#.into(),
            ),
            503,
            "service_unavailable",
        ),
        (
            Reply::Body("application/json", big),
            503,
            "service_unavailable",
        ),
        (active(r#","cnf":{"jkt":"abc"}"#), 401, "invalid_token"),
    ];
    let e = Endpoint::start(active("")).await;
    for (i, (reply, want_status, want_code)) in table.into_iter().enumerate() {
        e.set(reply);
        // A fresh authenticator each time: no cache between rows.
        let g = gate(IntrospectionAuthenticator::new("api", config(&e)).unwrap());
        let v = ask(&g, &format!("row-{i}")).await;
        assert_eq!((status(&v), code(&v)), (want_status, want_code), "row {i}");
        if want_status == 503 {
            let d = v.decision().denial().unwrap();
            assert_eq!(d.retry_after(), Some(Duration::from_secs(5)), "row {i}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_is_503_and_a_cached_answer_still_serves() {
    let e = Endpoint::start(active("")).await;
    let a =
        IntrospectionAuthenticator::new("api", config(&e).with_retry_after(Duration::from_secs(7)))
            .unwrap();
    let g = gate(a);
    assert_eq!(code(&ask(&g, "cached").await), "allow");
    // Hanging: the timeout turns it into a 503.
    e.set(Reply::Hang);
    let t = std::time::Instant::now();
    let v = ask(&g, "new").await;
    assert_eq!((status(&v), code(&v)), (503, "service_unavailable"));
    assert_eq!(
        v.decision().denial().unwrap().retry_after(),
        Some(Duration::from_secs(7))
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(code(&ask(&g, "cached").await), "allow");
    // Nobody listening at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/introspect", l.local_addr().unwrap())
    };
    let c = IntrospectionConfig::new(closed, ClientAuth::secret_basic("a", "b"))
        .with_allow_loopback_http(true);
    let v = ask(
        &gate(IntrospectionAuthenticator::new("api", c).unwrap()),
        "t",
    )
    .await;
    assert_eq!((status(&v), code(&v)), (503, "service_unavailable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_tokens_are_refused_without_a_call() {
    let e = Endpoint::start(active("")).await;
    let a = IntrospectionAuthenticator::new("api", config(&e).with_max_token_len(64)).unwrap();
    let g = gate(a);
    for header in [
        "Bearer ".to_owned(),
        "Bearer a b".to_owned(),
        "Bearer ab\"c".to_owned(),
        format!("Bearer {}", "a".repeat(65)),
    ] {
        let v = decide(&g, &[("authorization", &header)]).await;
        assert_eq!(code(&v), "malformed_credentials", "{header}");
        let c = &v.decision().denial().unwrap().challenges()[0];
        assert_eq!(c.get("error"), Some("invalid_request"), "{header}");
    }
    assert_eq!(code(&decide(&g, &[]).await), "missing_credentials");
    assert_eq!(e.calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_ends_the_cached_answer() {
    let e = Endpoint::start(active("")).await;
    let store = Arc::new(MemoryRevocationStore::new());
    let a = IntrospectionAuthenticator::new("api", config(&e))
        .unwrap()
        .revocation(store.clone());
    let g = gate(a);
    let v = ask(&g, "to-revoke").await;
    assert_eq!(code(&v), "allow");
    // A logout: revoke what the identity was authenticated with.
    let identity = identity(&v);
    assert!(bouncer_authn::jwt::revoke(store.as_ref(), &identity)
        .await
        .unwrap());
    assert_eq!(code(&ask(&g, "to-revoke").await), "token_revoked");
    assert_eq!(
        e.calls(),
        1,
        "refused from the cache's answer, by the store"
    );
}

struct Broken;

#[async_trait]
impl RevocationStore for Broken {
    async fn revoke(&self, _: &str, _: SystemTime) -> Result<(), Fault> {
        Err(Fault::unavailable("test", Duration::from_secs(2), "down"))
    }
    async fn is_revoked(&self, _: &str) -> Result<bool, Fault> {
        Err(Fault::unavailable("test", Duration::from_secs(2), "down"))
    }
}

#[async_trait]
impl CacheStore for Broken {
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, Fault> {
        Err(Fault::unavailable("test", Duration::from_secs(2), "down"))
    }
    async fn put(&self, _: &str, _: &[u8], _: Duration) -> Result<(), Fault> {
        Err(Fault::unavailable("test", Duration::from_secs(2), "down"))
    }
    async fn remove(&self, _: &str) -> Result<(), Fault> {
        Err(Fault::unavailable("test", Duration::from_secs(2), "down"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_revocation_store_is_503_and_a_failing_cache_is_not_fatal() {
    let e = Endpoint::start(active("")).await;
    let a = IntrospectionAuthenticator::new("api", config(&e))
        .unwrap()
        .revocation(Arc::new(Broken));
    let v = ask(&gate(a), "t").await;
    assert_eq!((status(&v), code(&v)), (503, "service_unavailable"));
    // The cache down: every request asks the endpoint, and is answered.
    let a = IntrospectionAuthenticator::new("api", config(&e))
        .unwrap()
        .cache(Arc::new(Broken));
    let g = gate(a);
    let before = e.calls();
    assert_eq!(code(&ask(&g, "t").await), "allow");
    assert_eq!(code(&ask(&g, "t").await), "allow");
    assert_eq!(e.calls() - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_never_serves_past_exp() {
    // Active until the next second boundary + 1 s, cached for up to 60 s.
    let exp = now() + 1;
    let body =
        format!(r#"{{"active":true,"sub":"alice","aud":"{AUD}","iss":"{ISS}","exp":{exp}}}"#);
    let e = Endpoint::start(Reply::Body("application/json", body)).await;
    let g = gate(
        IntrospectionAuthenticator::new("api", config(&e).with_ttl(Duration::from_secs(60)))
            .unwrap(),
    );
    assert_eq!(code(&ask(&g, "short").await), "allow");
    while now() < exp {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Past exp: not from the cache (the endpoint is asked again) and
    // refused as expired.
    assert_eq!(code(&ask(&g, "short").await), "token_expired");
    assert_eq!(e.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_token_make_one_call() {
    let body = format!(r#"{{"active":true,"sub":"alice","aud":"{AUD}","iss":"{ISS}"}}"#);
    let e = Endpoint::start(Reply::Slow(Duration::from_millis(300), body)).await;
    let g = Arc::new(gate(
        IntrospectionAuthenticator::new("api", config(&e)).unwrap(),
    ));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let g = g.clone();
            tokio::spawn(async move { code(&ask(&g, "popular").await) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "allow");
    }
    assert_eq!(e.calls(), 1);
}

#[test]
fn plain_http_needs_loopback_and_the_opt_in() {
    let c = |url: &str| IntrospectionConfig::new(url, ClientAuth::secret_basic("a", "hunter2"));
    assert!(IntrospectionAuthenticator::new("api", c("http://127.0.0.1:1/i")).is_err());
    assert!(IntrospectionAuthenticator::new(
        "api",
        c("http://127.0.0.1:1/i").with_allow_loopback_http(true)
    )
    .is_ok());
    assert!(IntrospectionAuthenticator::new(
        "api",
        c("http://as.example/i").with_allow_loopback_http(true)
    )
    .is_err());
    let a = IntrospectionAuthenticator::new("api", c("https://as.example/i")).unwrap();
    assert!(!format!("{a:?}").contains("hunter2"));
}

/// A server that keeps the first connection open after answering, then
/// drops it when the next request comes on it (the race of a server
/// closing an idle connection as the client reuses it); other connections
/// are answered normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_connection_the_server_dropped_is_retried_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{ENDPOINT_PATH}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let n = answered.clone();
    tokio::spawn(async move {
        let body = format!(r#"{{"active":true,"sub":"alice","aud":"{AUD}","iss":"{ISS}"}}"#);
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut first = true;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (response, n, keep) = (response.clone(), n.clone(), first);
            first = false;
            tokio::spawn(async move {
                read_request(&mut sock).await;
                let _ = sock.write_all(response.as_bytes()).await;
                n.fetch_add(1, Ordering::SeqCst);
                if keep {
                    // Wait for the reuse, then drop the connection unanswered.
                    let mut b = [0u8; 1];
                    let _ = sock.read(&mut b).await;
                }
            });
        }
    });
    let c = IntrospectionConfig::new(url, ClientAuth::secret_basic("api", "s"))
        .with_allow_loopback_http(true)
        .with_audience(AUD)
        .with_issuer(ISS);
    let g = gate(IntrospectionAuthenticator::new("api", c).unwrap());
    assert_eq!(code(&ask(&g, "one").await), "allow");
    assert_eq!(code(&ask(&g, "two").await), "allow");
    assert_eq!(answered.load(Ordering::SeqCst), 2);
}
