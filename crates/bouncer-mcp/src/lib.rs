//! # bouncer-mcp
//!
//! **One idea: an MCP server is an OAuth resource server, and one builder
//! gives the whole profile** (MCP authorization, 2025-06-18): tokens bound
//! to the server's canonical URL (RFC 8707, RFC 9068), keys found from the
//! trusted authorization server's issuer (RFC 8414 or OpenID discovery),
//! RFC 9728 metadata at the path-aware well-known URL, a
//! `resource_metadata` parameter on every 401, and scopes per MCP operation
//! with `insufficient_scope` 403s naming every scope the operation needs.
//!
//! | piece | what it is |
//! |---|---|
//! | [`McpResourceServer::builder`] | resource URL + issuer + scopes per tool, resource, prompt or method |
//! | [`McpResourceServer::authenticator`] | the Bearer [`JwtAuthenticator`]: exact `aud`, `typ: at+jwt`, keys from a lazy [`JwksSource`] |
//! | [`McpResourceServer::gate`] | the [`Gate`]: that authenticator and [`OperationScopes`] as stage 4 |
//! | [`McpResourceServer::metadata`] | the RFC 9728 document and [`metadata_path`](McpResourceServer::metadata_path) |
//! | [`operation_of`] | the MCP operation a JSON-RPC body asks for |
//! | `McpResourceServer::layer` / `metadata_router` / `router` (feature `axum`) | the tower layer for the MCP endpoint and the metadata route |
//!
//! What each request gets:
//!
//! - **401 `invalid_token`** for a token that is not for this resource (no
//!   `aud`, or another one), badly signed, expired or of another `typ`;
//!   every 401 carries `resource_metadata="<metadata URL>"`.
//! - **503 with `Retry-After`** while no keys were ever fetched, or the
//!   last fetch failed and the keys are older than the staleness limit
//!   (24 h by default); with usable keys a token none verifies is a 401,
//!   whether or not a refetch was due.
//! - **403 `insufficient_scope`** with `scope="<every scope needed>"` for a
//!   valid token without the operation's scopes; `initialize`, `ping`,
//!   `tools/list`, `notifications/*` and responses need none; an operation
//!   nobody configured is 403 `insufficient_permission`.
//! - **400** (a JSON-RPC error body) for a POST body that names no single
//!   operation — unparsable, a batch, a duplicated member, a `tools/call`
//!   without a `name` — and **413** for one over the size limit, both only
//!   after the caller is authenticated; the MCP service never sees them.
//!   Accepted bodies reach it byte for byte.
//!
//! ```
//! use bouncer_mcp::McpResourceServer;
//!
//! let mcp = McpResourceServer::builder("http://127.0.0.1:8765/mcp", "https://auth.example")
//!     .tool("echo", ["mcp:tools:echo"])
//!     .tool("reset", ["mcp:tools:reset"])
//!     .build()?;
//! assert_eq!(mcp.metadata_path(), "/.well-known/oauth-protected-resource/mcp");
//! assert_eq!(mcp.metadata_url(), "http://127.0.0.1:8765/.well-known/oauth-protected-resource/mcp");
//! # Ok::<(), bouncer_mcp::McpError>(())
//! ```

mod operation;
mod scopes;
#[cfg(feature = "axum")]
mod service;

use std::sync::Arc;
use std::time::Duration;

use bouncer_authn::jwt::{JwksConfig, JwksError, JwksSource, JwtAuthenticator, JwtValidation};
use bouncer_core::metadata::{ProtectedResourceMetadata, WELL_KNOWN_PATH};
use bouncer_core::{Gate, Requirement};

pub use operation::{operation_of, Operation, OperationError};
pub use scopes::{OperationScopes, ScopeTable, SCOPE_FREE_METHODS};
#[cfg(feature = "axum")]
pub use service::{McpLayer, McpService};

/// The default limit on a POST body (1 MiB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Why the profile could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// The resource URL is not an absolute `http(s)` URL without query or
    /// fragment.
    #[error("the resource `{0}` must be an absolute http(s) URL without query or fragment")]
    BadResource(String),
    /// The issuer is refused (plain `http` off loopback or without the
    /// opt-in, or not a URL).
    #[error(transparent)]
    Issuer(#[from] JwksError),
}

/// Settings for [`McpResourceServer`]; start with
/// [`McpResourceServer::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct McpResourceServerBuilder {
    resource: String,
    issuer: String,
    jwks: JwksConfig,
    scopes: ScopeTable,
    extra_scopes: Vec<String>,
    max_body: usize,
    require_at_jwt: bool,
    realm: String,
    leeway: Option<Duration>,
}

impl McpResourceServerBuilder {
    /// Lets the issuer (and the URLs its metadata names) be plain `http` on
    /// a loopback address — for local development and tests only.
    pub fn allow_loopback_http_issuer(mut self) -> Self {
        self.jwks = self.jwks.with_allow_loopback_http(true);
        self
    }

    /// The key source's settings (cache bounds, the staleness limit —
    /// 24 h by default —, the refetch rate limit, timeouts,
    /// `Retry-After`). Its loopback opt-in is kept as set here or by
    /// [`allow_loopback_http_issuer`](Self::allow_loopback_http_issuer).
    pub fn jwks_config(mut self, config: JwksConfig) -> Self {
        let loopback = self.jwks.allow_loopback_http() || config.allow_loopback_http();
        self.jwks = config.with_allow_loopback_http(loopback);
        self
    }

    /// `tools/call` of `tool` needs every one of `scopes`.
    pub fn tool<I, S>(mut self, tool: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes
            .insert(Operation::Tool(tool.to_owned()).key(), scopes);
        self
    }

    /// `resources/read`, `resources/subscribe` and `resources/unsubscribe`
    /// of `uri` need every one of `scopes`.
    pub fn resource<I, S>(mut self, uri: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        for method in [
            "resources/read",
            "resources/subscribe",
            "resources/unsubscribe",
        ] {
            let op = Operation::Resource {
                method: method.to_owned(),
                uri: uri.to_owned(),
            };
            self.scopes.insert(op.key(), scopes.clone());
        }
        self
    }

    /// `prompts/get` of `prompt` needs every one of `scopes`.
    pub fn prompt<I, S>(mut self, prompt: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes
            .insert(Operation::Prompt(prompt.to_owned()).key(), scopes);
        self
    }

    /// A method naming no tool, resource or prompt (`resources/list`,
    /// `prompts/list`, `completion/complete`, …) needs every one of
    /// `scopes` (none: any valid token).
    pub fn method<I, S>(mut self, method: &str, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes.insert(method, scopes);
        self
    }

    /// Scopes to list in `scopes_supported` beyond those the operations
    /// need.
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra_scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The largest POST body read (default [`DEFAULT_MAX_BODY`]); larger
    /// is 413.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Accepts tokens without the RFC 9068 header `typ: at+jwt` (or with
    /// `JWT`), for authorization servers that do not set it. Off by
    /// default: RFC 9068 §4 has resource servers check it.
    pub fn accept_untyped_tokens(mut self) -> Self {
        self.require_at_jwt = false;
        self
    }

    /// The realm on challenges (default `mcp`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// The clock-skew allowance for `exp`/`nbf` (default 30 s, at most 60).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Builds the profile. Nothing is fetched yet: the first token
    /// discovers the authorization server and fetches its keys.
    pub fn build(self) -> Result<McpResourceServer, McpError> {
        let metadata_path = metadata_path_of(&self.resource)?;
        let source = JwksSource::from_issuer(&self.issuer, self.jwks.clone())?;
        let metadata_url = format!("{}{metadata_path}", origin_of(&self.resource)?);

        // Exactly this resource in `aud` (a string or an array): the
        // default of `JwtValidation`, and nothing here widens it.
        let mut validation = JwtValidation::new(self.issuer.clone(), self.resource.clone());
        if self.require_at_jwt {
            validation = validation.require_at_jwt();
        }
        if let Some(leeway) = self.leeway {
            validation = validation.leeway(leeway);
        }
        let authenticator = JwtAuthenticator::from_jwks(self.realm, source.clone(), validation)
            .resource_metadata(metadata_url.clone())
            .token_cache(4096);

        let mut scopes = self.scopes.all_scopes();
        scopes.extend(self.extra_scopes);
        scopes.sort();
        scopes.dedup();
        let metadata = ProtectedResourceMetadata::new(self.resource.clone())
            .authorization_server(self.issuer.clone())
            .scopes(scopes);

        let table = Arc::new(self.scopes);
        let gate = Gate::builder()
            .authenticator(authenticator.clone())
            .authorizer(OperationScopes::new(table.clone()))
            .build();
        Ok(McpResourceServer {
            inner: Arc::new(Inner {
                resource: self.resource,
                metadata_path,
                metadata_url,
                metadata,
                authenticator,
                source,
                gate: Arc::new(gate),
                table,
                max_body: self.max_body,
            }),
        })
    }
}

/// The built profile. Cheap to clone.
#[derive(Debug, Clone)]
pub struct McpResourceServer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    resource: String,
    metadata_path: String,
    metadata_url: String,
    metadata: ProtectedResourceMetadata,
    authenticator: JwtAuthenticator,
    source: Arc<JwksSource>,
    gate: Arc<Gate>,
    table: Arc<ScopeTable>,
    max_body: usize,
}

impl McpResourceServer {
    /// The profile for the MCP server whose canonical URL is `resource`
    /// (what tokens must carry in `aud`, e.g. `https://mcp.example/mcp`),
    /// trusting the authorization server `issuer` (`https`; plain `http`
    /// only on loopback with
    /// [`allow_loopback_http_issuer`](McpResourceServerBuilder::allow_loopback_http_issuer)).
    pub fn builder(
        resource: impl Into<String>,
        issuer: impl Into<String>,
    ) -> McpResourceServerBuilder {
        McpResourceServerBuilder {
            resource: resource.into(),
            issuer: issuer.into(),
            jwks: JwksConfig::default(),
            scopes: ScopeTable::new(),
            extra_scopes: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            require_at_jwt: true,
            realm: "mcp".to_owned(),
            leeway: None,
        }
    }

    /// The canonical resource URL.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// Where the metadata is served on this server: the well-known path
    /// followed by the resource's path (RFC 9728 §3.1).
    pub fn metadata_path(&self) -> &str {
        &self.inner.metadata_path
    }

    /// The metadata's absolute URL, as every 401 names it.
    pub fn metadata_url(&self) -> &str {
        &self.inner.metadata_url
    }

    /// The RFC 9728 document.
    pub fn metadata(&self) -> &ProtectedResourceMetadata {
        &self.inner.metadata
    }

    /// The Bearer authenticator.
    pub fn authenticator(&self) -> &JwtAuthenticator {
        &self.inner.authenticator
    }

    /// The key source (for [`JwksSource::spawn_refresher`], or to look at
    /// its state).
    pub fn key_source(&self) -> &Arc<JwksSource> {
        &self.inner.source
    }

    /// The gate: the authenticator, then the scopes of the operation.
    pub fn gate(&self) -> &Arc<Gate> {
        &self.inner.gate
    }

    /// The scopes per operation.
    pub fn scope_table(&self) -> &ScopeTable {
        &self.inner.table
    }

    /// The largest POST body read.
    pub fn max_body(&self) -> usize {
        self.inner.max_body
    }

    /// What the gate requires for `operation` (`None`: a request naming no
    /// operation, such as the GET that opens the event stream).
    pub fn requirement(&self, operation: Option<&Operation>) -> Requirement {
        let r = Requirement::authenticated();
        match operation {
            Some(op) => r.permission(op.key()),
            None => r,
        }
    }
}

/// `http(s)://host[:port]` of an absolute URL.
fn origin_of(resource: &str) -> Result<String, McpError> {
    let bad = || McpError::BadResource(resource.to_owned());
    let uri: http::Uri = resource.parse().map_err(|_| bad())?;
    let scheme = uri.scheme_str().filter(|s| matches!(*s, "http" | "https"));
    match (scheme, uri.authority()) {
        (Some(scheme), Some(authority)) => Ok(format!("{scheme}://{authority}")),
        _ => Err(bad()),
    }
}

/// The path-aware well-known path for `resource` (RFC 9728 §3.1): the
/// resource's path, without a trailing slash, after
/// `/.well-known/oauth-protected-resource`.
fn metadata_path_of(resource: &str) -> Result<String, McpError> {
    let bad = || McpError::BadResource(resource.to_owned());
    origin_of(resource)?;
    if resource.contains('#') || resource.contains('?') {
        return Err(bad());
    }
    let uri: http::Uri = resource.parse().map_err(|_| bad())?;
    let path = uri.path().trim_end_matches('/');
    Ok(format!("{WELL_KNOWN_PATH}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_path_inserts_the_well_known_before_the_resource_path() {
        let table = [
            (
                "http://127.0.0.1:8765/mcp",
                "/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://mcp.example",
                "/.well-known/oauth-protected-resource",
            ),
            (
                "https://mcp.example/",
                "/.well-known/oauth-protected-resource",
            ),
            (
                "https://mcp.example/a/b/",
                "/.well-known/oauth-protected-resource/a/b",
            ),
        ];
        for (resource, path) in table {
            assert_eq!(metadata_path_of(resource).unwrap(), path, "{resource}");
        }
        for bad in [
            "/mcp",
            "ftp://x/mcp",
            "https://x/mcp?a=1",
            "https://x/mcp#f",
            "not a url",
        ] {
            assert!(metadata_path_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_http_issuers_are_refused_unless_loopback_and_opted_in() {
        let build = |issuer: &str, opt_in: bool| {
            let b = McpResourceServer::builder("http://127.0.0.1:8765/mcp", issuer);
            if opt_in {
                b.allow_loopback_http_issuer()
            } else {
                b
            }
            .build()
        };
        assert!(matches!(
            build("http://127.0.0.1:9000", false),
            Err(McpError::Issuer(_))
        ));
        assert!(matches!(
            build("http://as.example", true),
            Err(McpError::Issuer(_))
        ));
        assert!(build("http://127.0.0.1:9000", true).is_ok());
        assert!(build("https://as.example", false).is_ok());
    }

    #[test]
    fn the_metadata_lists_every_scope_and_the_issuer() {
        let mcp = McpResourceServer::builder("https://mcp.example/mcp", "https://as.example")
            .tool("echo", ["mcp:tools:echo"])
            .tool("reset", ["mcp:tools:reset", "mcp:admin"])
            .scopes_supported(["offline_access"])
            .build()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&mcp.metadata().to_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "resource": "https://mcp.example/mcp",
                "authorization_servers": ["https://as.example"],
                "scopes_supported": ["mcp:admin", "mcp:tools:echo", "mcp:tools:reset", "offline_access"],
                "bearer_methods_supported": ["header"],
            })
        );
    }
}
