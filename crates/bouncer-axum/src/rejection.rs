//! The response for a denial, rendered by core's one renderer
//! ([`bouncer_core::render`]) so every adapter sends the same bytes: status,
//! every `WWW-Authenticate` challenge (one field line each), `Retry-After`
//! for 429/503, `cache-control: no-store`, and an RFC 9457
//! `application/problem+json` body.

use std::fmt;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bouncer_core::render::{RenderOptions, Rendered};
use bouncer_core::{Denial, Fault, Forbidden, ForbiddenReason};

/// A denial, ready to be sent. Wraps core's [`Denial`] so it can implement
/// [`IntoResponse`].
#[derive(Debug)]
pub struct BouncerRejection {
    denial: Denial,
    options: RenderOptions,
}

impl BouncerRejection {
    /// A rejection for `denial`, with `detail` in the body.
    pub fn new(denial: Denial) -> Self {
        Self {
            denial,
            options: RenderOptions::new(),
        }
    }

    /// Keeps `detail` out of the body (only `type`, `title`, `status`,
    /// `code`).
    pub fn without_detail(mut self) -> Self {
        self.options = self.options.without_detail();
        self
    }

    /// Renders with these options (e.g. an `instance` naming the decision).
    pub fn with_options(mut self, options: RenderOptions) -> Self {
        self.options = options;
        self
    }

    /// The denial.
    pub fn denial(&self) -> &Denial {
        &self.denial
    }

    /// Back to the denial.
    pub fn into_denial(self) -> Denial {
        self.denial
    }

    /// The parts core's renderer makes of it.
    pub fn render(&self) -> Rendered {
        self.denial.render(&self.options)
    }
}

impl fmt::Display for BouncerRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.denial.fmt(f)
    }
}

impl std::error::Error for BouncerRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.denial)
    }
}

impl From<Denial> for BouncerRejection {
    fn from(denial: Denial) -> Self {
        Self::new(denial)
    }
}

impl From<Fault> for BouncerRejection {
    fn from(fault: Fault) -> Self {
        Self::new(Denial::Fault(fault))
    }
}

impl From<Forbidden> for BouncerRejection {
    fn from(forbidden: Forbidden) -> Self {
        Self::new(Denial::forbidden(forbidden))
    }
}

impl From<ForbiddenReason> for BouncerRejection {
    fn from(reason: ForbiddenReason) -> Self {
        Self::new(Denial::from(reason))
    }
}

impl IntoResponse for BouncerRejection {
    fn into_response(self) -> Response {
        self.render().into_response().map(Body::from)
    }
}
