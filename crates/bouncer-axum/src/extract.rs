//! Extractors for the caller the layer let through.

use axum::extract::FromRequestParts;
use bouncer_core::{Authenticated, Caller, Denial, Fault};
use http::request::Parts;

use crate::rejection::BouncerRejection;

/// The authenticated caller. Fails with 500 when the route has no
/// [`BouncerLayer`](crate::BouncerLayer) (a configuration bug, never the
/// caller's fault) or let an anonymous caller through.
#[derive(Debug, Clone)]
pub struct Principal(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = BouncerRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Authenticated(a)) => Ok(Self(a.clone())),
            _ => Err(BouncerRejection::new(Denial::Fault(Fault::internal_msg(
                "Principal extracted on a route without an authenticating bouncer layer",
            )))),
        }
    }
}

impl std::ops::Deref for Principal {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

/// The caller if authenticated, for routes where authentication is
/// optional. Fails with 500 only when no bouncer layer ran.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for MaybePrincipal {
    type Rejection = BouncerRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(c) => Ok(Self(c.authenticated().cloned())),
            None => Err(BouncerRejection::new(Denial::Fault(Fault::internal_msg(
                "MaybePrincipal extracted on a route without a bouncer layer",
            )))),
        }
    }
}
