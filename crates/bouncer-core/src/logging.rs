//! One `tracing` event per decision, shared by every adapter (feature
//! `tracing`), so the logs of an axum and an actix-web deployment read the
//! same.
//!
//! Events have target `bouncer` and carry the method, the path, the
//! decision, the status and reason code of a denial, the deciding stage and
//! the [`Trace`](crate::Trace); an allowed request carries its subject.
//! Never a credential.
//!
//! | event | level |
//! |---|---|
//! | allowed | `DEBUG` |
//! | denied (401, 403, 404, 429) | `INFO` |
//! | a stage faulted (500, 503) | `WARN`, with the fault's text |
//! | the adapter could not decide (a panicking stage, a route set up wrong) | `ERROR` |

use http::Method;

use crate::gate::{Stage, StageOutcome, Verdict};
use crate::outcome::{Decision, Denial};

/// Logs one decision: stage, code, subject. Never a credential.
pub fn verdict(method: &Method, path: &str, verdict: &Verdict) {
    let trace = verdict.trace();
    let stage = trace.deciding_stage().map_or("none", Stage::as_str);
    match verdict.decision() {
        Decision::Allow(caller) => {
            let subject = caller.authenticated().map(|a| a.subject()).unwrap_or("-");
            tracing::debug!(target: "bouncer", %method, path, decision = "allow", subject, trace = %trace);
        }
        Decision::Deny(d) => {
            let status = d.status().as_u16();
            let code = d.code().as_str();
            let faulted = matches!(
                trace.deciding_stage().map(|s| trace.outcome(s)),
                Some(StageOutcome::Faulted(_))
            );
            if faulted {
                let error = match d {
                    Denial::Fault(f) => f.to_string(),
                    _ => String::new(),
                };
                tracing::warn!(target: "bouncer", %method, path, decision = "deny", status, code, stage, error, trace = %trace);
            } else {
                tracing::info!(target: "bouncer", %method, path, decision = "deny", status, code, stage, trace = %trace);
            }
        }
    }
}

/// Logs that the adapter could not decide (`error` names why: a stage
/// panicked, a route's path parameter is missing); the request is
/// answered 500.
pub fn undecided(error: &str) {
    tracing::error!(target: "bouncer", error, "bouncer could not decide");
}
