//! Extractors for the caller the layer let through: `Principal` where a
//! caller must be authenticated, `Option<Principal>` where authentication
//! is optional.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use bouncer_core::{Authenticated, Caller, Denial, Fault};
use http::request::Parts;

use crate::rejection::BouncerRejection;

/// The authenticated caller. Fails with 500 when the route has no
/// [`BouncerLayer`](crate::BouncerLayer) (a configuration bug, never the
/// caller's fault) or let an anonymous caller through.
///
/// As `Option<Principal>` (axum's `OptionalFromRequestParts`), for routes
/// where authentication is optional: `None` for an anonymous caller, and
/// still 500 when no bouncer layer ran — a missing layer is never mistaken
/// for an anonymous request.
#[derive(Debug, Clone)]
pub struct Principal(pub Authenticated);

fn no_layer() -> BouncerRejection {
    BouncerRejection::new(Denial::Fault(Fault::misconfigured(
        "Principal extracted on a route without a bouncer layer",
    )))
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = BouncerRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Authenticated(a)) => Ok(Self(a.clone())),
            _ => Err(no_layer()),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = BouncerRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(c) => Ok(c.authenticated().cloned().map(Self)),
            None => Err(no_layer()),
        }
    }
}

impl std::ops::Deref for Principal {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}
