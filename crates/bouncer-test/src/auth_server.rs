//! A loopback OAuth authorization server for tests of resource servers:
//! RFC 8414 metadata (or only OpenID discovery), a JWKS with one RS256 key,
//! and RFC 9068 `at+jwt` access tokens signed with it.
//!
//! It can be created before it serves (its issuer URL is known, nothing
//! answers yet: "the authorization server is down at start"), stopped and
//! started again on the same port, and its key rotated under the same
//! `kid`, so every key-source rule of a resource server can be driven.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use bouncer_test::auth_server::TestAuthServer;
//! use bouncer_test::token::TestToken;
//!
//! let mut server = TestAuthServer::new()?; // not serving yet
//! let issuer = server.issuer();            // http://127.0.0.1:<port>
//! server.start().await?;
//! let token = server.sign(
//!     &TestToken::new("alice").audience("http://127.0.0.1:8765/mcp").scope("mcp:tools:echo"),
//! );
//! server.rotate_key(); // same kid, new key: old tokens no longer verify
//! server.stop().await;
//! # let _ = (issuer, token);
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::token::TestToken;

/// The `kid` of the server's key, whatever its rotation.
pub const KID: &str = "test-as-key";

struct State {
    issuer: String,
    key: Mutex<Arc<KeyPair>>,
    rfc8414: bool,
    jwks_hits: AtomicUsize,
}

impl State {
    fn key(&self) -> Arc<KeyPair> {
        self.key
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn jwks(&self) -> Value {
        let key = self.key();
        let public = key.public_key();
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    fn metadata(&self) -> Value {
        let i = &self.issuer;
        json!({
            "issuer": i,
            "jwks_uri": format!("{i}/jwks"),
            "authorization_endpoint": format!("{i}/authorize"),
            "token_endpoint": format!("{i}/token"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
        })
    }
}

/// Errors of the test authorization server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthServerError {
    /// An RSA key could not be generated.
    #[error("RSA key generation failed")]
    KeyGeneration,
}

fn generate() -> std::io::Result<Arc<KeyPair>> {
    KeyPair::generate(KeySize::Rsa2048)
        .map(Arc::new)
        .map_err(|_| std::io::Error::other(AuthServerError::KeyGeneration))
}

/// The server (see the [module docs](self)). Stops serving when dropped.
pub struct TestAuthServer {
    addr: SocketAddr,
    state: Arc<State>,
    running: Option<Running>,
}

struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TestAuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAuthServer")
            .field("issuer", &self.state.issuer)
            .field("serving", &self.is_serving())
            .finish_non_exhaustive()
    }
}

impl TestAuthServer {
    /// A server on a free loopback port, not serving yet, publishing RFC
    /// 8414 metadata and OpenID discovery.
    pub fn new() -> std::io::Result<Self> {
        Self::with_discovery(true)
    }

    /// A server that publishes only OpenID discovery
    /// (`/.well-known/openid-configuration`): RFC 8414's URL is a 404.
    pub fn openid_only() -> std::io::Result<Self> {
        Self::with_discovery(false)
    }

    fn with_discovery(rfc8414: bool) -> std::io::Result<Self> {
        // Find a free port; it is bound again by `start`.
        let addr = std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?;
        Ok(Self {
            addr,
            state: Arc::new(State {
                issuer: format!("http://{addr}"),
                key: Mutex::new(generate()?),
                rfc8414,
                jwks_hits: AtomicUsize::new(0),
            }),
            running: None,
        })
    }

    /// The issuer identifier, `http://127.0.0.1:<port>` (no trailing slash).
    pub fn issuer(&self) -> String {
        self.state.issuer.clone()
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether it is serving.
    pub fn is_serving(&self) -> bool {
        self.running.is_some()
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_hits(&self) -> usize {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }

    /// Starts serving (again, on the same port). Every response closes its
    /// connection, so a stopped server is unreachable at once, pooled
    /// connections included.
    pub async fn start(&mut self) -> std::io::Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        let (s1, s2, s3) = (self.state.clone(), self.state.clone(), self.state.clone());
        let mut router = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { axum::Json(s1.metadata()) }),
            )
            .route(
                "/jwks",
                get(move || async move {
                    s3.jwks_hits.fetch_add(1, Ordering::SeqCst);
                    axum::Json(s3.jwks())
                }),
            );
        if self.state.rfc8414 {
            router = router.route(
                "/.well-known/oauth-authorization-server",
                get(move || async move { axum::Json(s2.metadata()) }),
            );
        }
        let router = router.layer(axum::middleware::map_response(
            |mut r: axum::response::Response| async move {
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                r
            },
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        self.running = Some(Running { stop, task });
        Ok(())
    }

    /// Stops serving: afterwards connections to its port are refused.
    pub async fn stop(&mut self) {
        if let Some(Running { stop, mut task }) = self.running.take() {
            let _ = stop.send(());
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }

    /// Replaces the signing key with a new one under the same `kid`
    /// ([`KID`]): tokens signed before no longer verify with the JWKS served
    /// after.
    pub fn rotate_key(&self) -> std::io::Result<()> {
        let key = generate()?;
        *self
            .state
            .key
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = key;
        Ok(())
    }

    /// `token`'s claims with `iss` set to this issuer, signed RS256 with
    /// the current key under the header `{"typ":"at+jwt","kid":KID}`
    /// (`token`'s own header is not used).
    pub fn sign(&self, token: &TestToken) -> String {
        let mut claims = token.claims().clone();
        claims.insert("iss".into(), self.state.issuer.clone().into());
        sign_with(&self.state.key(), &Value::Object(claims))
    }

    /// An access token for `subject`, audience `audience`, with `scope`
    /// (space-separated; empty: no `scope` claim), valid for five minutes.
    pub fn access_token(&self, subject: &str, audience: &str, scope: &str) -> String {
        let token = TestToken::new(subject)
            .audience(audience)
            .claim("client_id", "test-client");
        let token = if scope.is_empty() {
            token
        } else {
            token.scope(scope)
        };
        self.sign(&token)
    }
}

/// Signs `claims` RS256 with `key`; a signing failure (which aws-lc-rs
/// does not have for a valid key) gives an empty signature, which verifies
/// nowhere.
fn sign_with(key: &KeyPair, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": KID});
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let message = format!("{}.{}", b64(&header), b64(claims));
    let mut signature = vec![0u8; key.public_modulus_len()];
    if key
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message.as_bytes(),
            &mut signature,
        )
        .is_err()
    {
        signature.clear();
    }
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

impl Drop for TestAuthServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = r.stop.send(());
            r.task.abort();
        }
    }
}
