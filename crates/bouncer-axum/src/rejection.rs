//! The response for a denial: status, every `WWW-Authenticate` challenge
//! (one field line each), `Retry-After` for 429/503, and an RFC 9457
//! `application/problem+json` body.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bouncer_core::{Denial, PROBLEM_JSON};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::HeaderValue;

/// A denial, ready to be sent. Wraps core's [`Denial`] so it can implement
/// [`IntoResponse`].
#[derive(Debug)]
pub struct BouncerRejection {
    denial: Denial,
    expose_detail: bool,
}

impl BouncerRejection {
    /// A rejection for `denial`, with `detail` in the body.
    pub fn new(denial: Denial) -> Self {
        Self {
            denial,
            expose_detail: true,
        }
    }

    /// Keeps `detail` out of the body (only `type`, `title`, `status`,
    /// `code`).
    pub fn without_detail(mut self) -> Self {
        self.expose_detail = false;
        self
    }

    /// The denial.
    pub fn denial(&self) -> &Denial {
        &self.denial
    }

    /// Back to the denial.
    pub fn into_denial(self) -> Denial {
        self.denial
    }
}

impl From<Denial> for BouncerRejection {
    fn from(denial: Denial) -> Self {
        Self::new(denial)
    }
}

impl IntoResponse for BouncerRejection {
    fn into_response(self) -> Response {
        let problem = self.denial.problem(self.expose_detail);
        let mut res = Response::new(Body::from(problem.to_json()));
        *res.status_mut() = self.denial.status();
        let headers = res.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        // Denials depend on credentials: never cache them.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for challenge in self.denial.challenges() {
            headers.append(WWW_AUTHENTICATE, challenge.to_header_value());
        }
        if let Some(after) = self.denial.retry_after() {
            // Whole seconds, at least one (RFC 9110 §10.2.3 delay-seconds).
            let secs = after.as_secs().max(1) + u64::from(after.subsec_nanos() > 0);
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
