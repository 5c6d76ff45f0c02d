//! The tower layers: [`GuardLayer`] (stage 1, on every request, before
//! routing) and [`BouncerLayer`] (stages 2–5, per route).

use std::sync::Arc;

use tower_layer::Layer;

use crate::service::{BouncerService, GuardService};
use crate::Bouncer;
use bouncer_core::route::RouteRequirement;

/// Runs the request guards on every request, before routing, so that
/// `/.env` is 403 even though no route serves it. Apply it to the whole
/// router with `Router::layer`.
#[derive(Debug, Clone)]
pub struct GuardLayer {
    bouncer: Bouncer,
}

impl GuardLayer {
    /// Guards from `bouncer`'s gate.
    pub fn new(bouncer: Bouncer) -> Self {
        Self { bouncer }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService::new(inner, self.bouncer.clone())
    }
}

/// Runs stages 2–5 (and stage 1 unless a [`GuardLayer`] already did) for
/// one route's requirement. Denied requests are answered here: they never
/// reach a body extractor or the handler.
#[derive(Debug, Clone)]
pub struct BouncerLayer {
    bouncer: Bouncer,
    requirement: Arc<RouteRequirement>,
}

impl BouncerLayer {
    /// A layer enforcing `requirement` with `bouncer`'s gate.
    pub fn new(bouncer: Bouncer, requirement: impl Into<RouteRequirement>) -> Self {
        Self {
            bouncer,
            requirement: Arc::new(requirement.into()),
        }
    }
}

impl<S> Layer<S> for BouncerLayer {
    type Service = BouncerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BouncerService::shared(inner, self.bouncer.clone(), self.requirement.clone())
    }
}
