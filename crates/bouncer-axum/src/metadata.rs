//! OAuth 2.0 Protected Resource Metadata (RFC 9728): tells OAuth clients
//! (MCP clients among them) which authorization servers issue tokens for
//! this API and how to send them. Pair it with the `resource_metadata`
//! parameter on Bearer challenges (`JwtAuthenticator::resource_metadata` in
//! bouncer-authn), so a client that gets a 401 can discover the rest.
//!
//! ```
//! use axum::Router;
//! use bouncer_axum::ProtectedResourceMetadata;
//!
//! let metadata = ProtectedResourceMetadata::new("https://api.example")
//!     .authorization_server("https://auth.example")
//!     .scopes(["documents:read", "documents:write"]);
//! let app: Router = Router::new().merge(metadata.router());
//! # let _ = app;
//! ```

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

/// Where RFC 9728 metadata is served.
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// The metadata document.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProtectedResourceMetadata {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
}

impl ProtectedResourceMetadata {
    /// Metadata for the resource identifier `resource` (the token audience).
    /// Tokens are accepted in the `Authorization` header only.
    pub fn new(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".to_owned()],
            resource_name: None,
            resource_documentation: None,
        }
    }

    /// Adds an authorization server (its issuer identifier).
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes the resource understands.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A human-readable name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// A page documenting the API.
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// A router serving the document at [`WELL_KNOWN_PATH`].
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route(WELL_KNOWN_PATH, get(move || async move { Json(self) }))
    }
}
