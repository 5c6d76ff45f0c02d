//! The caller the layer let through, for handlers.

use bouncer_core::{Authenticated, Caller};

/// The authenticated caller of a method the layer let through.
///
/// ```
/// # use bouncer_tonic::Principal;
/// async fn me(request: tonic::Request<()>) -> Result<tonic::Response<String>, tonic::Status> {
///     let who = Principal::from_request(&request)?;
///     Ok(tonic::Response::new(who.subject().to_owned()))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Principal(pub Authenticated);

impl Principal {
    /// The caller, from the request's extensions. `INTERNAL` when the
    /// method has no authenticating bouncer layer (a configuration bug,
    /// never the caller's fault) or let an anonymous caller through.
    #[allow(clippy::result_large_err)]
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        match request.extensions().get::<Caller>() {
            Some(Caller::Authenticated(a)) => Ok(Self(a.clone())),
            _ => {
                crate::log::undecided(
                    "Principal read on a method without an authenticating bouncer layer",
                );
                Err(tonic::Status::internal("an internal error occurred"))
            }
        }
    }
}

impl std::ops::Deref for Principal {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

/// The caller if authenticated, for methods whose authentication is
/// optional (or public).
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Authenticated>);

impl MaybePrincipal {
    /// The caller, if any. `INTERNAL` only when no bouncer layer ran.
    #[allow(clippy::result_large_err)]
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<Self, tonic::Status> {
        match request.extensions().get::<Caller>() {
            Some(c) => Ok(Self(c.authenticated().cloned())),
            None => {
                crate::log::undecided("MaybePrincipal read on a method without a bouncer layer");
                Err(tonic::Status::internal("an internal error occurred"))
            }
        }
    }
}
