//! A denial in gRPC's words (`grpc-contract.md` §1), rendered through
//! core's one renderer so the challenges and texts are the HTTP adapter's.
//!
//! | denial | gRPC status | also sent |
//! |---|---|---|
//! | 401 (any reason) | `UNAUTHENTICATED` (16) | `www-authenticate`: the HTTP challenges, one value each, same order; the denial's own fields (`dpop-nonce`) |
//! | 403 (any reason) | `PERMISSION_DENIED` (7) | for `insufficient_scope`, the Bearer challenge with `error="insufficient_scope"` |
//! | 404 (missing resource) | `NOT_FOUND` (5) | |
//! | 429 | `RESOURCE_EXHAUSTED` (8) | `google.rpc.RetryInfo` |
//! | 503 | `UNAVAILABLE` (14) | `google.rpc.RetryInfo` |
//! | 500 | `INTERNAL` (13) | nothing about the cause |
//!
//! `grpc-message` is the problem body's `detail`; `grpc-status-details-bin`
//! a `google.rpc.Status` whose first detail is a `google.rpc.ErrorInfo`
//! (`reason` = the code in upper snake case, `domain` = `"bouncer"`,
//! `metadata` = `{"code": "<code>", "decision_id": "<id>"}`). The decision
//! id is the one an HTTP adapter puts in the problem body's `instance`
//! (`urn:bouncer:decision:<id>`, `explain.md` §1) and the decision log
//! records; gRPC has no problem body, so `ErrorInfo.metadata` carries it.

use std::collections::HashMap;
use std::time::Duration;

use bouncer_core::render::RenderOptions;
use bouncer_core::{Code, Denial};
use http::StatusCode;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic_types::{ErrorDetail, ErrorInfo, RetryInfo, StatusExt as _};

/// The `domain` of every `ErrorInfo` bouncer sends.
pub const DOMAIN: &str = "bouncer";

/// The metadata key of the challenges.
pub const WWW_AUTHENTICATE: &str = "www-authenticate";

/// The gRPC status code of a denial.
pub fn grpc_code(denial: &Denial) -> tonic::Code {
    match denial {
        Denial::Unauthenticated(_) => tonic::Code::Unauthenticated,
        Denial::Forbidden(_) => tonic::Code::PermissionDenied,
        Denial::NotFound => tonic::Code::NotFound,
        Denial::TooManyRequests(_) => tonic::Code::ResourceExhausted,
        other => match other.status() {
            StatusCode::UNAUTHORIZED => tonic::Code::Unauthenticated,
            StatusCode::FORBIDDEN => tonic::Code::PermissionDenied,
            StatusCode::NOT_FOUND => tonic::Code::NotFound,
            StatusCode::TOO_MANY_REQUESTS => tonic::Code::ResourceExhausted,
            StatusCode::SERVICE_UNAVAILABLE => tonic::Code::Unavailable,
            _ => tonic::Code::Internal,
        },
    }
}

/// `token_expired` → `TOKEN_EXPIRED`, the `ErrorInfo.reason` form.
pub fn upper_snake(code: Code) -> String {
    code.as_str().to_ascii_uppercase()
}

/// The [`tonic::Status`] for `denial`: code, message (the problem
/// `detail`, absent when `options` keep it out), `www-authenticate`
/// metadata, and the `google.rpc` details.
pub fn denial_status(denial: &Denial, options: &RenderOptions) -> tonic::Status {
    let rendered = denial.render(options);
    let mut metadata = MetadataMap::new();
    for value in rendered.www_authenticate() {
        // Challenges are plain ASCII (core builds them so).
        if let Some(value) = value
            .to_str()
            .ok()
            .and_then(|v| MetadataValue::try_from(v).ok())
        {
            metadata.append(WWW_AUTHENTICATE, value);
        }
    }
    // The denial's own fields (`DPoP-Nonce`), as metadata of the same name.
    for (name, value) in denial.headers() {
        let key = tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes());
        let value = value
            .to_str()
            .ok()
            .and_then(|v| MetadataValue::try_from(v).ok());
        if let (Ok(key), Some(value)) = (key, value) {
            metadata.append(key, value);
        }
    }
    let code = rendered.code();
    let mut info = HashMap::from([("code".to_owned(), code.as_str().to_owned())]);
    // The decision id, as the problem body's `instance` names it on HTTP.
    if let Some(id) = rendered
        .problem()
        .instance()
        .and_then(bouncer_core::DecisionId::from_urn)
    {
        info.insert("decision_id".to_owned(), id.as_str().to_owned());
    }
    let mut details = vec![ErrorDetail::ErrorInfo(ErrorInfo::new(
        upper_snake(code),
        DOMAIN,
        info,
    ))];
    if let Some(secs) = rendered.retry_after() {
        details.push(ErrorDetail::RetryInfo(RetryInfo::new(Some(
            Duration::from_secs(secs),
        ))));
    }
    let message = rendered.problem().detail().unwrap_or_default().to_owned();
    tonic::Status::with_error_details_vec_and_metadata(
        grpc_code(denial),
        message,
        details,
        metadata,
    )
}

/// A trailers-only response (HTTP/2 200, `content-type:
/// application/grpc`, the status in the headers) for `status`.
pub(crate) fn response<B: Default>(status: tonic::Status) -> http::Response<B> {
    status.into_http()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_core::{
        AuthnReason, Fault, Forbidden, ForbiddenReason, Gate, RequestContext, Requirement,
    };

    #[test]
    fn codes_follow_the_contract() {
        for r in ForbiddenReason::ALL {
            let d = Denial::from(*r);
            assert_eq!(grpc_code(&d), tonic::Code::PermissionDenied, "{r:?}");
        }
        assert_eq!(grpc_code(&Denial::NotFound), tonic::Code::NotFound);
        assert_eq!(
            grpc_code(&Denial::TooManyRequests(Duration::from_secs(1))),
            tonic::Code::ResourceExhausted
        );
        assert_eq!(
            grpc_code(&Denial::Fault(Fault::internal_msg("bug"))),
            tonic::Code::Internal
        );
        let down = Fault::unavailable(
            "redis",
            Duration::from_millis(1500),
            std::io::Error::other("x"),
        );
        assert_eq!(grpc_code(&Denial::Fault(down)), tonic::Code::Unavailable);
        assert_eq!(
            upper_snake(Code::Authn(AuthnReason::TokenExpired)),
            "TOKEN_EXPIRED"
        );
    }

    /// A scheme whose 401 carries a field of its own (as DPoP's
    /// `DPoP-Nonce`).
    struct Nonced;

    #[async_trait::async_trait]
    impl bouncer_core::Authenticator for Nonced {
        fn scheme(&self) -> bouncer_core::SchemeName {
            bouncer_core::SchemeName::from_static("nonced")
        }
        fn recognizes(&self, _: &RequestContext<'_>) -> bool {
            true
        }
        async fn authenticate(
            &self,
            _: &RequestContext<'_>,
        ) -> Result<Option<bouncer_core::Identity>, bouncer_core::AuthnError> {
            Err(
                bouncer_core::Unauthenticated::new(AuthnReason::InvalidToken)
                    .with_header(
                        http::HeaderName::from_static("dpop-nonce"),
                        http::HeaderValue::from_static("n-1"),
                    )
                    .into(),
            )
        }
        fn challenge(
            &self,
            _: Option<&bouncer_core::ChallengeContext<'_>>,
        ) -> Option<bouncer_core::Challenge> {
            None
        }
    }

    #[tokio::test]
    async fn a_401s_own_fields_become_metadata() {
        let gate = Gate::builder().authenticator(Nonced).build();
        let (parts, _) = http::Request::post("/p.S/M").body(()).unwrap().into_parts();
        let verdict = gate
            .decide(
                &RequestContext::from_parts(&parts),
                &Requirement::authenticated(),
            )
            .await;
        let status = denial_status(verdict.decision().denial().unwrap(), &RenderOptions::new());
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert_eq!(status.metadata().get("dpop-nonce").unwrap(), "n-1");
    }

    #[tokio::test]
    async fn a_401_carries_the_http_challenges_and_error_info() {
        let gate = Gate::builder().realm("api").build();
        let req = http::Request::post("/p.S/M").body(()).unwrap();
        let (parts, _) = req.into_parts();
        let verdict = gate
            .decide(
                &RequestContext::from_parts(&parts),
                &Requirement::authenticated(),
            )
            .await;
        let denial = verdict.decision().denial().unwrap();
        let status = denial_status(denial, &RenderOptions::new());
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let rendered = denial.render(&RenderOptions::new());
        assert_eq!(Some(status.message()), rendered.problem().detail());
        let challenges: Vec<_> = status
            .metadata()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let http: Vec<_> = rendered
            .www_authenticate()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(challenges, http);
        assert_eq!(challenges, [r#"Bearer realm="api""#]);
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, "MISSING_CREDENTIALS");
        assert_eq!(info.domain, "bouncer");
        assert_eq!(info.metadata["code"], "missing_credentials");
        assert!(status.get_details_retry_info().is_none());
    }

    #[test]
    fn insufficient_scope_and_unavailable_carry_their_extras() {
        let d = Denial::from(Forbidden::insufficient_scope("documents:read"));
        let s = denial_status(&d, &RenderOptions::new());
        assert_eq!(s.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            s.get_details_error_info().unwrap().reason,
            "INSUFFICIENT_SCOPE"
        );

        let down = Denial::Fault(Fault::unavailable(
            "redis",
            Duration::from_millis(1500),
            std::io::Error::other("connection refused"),
        ));
        let s = denial_status(&down, &RenderOptions::new());
        assert_eq!(s.code(), tonic::Code::Unavailable);
        let retry = s.get_details_retry_info().unwrap();
        assert_eq!(retry.retry_delay, Some(Duration::from_secs(2)));
        assert_eq!(
            s.get_details_error_info().unwrap().metadata["code"],
            "service_unavailable"
        );
        assert!(!s.message().contains("refused"));
    }

    #[test]
    fn the_response_is_trailers_only_and_never_http_401() {
        let s = denial_status(
            &Denial::from(ForbiddenReason::TenantMismatch),
            &RenderOptions::new(),
        );
        let res: http::Response<tonic::body::Body> = response(s);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/grpc");
        assert_eq!(res.headers()["grpc-status"], "7");
        assert!(res.headers()["grpc-message"]
            .to_str()
            .unwrap()
            .contains("%20"));
        let details = res.headers()["grpc-status-details-bin"].to_str().unwrap();
        assert!(!details.ends_with('='), "unpadded base64");
        // Without detail, no message at all.
        let s = denial_status(
            &Denial::from(ForbiddenReason::TenantMismatch),
            &RenderOptions::new().without_detail(),
        );
        assert_eq!(s.message(), "");
    }
}
