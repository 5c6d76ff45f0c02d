//! The one renderer: a [`Denial`] as the status, header fields and body
//! bytes every adapter sends.
//!
//! `http-contract.md` §6 asks for the same answer on every adapter — the
//! same status, the same `WWW-Authenticate` field values in the same
//! order, the same `Retry-After`, byte-identical problem bodies. So no
//! adapter builds a denial response itself: each calls
//! [`Denial::render`] and copies the parts into its own response type
//! (axum's `Response`, actix-web's `HttpResponse`, gRPC metadata, an
//! Envoy `DeniedHttpResponse`).
//!
//! ```
//! use bouncer_core::{Denial, ForbiddenReason, render::RenderOptions};
//!
//! let denial = Denial::from(ForbiddenReason::TenantMismatch);
//! let rendered = denial.render(&RenderOptions::new().instance("urn:bouncer:decision:42"));
//! assert_eq!(rendered.status().as_u16(), 403);
//! assert_eq!(rendered.headers()["content-type"], "application/problem+json");
//! assert_eq!(rendered.headers()["cache-control"], "no-store");
//! let body: serde_json::Value = serde_json::from_slice(rendered.body())?;
//! assert_eq!(body["code"], "tenant_mismatch");
//! assert_eq!(body["instance"], "urn:bouncer:decision:42");
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::time::Duration;

use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::outcome::Denial;
use crate::problem::{Problem, PROBLEM_JSON};
use crate::reason::Code;

/// How a denial is rendered. The defaults are the contract's: `detail` in
/// the body, no `instance`.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    expose_detail: bool,
    instance: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl RenderOptions {
    /// The defaults: `detail` in the body, no `instance`.
    pub const fn new() -> Self {
        Self {
            expose_detail: true,
            instance: None,
        }
    }

    /// Keeps `detail` out of the body (only `type`, `title`, `status`,
    /// `code`, and `instance` when set).
    pub fn without_detail(mut self) -> Self {
        self.expose_detail = false;
        self
    }

    /// Sets or clears whether `detail` is sent.
    pub fn expose_detail(mut self, expose: bool) -> Self {
        self.expose_detail = expose;
        self
    }

    /// Names this occurrence in the body's `instance` (a decision id).
    pub fn instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Whether `detail` is sent.
    pub fn exposes_detail(&self) -> bool {
        self.expose_detail
    }
}

/// Splits a rendered problem body into its decision id (`instance`:
/// `urn:bouncer:decision:<id>`) and the body without that member — the
/// bytes that are the same on every adapter (`http-contract.md` §6).
/// `None` when the body names no well-formed decision id.
///
/// ```
/// use bouncer_core::{Denial, DecisionId, ForbiddenReason, render::{split_instance, RenderOptions}};
///
/// let id = DecisionId::new();
/// let denial = Denial::from(ForbiddenReason::NotShared);
/// let named = denial.render(&RenderOptions::new().instance(id.urn()));
/// let plain = denial.render(&RenderOptions::new());
/// assert_eq!(split_instance(named.body()), Some((id, plain.body().to_vec())));
/// assert_eq!(split_instance(plain.body()), None);
/// ```
pub fn split_instance(body: &[u8]) -> Option<(crate::DecisionId, Vec<u8>)> {
    const NEEDLE: &[u8] = b"\"instance\":\"urn:bouncer:decision:";
    let at = body.windows(NEEDLE.len()).position(|w| w == NEEDLE)?;
    let id_start = at + NEEDLE.len();
    let id_end = id_start + 22;
    let id = crate::DecisionId::parse(std::str::from_utf8(body.get(id_start..id_end)?).ok()?)?;
    if body.get(id_end) != Some(&b'"') {
        return None;
    }
    let end = id_end + 1;
    let (from, to) = if at > 0 && body.get(at - 1) == Some(&b',') {
        (at - 1, end)
    } else if body.get(end) == Some(&b',') {
        (at, end + 1)
    } else {
        (at, end)
    };
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(body.get(..from)?);
    out.extend_from_slice(body.get(to..)?);
    Some((id, out))
}

/// `Retry-After` as delay-seconds (RFC 9110 §10.2.3): whole seconds,
/// rounded up, at least one.
pub fn retry_after_secs(after: Duration) -> u64 {
    (after.as_secs() + u64::from(after.subsec_nanos() > 0)).max(1)
}

/// A denial rendered for the wire.
#[derive(Debug, Clone)]
pub struct Rendered {
    status: StatusCode,
    code: Code,
    headers: HeaderMap,
    problem: Problem,
    body: Vec<u8>,
}

impl Rendered {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code in the body.
    pub fn code(&self) -> Code {
        self.code
    }

    /// Every header field to send: `content-type`, `cache-control:
    /// no-store`, one `www-authenticate` field line per challenge (in the
    /// gate's order), the denial's own fields ([`Denial::headers`], such
    /// as `DPoP-Nonce`), and `retry-after` for 429 and 503.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `WWW-Authenticate` field values, in order.
    pub fn www_authenticate(&self) -> impl Iterator<Item = &HeaderValue> {
        self.headers.get_all(WWW_AUTHENTICATE).iter()
    }

    /// The `Retry-After` seconds, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }

    /// The problem details object the body holds.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The `application/problem+json` body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Status, header fields and body, to move into a framework's
    /// response.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Vec<u8>) {
        (self.status, self.headers, self.body)
    }

    /// As an `http::Response`.
    pub fn into_response(self) -> http::Response<Vec<u8>> {
        let mut res = http::Response::new(self.body);
        *res.status_mut() = self.status;
        *res.headers_mut() = self.headers;
        res
    }
}

impl Denial {
    /// Renders this denial: the one way every adapter answers.
    pub fn render(&self, options: &RenderOptions) -> Rendered {
        let mut problem = self.problem(options.expose_detail);
        if let Some(instance) = &options.instance {
            problem = problem.with_instance(instance.clone());
        }
        let body = problem.to_json();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        // Denials depend on credentials: never cache them.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for challenge in self.challenges() {
            headers.append(WWW_AUTHENTICATE, challenge.to_header_value());
        }
        for (name, value) in self.headers() {
            // The fields the renderer writes itself are not a scheme's to
            // add to or contradict.
            let owned = [
                CONTENT_TYPE,
                CONTENT_LENGTH,
                CACHE_CONTROL,
                WWW_AUTHENTICATE,
                RETRY_AFTER,
            ];
            if !owned.contains(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        if let Some(after) = self.retry_after() {
            headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_secs(after)));
        }
        Rendered {
            status: self.status(),
            code: self.code(),
            headers,
            problem,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fault;

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        for (d, s) in [
            (Duration::ZERO, 1),
            (Duration::from_millis(10), 1),
            (Duration::from_secs(1), 1),
            (Duration::from_millis(1500), 2),
            (Duration::from_secs(30), 30),
        ] {
            assert_eq!(retry_after_secs(d), s, "{d:?}");
        }
    }

    #[test]
    fn faults_carry_retry_after_only_when_unavailable() {
        let down = Denial::Fault(Fault::unavailable(
            "redis",
            Duration::from_secs(3),
            std::io::Error::other("down"),
        ));
        let r = down.render(&RenderOptions::new());
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.retry_after(), Some(3));
        assert_eq!(r.www_authenticate().count(), 0);
        let bug = Denial::Fault(Fault::internal_msg("bug")).render(&RenderOptions::new());
        assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(bug.retry_after(), None);
        assert_eq!(bug.code(), Code::InternalError);
    }

    #[test]
    fn a_401s_own_header_fields_are_sent() {
        use crate::outcome::{Unauthenticated, UnauthenticatedDenial};
        use crate::reason::AuthnReason;
        let nonce = http::HeaderName::from_static("dpop-nonce");
        let rejection = Unauthenticated::new(AuthnReason::InvalidToken)
            .with_error_code("use_dpop_nonce")
            .with_header(nonce.clone(), HeaderValue::from_static("n-1"));
        let d = Denial::Unauthenticated(Box::new(UnauthenticatedDenial {
            unauthenticated: rejection,
            status: StatusCode::UNAUTHORIZED,
            challenges: vec![crate::Challenge::bare("DPoP")],
        }));
        let r = d.render(&RenderOptions::new());
        assert_eq!(r.headers()[&nonce], "n-1");
        assert_eq!(r.www_authenticate().count(), 1);
        assert_eq!(r.code().as_str(), "invalid_token");
        // A scheme cannot add to the fields the renderer owns.
        let sneaky = Unauthenticated::new(AuthnReason::InvalidToken)
            .with_header(CONTENT_TYPE, HeaderValue::from_static("text/html"))
            .with_header(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"x\""),
            );
        let d2 = Denial::Unauthenticated(Box::new(UnauthenticatedDenial {
            unauthenticated: sneaky,
            status: StatusCode::UNAUTHORIZED,
            challenges: vec![crate::Challenge::bare("DPoP")],
        }));
        let r2 = d2.render(&RenderOptions::new());
        assert_eq!(r2.headers().get_all(CONTENT_TYPE).iter().count(), 1);
        assert_eq!(r2.www_authenticate().count(), 1);
        // Nothing else carries them.
        let f = Denial::from(crate::ForbiddenReason::NotShared).render(&RenderOptions::new());
        assert!(f.headers().get(&nonce).is_none());
    }

    #[test]
    fn detail_and_instance_are_options() {
        let d = Denial::Fault(Fault::misconfigured("no authorizer"));
        let plain: serde_json::Value =
            serde_json::from_slice(d.render(&RenderOptions::new()).body()).unwrap();
        assert_eq!(plain["detail"], "an internal error occurred");
        assert!(plain.get("instance").is_none());
        let opts = RenderOptions::new().without_detail().instance("urn:x:1");
        let terse: serde_json::Value = serde_json::from_slice(d.render(&opts).body()).unwrap();
        assert!(terse.get("detail").is_none());
        assert_eq!(terse["instance"], "urn:x:1");
        assert_eq!(terse["code"], "internal_error");
        // The misconfiguration never reaches the caller.
        assert!(!String::from_utf8_lossy(d.render(&opts).body()).contains("authorizer"));
    }
}
