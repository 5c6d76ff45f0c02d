//! The response for a denial, rendered by core's one renderer
//! ([`bouncer_core::render`]) so actix-web sends the same bytes as every
//! other adapter: status, every `WWW-Authenticate` challenge (one field
//! line each, in the gate's order), `Retry-After` for 429/503,
//! `cache-control: no-store`, and an RFC 9457 `application/problem+json`
//! body.

use std::fmt;

use actix_web::body::BoxBody;
use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, ResponseError};
use bouncer_core::render::{RenderOptions, Rendered};
use bouncer_core::{Denial, Fault, Forbidden, ForbiddenReason, PROBLEM_JSON};

/// A denial, ready to be sent. Wraps core's [`Denial`] so it can implement
/// [`ResponseError`]: return it from a handler (`Result<_, BouncerRejection>`)
/// or from an extractor, and actix-web answers exactly as the middleware
/// would.
#[derive(Debug)]
pub struct BouncerRejection {
    denial: Denial,
    options: RenderOptions,
}

impl BouncerRejection {
    /// A rejection for `denial`, with `detail` in the body.
    pub fn new(denial: Denial) -> Self {
        Self {
            denial,
            options: RenderOptions::new(),
        }
    }

    /// Keeps `detail` out of the body (only `type`, `title`, `status`,
    /// `code`).
    pub fn without_detail(mut self) -> Self {
        self.options = self.options.without_detail();
        self
    }

    /// Renders with these options (e.g. an `instance` naming the decision).
    pub fn with_options(mut self, options: RenderOptions) -> Self {
        self.options = options;
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

    /// The parts core's renderer makes of it.
    pub fn render(&self) -> Rendered {
        self.denial.render(&self.options)
    }

    /// The actix-web response.
    pub fn to_response(&self) -> HttpResponse {
        let (status, headers, body) = self.render().into_parts();
        crate::convert::response(status, &headers, body).unwrap_or_else(|_| last_resort())
    }
}

/// The internal-error answer, built from constants only: used if a rendered
/// denial could not be copied into an actix-web response (which cannot
/// happen: both `http` versions accept the same bytes).
fn last_resort() -> HttpResponse {
    let rendered =
        Denial::Fault(Fault::internal_msg("bouncer response failed")).render(&RenderOptions::new());
    HttpResponse::InternalServerError()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(rendered.body().to_vec())
}

impl fmt::Display for BouncerRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.denial.fmt(f)
    }
}

impl std::error::Error for BouncerRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.denial)
    }
}

impl ResponseError for BouncerRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.denial.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        self.to_response()
    }
}

impl From<Denial> for BouncerRejection {
    fn from(denial: Denial) -> Self {
        Self::new(denial)
    }
}

impl From<Fault> for BouncerRejection {
    fn from(fault: Fault) -> Self {
        Self::new(Denial::Fault(fault))
    }
}

impl From<Forbidden> for BouncerRejection {
    fn from(forbidden: Forbidden) -> Self {
        Self::new(Denial::forbidden(forbidden))
    }
}

impl From<ForbiddenReason> for BouncerRejection {
    fn from(reason: ForbiddenReason) -> Self {
        Self::new(Denial::from(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn same_as_core(r: &BouncerRejection) {
        let rendered = r.render();
        let res = r.to_response();
        assert_eq!(res.status().as_u16(), rendered.status().as_u16());
        for (name, value) in rendered.headers() {
            let got: Vec<_> = res
                .headers()
                .get_all(name.as_str())
                .map(|v| v.as_bytes())
                .collect();
            let want: Vec<_> = rendered
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            assert_eq!(got, want, "{name}: {value:?}");
        }
        assert_eq!(res.headers().len(), rendered.headers().len());
        let body = actix_web::body::to_bytes(res.into_body());
        let body = futures_util::FutureExt::now_or_never(body)
            .unwrap()
            .unwrap();
        assert_eq!(&body[..], rendered.body());
    }

    #[test]
    fn the_response_is_cores_rendering() {
        for r in [
            BouncerRejection::from(ForbiddenReason::TenantMismatch),
            BouncerRejection::from(Forbidden::insufficient_scope("documents:write")),
            BouncerRejection::from(Fault::internal_msg("bug")),
            BouncerRejection::from(Fault::unavailable(
                "redis",
                Duration::from_millis(1500),
                "down",
            )),
            BouncerRejection::from(ForbiddenReason::BlockedPath).without_detail(),
            BouncerRejection::new(Denial::NotFound)
                .with_options(RenderOptions::new().instance("urn:bouncer:decision:1")),
        ] {
            same_as_core(&r);
        }
    }

    #[test]
    fn faults_are_500_and_503_with_retry_after() {
        let down =
            BouncerRejection::from(Fault::unavailable("redis", Duration::from_secs(3), "down"));
        assert_eq!(down.status_code(), 503);
        assert_eq!(
            down.error_response().headers().get("retry-after").unwrap(),
            "3"
        );
        let bug = BouncerRejection::from(Fault::internal_msg("bug"));
        assert_eq!(bug.status_code(), 500);
        assert!(!bug.error_response().headers().contains_key("retry-after"));
        assert_eq!(
            bug.to_string(),
            Denial::Fault(Fault::internal_msg("bug")).to_string()
        );
    }

    #[test]
    fn the_last_resort_is_a_problem_too() {
        let res = last_resort();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers().get("content-type").unwrap(), PROBLEM_JSON);
    }
}
