//! Extractors for the caller the middleware let through.
//!
//! | extractor | authenticated | anonymous (optional route) | no bouncer middleware on the route |
//! |---|---|---|---|
//! | [`Principal`] | the caller | 500 | 500 |
//! | [`MaybePrincipal`] | `Some(caller)` | `None` | 500 |
//! | `Option<Principal>` | `Some(caller)` | `None` | `None` |
//!
//! `Option<Principal>` is actix-web's blanket `Option<T>` extractor: it
//! turns any failure of `Principal` into `None`, so it cannot tell an
//! anonymous caller from a route that was never wrapped. Prefer
//! [`MaybePrincipal`], which answers 500 for the missing middleware (a
//! configuration bug, never the caller's fault). Both see the caller only
//! after the [`Require`](crate::Require) middleware decided: a denied
//! request never reaches an extractor.
//!
//! The middleware also puts the [`Authenticated`] caller in the request
//! extensions, so `web::ReqData<Authenticated>` works too.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use bouncer_core::{Authenticated, Caller, Fault};

use crate::rejection::BouncerRejection;

/// The authenticated caller. Fails with 500 when the route has no
/// [`Require`](crate::Require) middleware (a configuration bug, never the
/// caller's fault) or it let an anonymous caller through.
#[derive(Debug, Clone)]
pub struct Principal(pub Authenticated);

impl FromRequest for Principal {
    type Error = BouncerRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Caller>() {
            Some(Caller::Authenticated(a)) => Ok(Self(a.clone())),
            _ => Err(BouncerRejection::from(Fault::internal_msg(
                "Principal extracted on a route without an authenticating bouncer middleware",
            ))),
        })
    }
}

impl std::ops::Deref for Principal {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

/// The caller if authenticated, for routes where authentication is
/// optional. Fails with 500 only when no bouncer middleware ran.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Authenticated>);

impl FromRequest for MaybePrincipal {
    type Error = BouncerRejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Caller>() {
            Some(c) => Ok(Self(c.authenticated().cloned())),
            None => Err(BouncerRejection::from(Fault::internal_msg(
                "MaybePrincipal extracted on a route without a bouncer middleware",
            ))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use actix_web::ResponseError as _;

    fn extract<T: FromRequest>(req: &HttpRequest) -> Result<T, T::Error> {
        futures_util::FutureExt::now_or_never(T::extract(req)).unwrap()
    }

    #[test]
    fn without_the_middleware_principals_are_500() {
        let req = TestRequest::get().to_http_request();
        assert_eq!(extract::<Principal>(&req).unwrap_err().status_code(), 500);
        assert_eq!(
            extract::<MaybePrincipal>(&req).unwrap_err().status_code(),
            500
        );
        // The blanket Option<T> extractor cannot tell: None.
        assert!(extract::<Option<Principal>>(&req).unwrap().is_none());
    }

    #[test]
    fn an_anonymous_caller_is_none() {
        let req = TestRequest::get().to_http_request();
        req.extensions_mut().insert(Caller::Anonymous);
        assert!(extract::<MaybePrincipal>(&req).unwrap().0.is_none());
        assert!(extract::<Option<Principal>>(&req).unwrap().is_none());
        assert_eq!(extract::<Principal>(&req).unwrap_err().status_code(), 500);
    }
}
