//! Scripted stages for adapter tests: the request says which outcome each
//! stage produces, so one table can walk an adapter through every reason
//! code, fault and panic without any real scheme or policy.
//!
//! | header | effect |
//! |---|---|
//! | `X-Outcome: <code>` | the stage that owns `<code>` produces it: `blocked_path` / `ip_blocked` / `geo_blocked` in stage 1, any 401 code in stage 2, any other 403 code (and `not_found`) in stage 4; `internal_error` / `service_unavailable` (retry after 1.5 s) from the authenticator |
//! | `X-Outcome: panic` / `guard_panic` | the authenticator / the guard panics |
//! | `Authorization: Bearer <sub>` | authenticates `<sub>` (several field lines are joined with `+`, so a test sees that repeated fields arrive repeated and in order) |
//! | `X-Echo-Peer` | authenticates the TCP peer's IP address as the subject |
//! | `X-Member-Of: <org>` | the caller is a member of `<org>`; a route naming another organization is `tenant_mismatch` |
//!
//! Resource id `missing` does not exist (404).
//!
//! ```
//! use bouncer_test::scripted;
//!
//! let gate = scripted::gate();
//! # let _ = gate;
//! ```

use std::time::Duration;

use async_trait::async_trait;
use bouncer_core::challenge::BearerError;
use bouncer_core::{
    AccessError, Authenticated, Authenticator, AuthnError, Authorizer, Challenge, ChallengeContext,
    Code, Fault, Forbidden, Gate, Identity, RequestContext, RequestGuard, Requirement, SchemeName,
};

fn outcome(r: &RequestContext<'_>) -> Option<String> {
    r.headers()
        .get("x-outcome")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A gate with the three scripted stages (realm `adapter`).
pub fn gate() -> Gate {
    Gate::builder()
        .guard(ScriptedGuard)
        .authenticator(ScriptedAuthenticator)
        .authorizer(ScriptedAuthorizer)
        .build()
}

/// Stage 2: Bearer, with RFC 6750 challenges in realm `adapter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScriptedAuthenticator;

#[async_trait]
impl Authenticator for ScriptedAuthenticator {
    fn scheme(&self) -> SchemeName {
        SchemeName::BEARER
    }

    fn recognizes(&self, r: &RequestContext<'_>) -> bool {
        r.headers().contains_key("authorization") || r.headers().contains_key("x-echo-peer")
    }

    #[allow(clippy::panic)] // scripted on purpose
    async fn authenticate(&self, r: &RequestContext<'_>) -> Result<Option<Identity>, AuthnError> {
        if let Some(code) = outcome(r) {
            match (Code::parse(&code), code.as_str()) {
                (Some(Code::Authn(reason)), _) => return Err(reason.into()),
                (Some(Code::InternalError), _) => {
                    return Err(Fault::internal_msg("scripted bug").into())
                }
                (Some(Code::ServiceUnavailable), _) => {
                    return Err(Fault::unavailable(
                        "scripted store",
                        Duration::from_millis(1500),
                        "down",
                    )
                    .into())
                }
                (_, "panic") => panic!("scripted authenticator bug"),
                _ => {}
            }
        }
        if r.headers().contains_key("x-echo-peer") {
            let peer = r.peer().map_or("none".to_owned(), |p| p.ip().to_string());
            return Ok(Some(Identity::user(peer, SchemeName::BEARER)));
        }
        let sub = r
            .headers()
            .get_all("authorization")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .map(|v| v.trim_start_matches("Bearer ").to_owned())
            .collect::<Vec<_>>()
            .join("+");
        Ok(Some(Identity::user(sub, SchemeName::BEARER)))
    }

    fn challenge(&self, e: Option<&ChallengeContext<'_>>) -> Option<Challenge> {
        let mut b = Challenge::bearer().realm("adapter");
        if let Some(e) = e {
            b = b.maybe_error(BearerError::for_reason(e.reason));
            if let Some(s) = e.scope {
                b = b.scope(s);
            }
        }
        b.build().ok()
    }
}

/// Stage 1: `blocked_path`, `ip_blocked`, `geo_blocked`, or a panic.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScriptedGuard;

impl RequestGuard for ScriptedGuard {
    #[allow(clippy::panic)] // scripted on purpose
    fn check(&self, r: &RequestContext<'_>) -> Result<(), AccessError> {
        let code = outcome(r);
        match code.as_deref().map(|c| (Code::parse(c), c)) {
            Some((
                Some(Code::Forbidden(reason)),
                "blocked_path" | "ip_blocked" | "geo_blocked",
            )) => Err(reason.into()),
            Some((_, "guard_panic")) => panic!("scripted guard bug"),
            _ => Ok(()),
        }
    }
}

/// Stage 4: tenant membership from `X-Member-Of`, resource `missing` is
/// 404, and the scripted 403 codes (`insufficient_scope` naming the
/// route's permission).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScriptedAuthorizer;

#[async_trait]
impl Authorizer for ScriptedAuthorizer {
    async fn authorize(
        &self,
        _: &Authenticated,
        r: &RequestContext<'_>,
        req: &Requirement,
    ) -> Result<(), AccessError> {
        if let Some(org) = req.organization_id() {
            let member = r.headers().get("x-member-of").and_then(|v| v.to_str().ok());
            if member != Some(org) {
                return Err(bouncer_core::ForbiddenReason::TenantMismatch.into());
            }
        }
        if req.resource_id() == Some("missing") {
            return Err(AccessError::NotFound);
        }
        match outcome(r).as_deref().and_then(Code::parse) {
            Some(Code::Forbidden(bouncer_core::ForbiddenReason::InsufficientScope)) => Err(
                Forbidden::insufficient_scope(req.required_permission().unwrap_or("x").to_owned())
                    .into(),
            ),
            Some(Code::NotFound) => Err(AccessError::NotFound),
            Some(Code::Forbidden(reason)) => Err(reason.into()),
            _ => Ok(()),
        }
    }
}
