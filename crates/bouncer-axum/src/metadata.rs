//! Serving OAuth 2.0 Protected Resource Metadata (RFC 9728) with axum. The
//! document is core's [`ProtectedResourceMetadata`] (shared by every
//! adapter); this module is the route that serves it at
//! [`WELL_KNOWN_PATH`].
//!
//! ```
//! use axum::Router;
//! use bouncer_axum::{ProtectedResourceMetadata, ProtectedResourceMetadataExt as _};
//!
//! let metadata = ProtectedResourceMetadata::new("https://api.example")
//!     .authorization_server("https://auth.example")
//!     .scopes(["documents:read", "documents:write"]);
//! let app: Router = Router::new().merge(metadata.router());
//! # let _ = app;
//! ```

use axum::routing::get;
use axum::{Json, Router};
pub use bouncer_core::metadata::{ProtectedResourceMetadata, WELL_KNOWN_PATH};

/// Serves a [`ProtectedResourceMetadata`] document with axum.
pub trait ProtectedResourceMetadataExt {
    /// A router serving the document at [`WELL_KNOWN_PATH`].
    fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S>;
}

impl ProtectedResourceMetadataExt for ProtectedResourceMetadata {
    fn router<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        Router::new().route(WELL_KNOWN_PATH, get(move || async move { Json(self) }))
    }
}
