//! Envoy's gRPC `ext_authz`: `envoy.service.auth.v3.Authorization/Check`.
//!
//! The original request is `attributes.request.http` (method, path with
//! query, headers — from `header_map` when Envoy sends raw headers, else
//! the `headers` map), its client `attributes.source.address`; both are
//! believed only when the gRPC peer is a trusted proxy. The answer:
//!
//! - allow: `OkHttpResponse` setting the identity headers (overwriting a
//!   client's copy) and removing the ones this caller has none of;
//! - deny: `DeniedHttpResponse` with the rendered status, every header of
//!   the rendered denial (`WWW-Authenticate` appended once per challenge,
//!   `Retry-After`, `content-type`, `cache-control`) and the problem body;
//!   `status` carries the gRPC code of the same decision
//!   (`UNAUTHENTICATED`, `PERMISSION_DENIED`, `UNAVAILABLE`, `INTERNAL`,
//!   `NOT_FOUND`), never a bare 403.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bouncer_core::render::Rendered;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::original::{self, Original, Refusal};
use super::service::{refusal, Answer, IdentityHeaders, Service};

/// The Envoy and googleapis messages of `proto/`, compiled by protox and
/// tonic-prost-build into `generated/` (checked in, so no build step needs
/// a protobuf compiler; `tests/generated_code.rs` keeps them current).
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::bare_urls
)]
pub(crate) mod proto {
    pub mod envoy {
        pub mod config {
            pub mod core {
                pub mod v3 {
                    include!("generated/envoy.config.core.v3.rs");
                }
            }
        }
        pub mod r#type {
            pub mod v3 {
                include!("generated/envoy.type.v3.rs");
            }
        }
        pub mod service {
            pub mod auth {
                pub mod v3 {
                    include!("generated/envoy.service.auth.v3.rs");
                }
            }
        }
    }
    pub mod google {
        pub mod rpc {
            include!("generated/google.rpc.rs");
        }
    }
}

use proto::envoy::config::core::v3 as core;
use proto::envoy::config::core::v3::header_value_option::HeaderAppendAction;
use proto::envoy::service::auth::v3 as auth;
use proto::envoy::service::auth::v3::authorization_server::{Authorization, AuthorizationServer};
use proto::envoy::service::auth::v3::check_response::HttpResponse;

/// gRPC status codes (`google.rpc.Code`).
mod code {
    pub(super) const OK: i32 = 0;
    pub(super) const UNKNOWN: i32 = 2;
    pub(super) const INVALID_ARGUMENT: i32 = 3;
    pub(super) const NOT_FOUND: i32 = 5;
    pub(super) const PERMISSION_DENIED: i32 = 7;
    pub(super) const RESOURCE_EXHAUSTED: i32 = 8;
    pub(super) const INTERNAL: i32 = 13;
    pub(super) const UNAVAILABLE: i32 = 14;
    pub(super) const UNAUTHENTICATED: i32 = 16;
}

/// The gRPC code of an HTTP status (`grpc-contract.md` §1).
fn grpc_code(status: u16) -> i32 {
    match status {
        200..=299 => code::OK,
        400 => code::INVALID_ARGUMENT,
        401 => code::UNAUTHENTICATED,
        403 => code::PERMISSION_DENIED,
        404 => code::NOT_FOUND,
        429 => code::RESOURCE_EXHAUSTED,
        500 => code::INTERNAL,
        503 => code::UNAVAILABLE,
        _ => code::UNKNOWN,
    }
}

/// The `Check` service.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    service: Arc<Service>,
}

impl Check {
    /// The service for a tonic server.
    pub(crate) fn server(service: Arc<Service>) -> AuthorizationServer<Self> {
        AuthorizationServer::new(Self { service })
    }

    /// The answer to one check from `remote` (the gRPC peer).
    pub(crate) async fn answer(
        &self,
        remote: Option<SocketAddr>,
        request: auth::CheckRequest,
    ) -> auth::CheckResponse {
        let original = match describe(&self.service, remote, request) {
            Ok(o) => o,
            Err(r) => {
                let ctx = bouncer_core::logging::DecisionContext::default();
                return denied(&self.service.refuse(&refusal(r), &ctx));
            }
        };
        match self.service.decide(&original).await {
            Answer::Allow(identity) => ok(&identity),
            Answer::Deny(denial, id) => denied(&self.service.render(&denial, &id)),
        }
    }
}

#[tonic::async_trait]
impl Authorization for Check {
    async fn check(
        &self,
        request: tonic::Request<auth::CheckRequest>,
    ) -> Result<tonic::Response<auth::CheckResponse>, tonic::Status> {
        let remote = request.remote_addr();
        Ok(tonic::Response::new(
            self.answer(remote, request.into_inner()).await,
        ))
    }
}

fn socket_address(peer: Option<&auth::attribute_context::Peer>) -> Option<SocketAddr> {
    let address = peer?.address.as_ref()?.address.as_ref()?;
    let core::address::Address::SocketAddress(sa) = address else {
        return None;
    };
    let ip: IpAddr = sa.address.parse().ok()?;
    let port = match sa.port_specifier {
        Some(core::socket_address::PortSpecifier::PortValue(p)) => u16::try_from(p).ok()?,
        _ => 0,
    };
    Some(SocketAddr::new(ip, port))
}

fn headers_of(http: &auth::attribute_context::HttpRequest) -> Result<HeaderMap, Refusal> {
    let bad = Refusal::Unusable("a header of the check request cannot be read");
    let mut out = HeaderMap::new();
    let mut add = |name: &str, value: &[u8]| -> Result<(), Refusal> {
        if name.starts_with(':') {
            return Ok(()); // HTTP/2 pseudo-headers: method and path are read apart
        }
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad)?;
        let value = HeaderValue::from_bytes(value).map_err(|_| bad)?;
        out.append(name, value);
        Ok(())
    };
    match &http.header_map {
        Some(map) if !map.headers.is_empty() => {
            for h in &map.headers {
                let value = if h.raw_value.is_empty() {
                    h.value.as_bytes()
                } else {
                    &h.raw_value
                };
                add(&h.key, value)?;
            }
        }
        _ => {
            for (k, v) in &http.headers {
                add(k, v.as_bytes())?;
            }
        }
    }
    Ok(out)
}

/// The original request of a check, from a trusted gRPC peer only.
fn describe(
    service: &Service,
    remote: Option<SocketAddr>,
    request: auth::CheckRequest,
) -> Result<Original, Refusal> {
    match remote {
        Some(peer) if original::is_trusted(&service.trust, peer.ip()) => {}
        _ => return Err(Refusal::Untrusted),
    }
    let attributes = request
        .attributes
        .ok_or(Refusal::Unusable("the check request has no attributes"))?;
    let http = attributes
        .request
        .as_ref()
        .and_then(|r| r.http.as_ref())
        .ok_or(Refusal::Unusable("the check request has no HTTP request"))?;
    let method: Method = original::method(&http.method)?;
    let uri = original::target(&http.path)?;
    Ok(Original {
        method,
        uri,
        headers: headers_of(http)?,
        peer: socket_address(attributes.source.as_ref()),
    })
}

fn header(name: &str, value: &HeaderValue, action: HeaderAppendAction) -> core::HeaderValueOption {
    let (value, raw_value) = match value.to_str() {
        Ok(s) => (s.to_owned(), Vec::new()),
        Err(_) => (String::new(), value.as_bytes().to_vec()),
    };
    core::HeaderValueOption {
        header: Some(core::HeaderValue {
            key: name.to_owned(),
            value,
            raw_value,
        }),
        append: None,
        append_action: action as i32,
        keep_empty_value: false,
    }
}

fn status(code: i32, message: &str) -> proto::google::rpc::Status {
    proto::google::rpc::Status {
        code,
        message: message.to_owned(),
        details: Vec::new(),
    }
}

fn ok(identity: &IdentityHeaders) -> auth::CheckResponse {
    auth::CheckResponse {
        status: Some(status(code::OK, "")),
        http_response: Some(HttpResponse::OkResponse(auth::OkHttpResponse {
            headers: identity
                .values
                .iter()
                .map(|(n, v)| header(n.as_str(), v, HeaderAppendAction::OverwriteIfExistsOrAdd))
                .collect(),
            headers_to_remove: identity.absent().map(str::to_owned).collect(),
            response_headers_to_add: Vec::new(),
        })),
    }
}

fn denied(rendered: &Rendered) -> auth::CheckResponse {
    let http_status = rendered.status().as_u16();
    let headers = rendered
        .headers()
        .iter()
        .map(|(name, value)| {
            let action = if *name == WWW_AUTHENTICATE {
                HeaderAppendAction::AppendIfExistsOrAdd
            } else {
                HeaderAppendAction::OverwriteIfExistsOrAdd
            };
            header(name.as_str(), value, action)
        })
        .collect();
    auth::CheckResponse {
        status: Some(status(grpc_code(http_status), rendered.code().as_str())),
        http_response: Some(HttpResponse::DeniedResponse(auth::DeniedHttpResponse {
            status: Some(proto::envoy::r#type::v3::HttpStatus {
                code: i32::from(http_status),
            }),
            headers,
            body: String::from_utf8_lossy(rendered.body()).into_owned(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bouncer_core::render::RenderOptions;
    use bouncer_core::{Challenge, Denial, Fault, ForbiddenReason};
    use std::time::Duration;

    fn service() -> Arc<Service> {
        use super::super::routes::{Pattern, Route, RouteTable};
        use bouncer_authz::{ClientIpResolver, ForwardingSource};
        use bouncer_core::route::RouteRequirement;
        Arc::new(Service {
            gate: bouncer_core::Gate::builder().build(),
            routes: RouteTable::new(vec![Route::new(
                None,
                Pattern::parse("/public").unwrap(),
                RouteRequirement::public(),
            )]),
            trust: ClientIpResolver::new(
                vec!["127.0.0.0/8".parse().unwrap()],
                ForwardingSource::XForwardedFor,
            ),
            render: RenderOptions::new(),
            sessions: None,
            revocations: None,
        })
    }

    fn check(path: &str) -> auth::CheckRequest {
        auth::CheckRequest {
            attributes: Some(auth::AttributeContext {
                request: Some(auth::attribute_context::Request {
                    http: Some(auth::attribute_context::HttpRequest {
                        method: "GET".into(),
                        path: path.into(),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            }),
        }
    }

    fn denied_status(r: &auth::CheckResponse) -> (i32, i32, String) {
        let Some(HttpResponse::DeniedResponse(d)) = &r.http_response else {
            panic!("not denied: {r:?}")
        };
        let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
        (
            r.status.as_ref().unwrap().code,
            d.status.as_ref().unwrap().code,
            body["code"].as_str().unwrap().to_owned(),
        )
    }

    #[tokio::test]
    async fn only_a_trusted_peer_is_believed() {
        let c = Check { service: service() };
        for remote in [None, Some("198.51.100.7:5000".parse().unwrap())] {
            let r = c.answer(remote, check("/public")).await;
            assert_eq!(denied_status(&r), (7, 403, "ip_blocked".into()));
        }
        let trusted = Some("127.0.0.1:5000".parse().unwrap());
        let r = c.answer(trusted, check("/public")).await;
        let Some(HttpResponse::OkResponse(ok)) = &r.http_response else {
            panic!("{r:?}")
        };
        assert!(ok.headers.is_empty(), "an anonymous caller has no identity");
        assert_eq!(ok.headers_to_remove.len(), 3);
        assert_eq!(r.status.unwrap().code, 0);
        let r = c.answer(trusted, check("/elsewhere")).await;
        assert_eq!(denied_status(&r), (5, 404, "not_found".into()));
        let r = c.answer(trusted, auth::CheckRequest::default()).await;
        assert_eq!(denied_status(&r), (13, 500, "internal_error".into()));
        let r = c.answer(trusted, check("no-slash")).await;
        assert_eq!(denied_status(&r), (13, 500, "internal_error".into()));
    }

    #[test]
    fn codes_follow_the_grpc_contract() {
        assert_eq!(grpc_code(401), 16);
        assert_eq!(grpc_code(403), 7);
        assert_eq!(grpc_code(503), 14);
        assert_eq!(grpc_code(500), 13);
        assert_eq!(grpc_code(404), 5);
        assert_eq!(grpc_code(200), 0);
    }

    #[test]
    fn a_denial_carries_status_every_header_and_the_body() {
        let down = Denial::Fault(Fault::unavailable(
            "redis",
            Duration::from_secs(2),
            std::io::Error::other("down"),
        ));
        let rendered = down.render(&RenderOptions::new());
        let r = denied(&rendered);
        assert_eq!(r.status.as_ref().unwrap().code, 14);
        let Some(HttpResponse::DeniedResponse(d)) = r.http_response else {
            panic!("not denied")
        };
        assert_eq!(d.status.unwrap().code, 503);
        assert_eq!(d.body.as_bytes(), rendered.body());
        let names: Vec<_> = d
            .headers
            .iter()
            .map(|h| h.header.as_ref().unwrap().key.clone())
            .collect();
        assert!(names.contains(&"retry-after".to_owned()), "{names:?}");
        assert!(names.contains(&"content-type".to_owned()), "{names:?}");

        let forbidden = Denial::from(ForbiddenReason::TenantMismatch).render(&RenderOptions::new());
        assert_eq!(denied(&forbidden).status.unwrap().code, 7);
    }

    /// A scheme whose 401 carries a field of its own (DPoP's `DPoP-Nonce`).
    struct Nonced;

    #[async_trait::async_trait]
    impl bouncer_core::Authenticator for Nonced {
        fn scheme(&self) -> bouncer_core::SchemeName {
            bouncer_core::SchemeName::from_static("nonced")
        }
        fn recognizes(&self, _: &bouncer_core::RequestContext<'_>) -> bool {
            true
        }
        async fn authenticate(
            &self,
            _: &bouncer_core::RequestContext<'_>,
        ) -> Result<Option<bouncer_core::Identity>, bouncer_core::AuthnError> {
            Err(
                bouncer_core::Unauthenticated::new(bouncer_core::AuthnReason::InvalidToken)
                    .with_header(
                        http::HeaderName::from_static("dpop-nonce"),
                        http::HeaderValue::from_static("n-1"),
                    )
                    .into(),
            )
        }
        fn challenge(&self, _: Option<&bouncer_core::ChallengeContext<'_>>) -> Option<Challenge> {
            None
        }
    }

    #[tokio::test]
    async fn a_401s_own_fields_reach_the_proxy() {
        let gate = bouncer_core::Gate::builder().authenticator(Nonced).build();
        let (parts, ()) = http::Request::get("/x").body(()).unwrap().into_parts();
        let verdict = gate
            .decide(
                &bouncer_core::RequestContext::from_parts(&parts),
                &bouncer_core::Requirement::authenticated(),
            )
            .await;
        let rendered = verdict
            .decision()
            .denial()
            .unwrap()
            .render(&RenderOptions::new());
        let Some(HttpResponse::DeniedResponse(d)) = denied(&rendered).http_response else {
            panic!("not denied")
        };
        let nonce = d
            .headers
            .iter()
            .filter_map(|h| h.header.as_ref())
            .find(|h| h.key == "dpop-nonce")
            .map(|h| h.value.clone());
        assert_eq!(nonce.as_deref(), Some("n-1"));
    }

    #[test]
    fn challenges_are_appended_one_by_one() {
        let mut headers = HeaderMap::new();
        headers.append(
            WWW_AUTHENTICATE,
            Challenge::basic("r").unwrap().to_header_value(),
        );
        let h = header(
            "www-authenticate",
            &headers["www-authenticate"],
            HeaderAppendAction::AppendIfExistsOrAdd,
        );
        assert_eq!(
            h.append_action,
            HeaderAppendAction::AppendIfExistsOrAdd as i32
        );
        assert_eq!(
            h.header.unwrap().value,
            r#"Basic realm="r", charset="UTF-8""#
        );
    }

    #[test]
    fn headers_come_from_the_raw_map_or_the_joined_one() {
        let mut http = auth::attribute_context::HttpRequest::default();
        http.headers.insert(":path".into(), "/me".into());
        http.headers
            .insert("authorization".into(), "Bearer x".into());
        let h = headers_of(&http).unwrap();
        assert_eq!(h["authorization"], "Bearer x");
        assert!(h.get(":path").is_none());
        http.header_map = Some(core::HeaderMap {
            headers: vec![
                core::HeaderValue {
                    key: "authorization".into(),
                    value: String::new(),
                    raw_value: b"Basic a".to_vec(),
                },
                core::HeaderValue {
                    key: "authorization".into(),
                    value: "Basic b".into(),
                    raw_value: Vec::new(),
                },
            ],
        });
        let h = headers_of(&http).unwrap();
        assert_eq!(h.get_all("authorization").iter().count(), 2);
        http.header_map = Some(core::HeaderMap {
            headers: vec![core::HeaderValue {
                key: "bad name".into(),
                value: "x".into(),
                raw_value: Vec::new(),
            }],
        });
        assert!(headers_of(&http).is_err());
    }

    #[test]
    fn the_source_address_is_the_client_peer() {
        let peer = auth::attribute_context::Peer {
            address: Some(core::Address {
                address: Some(core::address::Address::SocketAddress(core::SocketAddress {
                    address: "203.0.113.9".into(),
                    port_specifier: Some(core::socket_address::PortSpecifier::PortValue(4711)),
                    ..Default::default()
                })),
            }),
            ..Default::default()
        };
        assert_eq!(
            socket_address(Some(&peer)),
            Some("203.0.113.9:4711".parse().unwrap())
        );
        assert_eq!(socket_address(None), None);
    }
}
