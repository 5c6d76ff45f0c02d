//! A table-driven status matrix: list (request, expected status, expected
//! `code`) rows; every row runs, in order, through `oneshot` on your axum
//! `Router` ([`StatusMatrix::run`]) or over real HTTP against any server
//! ([`StatusMatrix::run_http`]), and all mismatches are reported together.
//!
//! Every row also checks the challenge rules of the contract, whatever
//! its expected status: every challenge parses (RFC 9110 §11), a 401
//! carries at least one, and a 403 carries none — except
//! `insufficient_scope`, whose Bearer challenge has
//! `error="insufficient_scope"` and a `scope`. A row that expects a `code`
//! also checks the body is `application/problem+json` repeating the
//! status.
//!
//! ```
//! # async fn demo(router: axum::Router) {
//! use axum::body::Body;
//! use bouncer_test::matrix::StatusMatrix;
//! use http::Request;
//!
//! StatusMatrix::new()
//!     .row("anonymous", Request::get("/me").body(Body::empty()).unwrap(), 401, Some("missing_credentials"))
//!     .row("dotfile", Request::get("/.env").body(Body::empty()).unwrap(), 403, Some("blocked_path"))
//!     .run(router)
//!     .await
//!     .unwrap();
//! # }
//! ```

use std::fmt;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::Router;
use bouncer_core::Challenge;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::ServiceExt;

struct Row {
    label: String,
    request: Request<Body>,
    status: u16,
    code: Option<String>,
}

/// The rows to check.
#[derive(Default)]
pub struct StatusMatrix {
    rows: Vec<Row>,
    peer: Option<SocketAddr>,
}

impl fmt::Debug for StatusMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusMatrix")
            .field("rows", &self.rows.len())
            .finish()
    }
}

/// The rows whose answer differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatches(pub Vec<String>);

impl fmt::Display for Mismatches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} row(s) answered differently:", self.0.len())?;
        for m in &self.0 {
            writeln!(f, "  {m}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Mismatches {}

impl StatusMatrix {
    /// An empty matrix. Requests come from `127.0.0.1` unless they carry
    /// their own `ConnectInfo` (see [`peer`](Self::peer)).
    pub fn new() -> Self {
        Self::default()
    }

    /// The client address given to requests without one.
    pub fn peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// A row: `request` must get `status` and, when given, the problem
    /// body's `code`.
    pub fn row(
        mut self,
        label: &str,
        request: Request<Body>,
        status: u16,
        code: Option<&str>,
    ) -> Self {
        self.rows.push(Row {
            label: label.to_owned(),
            request,
            status,
            code: code.map(str::to_owned),
        });
        self
    }

    /// Runs every row against `router`, in order, through `oneshot`.
    pub async fn run(self, router: Router) -> Result<(), Mismatches> {
        let peer = self
            .peer
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 40_000)));
        let mut bad = Vec::new();
        for mut row in self.rows {
            if row
                .request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .is_none()
            {
                row.request.extensions_mut().insert(ConnectInfo(peer));
            }
            let response = match router.clone().oneshot(row.request).await {
                Ok(r) => r,
                Err(e) => {
                    bad.push(format!("{}: the router failed: {e}", row.label));
                    continue;
                }
            };
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            check(
                &row.label,
                row.status,
                row.code.as_deref(),
                &parts,
                &body,
                &mut bad,
            );
        }
        finish(bad)
    }

    /// Runs every row, in order, over real HTTP/1.1 against a server
    /// listening at `base` (`http://127.0.0.1:8080`): each request's path
    /// and query are appended to it. Works for any server, not only axum
    /// routers; [`peer`](Self::peer) does not apply (the peer is the real
    /// loopback client).
    pub async fn run_http(self, base: &str) -> Result<(), Mismatches> {
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let base = base.trim_end_matches('/');
        let mut bad = Vec::new();
        for row in self.rows {
            let (mut parts, body) = row.request.into_parts();
            let body = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => {
                    bad.push(format!("{}: the request body failed: {e}", row.label));
                    continue;
                }
            };
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            parts.uri = match format!("{base}{path}").parse() {
                Ok(u) => u,
                Err(e) => {
                    bad.push(format!("{}: bad URL {base}{path}: {e}", row.label));
                    continue;
                }
            };
            let response = match client
                .request(Request::from_parts(parts, Full::new(body)))
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    bad.push(format!("{}: the request failed: {e}", row.label));
                    continue;
                }
            };
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            check(
                &row.label,
                row.status,
                row.code.as_deref(),
                &parts,
                &body,
                &mut bad,
            );
        }
        finish(bad)
    }
}

fn finish(bad: Vec<String>) -> Result<(), Mismatches> {
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Mismatches(bad))
    }
}

/// One row's checks: status and code as expected, the challenge rules, and
/// — when a code is expected — a problem+json body that repeats the status.
fn check(
    label: &str,
    want_status: u16,
    want_code: Option<&str>,
    parts: &http::response::Parts,
    body: &[u8],
    bad: &mut Vec<String>,
) {
    let status = parts.status.as_u16();
    let problem = serde_json::from_slice::<serde_json::Value>(body).ok();
    let code = problem
        .as_ref()
        .and_then(|v| v.get("code"))
        .and_then(|c| c.as_str());
    if let Some(p) = challenge_problem(status, code, &parts.headers) {
        bad.push(format!("{label}: {p}"));
    }
    if status != want_status || (want_code.is_some() && want_code != code) {
        bad.push(format!(
            "{label}: expected {want_status} {}, got {status} {}",
            want_code.unwrap_or("-"),
            code.unwrap_or("-")
        ));
    } else if want_code.is_some() {
        let content_type = parts.headers.get(http::header::CONTENT_TYPE);
        if content_type.is_none_or(|v| v != "application/problem+json") {
            bad.push(format!(
                "{label}: a {status} problem without content-type application/problem+json"
            ));
        }
        let repeated = problem
            .as_ref()
            .and_then(|v| v.get("status"))
            .and_then(|s| s.as_u64());
        if repeated != Some(u64::from(status)) {
            bad.push(format!(
                "{label}: the problem body's status is {repeated:?}, not {status}"
            ));
        }
    }
}

/// What breaks the contract's challenge rules in a response, if anything.
pub fn challenge_problem(status: u16, code: Option<&str>, headers: &HeaderMap) -> Option<String> {
    let challenges = match Challenge::parse_headers(headers) {
        Ok(c) => c,
        Err(e) => return Some(format!("WWW-Authenticate does not parse: {e}")),
    };
    match status {
        401 if challenges.is_empty() => Some("a 401 without a WWW-Authenticate challenge".into()),
        403 if code == Some("insufficient_scope") => {
            let ok = challenges.iter().any(|c| {
                c.scheme().eq_ignore_ascii_case("bearer")
                    && c.get("error") == Some("insufficient_scope")
                    && c.get("scope").is_some()
            });
            (!ok).then(|| {
                "a 403 insufficient_scope without a Bearer insufficient_scope challenge".into()
            })
        }
        403 if !challenges.is_empty() => Some(
            "a 403 with a WWW-Authenticate challenge (authenticating again cannot help)".into(),
        ),
        _ => None,
    }
}

/// A router served on a loopback port, for tests over real HTTP; stopped
/// when dropped.
#[derive(Debug)]
pub struct LoopbackServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl LoopbackServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `127.0.0.1` at a free port, with the client address
/// in `ConnectInfo<SocketAddr>` (as bouncer-axum's guards need).
pub async fn serve_loopback(router: Router) -> std::io::Result<LoopbackServer> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        // The listener was bound above; serving ends only when aborted.
        let _ = axum::serve(listener, service).await;
    });
    Ok(LoopbackServer { addr, task })
}
