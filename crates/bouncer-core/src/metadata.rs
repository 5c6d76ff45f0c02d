//! OAuth 2.0 Protected Resource Metadata (RFC 9728): tells OAuth clients
//! (MCP clients among them) which authorization servers issue tokens for
//! this API and how to send them. Pair it with the `resource_metadata`
//! parameter on Bearer challenges (`JwtAuthenticator::resource_metadata` in
//! bouncer-authn), so a client that gets a 401 can discover the rest.
//!
//! This is the document only (feature `serde`; [`to_json`] with `json`).
//! Each framework adapter serves it at [`WELL_KNOWN_PATH`] with a line of
//! glue (`bouncer-axum`: `.router()`, `bouncer-actix`: `.resource()`), so
//! every adapter sends the same bytes.
//!
//! ```
//! use bouncer_core::metadata::ProtectedResourceMetadata;
//!
//! let metadata = ProtectedResourceMetadata::new("https://api.example")
//!     .authorization_server("https://auth.example")
//!     .scopes(["documents:read", "documents:write"]);
//! # #[cfg(feature = "json")] {
//! let body: serde_json::Value = serde_json::from_slice(&metadata.to_json())?;
//! assert_eq!(body["resource"], "https://api.example");
//! assert_eq!(body["bearer_methods_supported"][0], "header");
//! # }
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! [`to_json`]: ProtectedResourceMetadata::to_json

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

    /// The resource identifier.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The document as `application/json` bytes.
    #[cfg(feature = "json")]
    pub fn to_json(&self) -> Vec<u8> {
        // Strings and vectors of strings only: serialization cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;

    #[test]
    fn empty_members_are_left_out() {
        let json: serde_json::Value =
            serde_json::from_slice(&ProtectedResourceMetadata::new("https://api").to_json())
                .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"resource": "https://api", "bearer_methods_supported": ["header"]})
        );
    }

    #[test]
    fn every_member_is_named_as_in_rfc_9728() {
        let m = ProtectedResourceMetadata::new("https://api")
            .authorization_server("https://auth")
            .scopes(["a:read"])
            .name("API")
            .documentation("https://docs");
        let json: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(json["authorization_servers"][0], "https://auth");
        assert_eq!(json["scopes_supported"][0], "a:read");
        assert_eq!(json["resource_name"], "API");
        assert_eq!(json["resource_documentation"], "https://docs");
    }
}
