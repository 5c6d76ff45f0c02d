//! Core's one event per decision (`bouncer_core::logging`, target
//! `bouncer`): the method path, the decision, the status and code of a
//! denial, the deciding stage and the trace; an allowed call carries its
//! subject. Never a credential. A gRPC call is a `POST`.

use bouncer_core::Verdict;
use http::Method;

pub(crate) fn verdict(path: &str, verdict: &Verdict) {
    bouncer_core::logging::verdict(&Method::POST, path, verdict);
}

pub(crate) fn undecided(error: &str) {
    bouncer_core::logging::undecided(error);
}
