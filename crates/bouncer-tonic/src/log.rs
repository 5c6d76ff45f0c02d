//! Core's decision log and metrics (`bouncer_core::logging`, target
//! `bouncer::decision`): the decision id, outcome, status, code, deciding
//! stage, subject, and the gRPC method path as the route. Never a
//! credential. A gRPC call is a `POST`.

use std::net::SocketAddr;

use bouncer_core::logging::DecisionContext;
use bouncer_core::{DecisionId, Requirement, Verdict};
use http::Method;

/// Records `verdict` for the call to `path` under a fresh id.
pub(crate) fn verdict(
    path: &str,
    peer: Option<SocketAddr>,
    requirement: Option<&Requirement>,
    verdict: &Verdict,
) -> DecisionId {
    let id = DecisionId::new();
    let method = Method::POST;
    let mut ctx = DecisionContext::new(&method).route(Some(path)).client(peer);
    if let Some(r) = requirement {
        ctx = ctx.requirement(r);
    }
    bouncer_core::logging::decision(&id, verdict, &ctx);
    id
}

/// Records that no decision could be made; the id of the 500.
pub(crate) fn undecided(error: &str) -> DecisionId {
    let id = DecisionId::new();
    let method = Method::POST;
    bouncer_core::logging::undecided(&id, &DecisionContext::new(&method), error);
    id
}
