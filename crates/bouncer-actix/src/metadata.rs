//! Serving RFC 9728 protected-resource metadata (the document is core's
//! [`ProtectedResourceMetadata`]) at [`WELL_KNOWN_PATH`].
//!
//! ```
//! use actix_web::App;
//! use bouncer_actix::{ProtectedResourceMetadata, ProtectedResourceMetadataExt as _};
//!
//! let metadata = ProtectedResourceMetadata::new("https://api.example")
//!     .authorization_server("https://auth.example")
//!     .scopes(["documents:read", "documents:write"]);
//! let app = App::new().service(metadata.resource());
//! # let _ = app;
//! ```

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse, Resource};
pub use bouncer_core::metadata::{ProtectedResourceMetadata, WELL_KNOWN_PATH};

/// Serves a [`ProtectedResourceMetadata`] document with actix-web.
pub trait ProtectedResourceMetadataExt {
    /// A resource answering `GET` at [`WELL_KNOWN_PATH`] with the document
    /// (`application/json`); register it with `App::service`.
    fn resource(self) -> Resource;
}

impl ProtectedResourceMetadataExt for ProtectedResourceMetadata {
    fn resource(self) -> Resource {
        let body = web::Bytes::from(self.to_json());
        web::resource(WELL_KNOWN_PATH).route(web::get().to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .insert_header(ContentType::json())
                    .body(body)
            }
        }))
    }
}
