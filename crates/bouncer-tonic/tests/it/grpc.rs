//! The contract of `grpc-contract.md` §1 over a real loopback server.

use std::net::SocketAddr;
use std::str::FromStr as _;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use bouncer_core::render::RenderOptions;
use bouncer_core::RequestContext;
use bouncer_tonic::BouncerLayer;
use http::uri::PathAndQuery;
use http_body_util::BodyExt as _;
use prost::Message as _;
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt as _;
use tower::ServiceExt as _;

use crate::pb::{DocRequest, Reply};
use crate::support::{self, path};

async fn unary(
    ch: &Channel,
    method: &str,
    headers: &[(&str, &str)],
    message: DocRequest,
) -> Result<Reply, Status> {
    let mut grpc = tonic::client::Grpc::new(ch.clone());
    grpc.ready().await.unwrap();
    let mut req = Request::new(message);
    for (k, v) in headers {
        req.metadata_mut().append(
            MetadataKey::from_bytes(k.as_bytes()).unwrap(),
            MetadataValue::try_from(*v).unwrap(),
        );
    }
    grpc.unary(
        req,
        PathAndQuery::from_str(method).unwrap(),
        tonic_prost::ProstCodec::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

fn doc(org: &str, id: &str) -> DocRequest {
    DocRequest {
        org: org.into(),
        id: id.into(),
        payload: String::new(),
    }
}

fn none() -> DocRequest {
    DocRequest::default()
}

async fn server() -> (SocketAddr, Channel) {
    let addr = support::serve(BouncerLayer::new(support::gate(), support::methods())).await;
    (addr, support::channel(addr).await)
}

fn challenges(status: &Status) -> Vec<String> {
    status
        .metadata()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// What the gate answers the same request when asked directly (as the
/// HTTP adapters ask it): the challenges and the detail, rendered.
async fn direct(
    method: &str,
    headers: &[(&str, &str)],
    message: &DocRequest,
    peer: SocketAddr,
) -> (Vec<String>, String) {
    let methods = support::methods();
    let requirement = methods
        .requirement(method)
        .unwrap()
        .resolve(&message.encode_to_vec())
        .unwrap();
    let safe = ["Me", "Get"]
        .iter()
        .any(|m| method.ends_with(&format!("/{m}")));
    let mut req = http::Request::builder()
        .method(if safe { "GET" } else { "POST" })
        .uri(method);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (parts, ()) = req.body(()).unwrap().into_parts();
    let ctx = RequestContext::from_parts(&parts).with_peer(Some(peer));
    let verdict = support::gate().decide(&ctx, &requirement).await;
    let rendered = verdict
        .decision()
        .denial()
        .unwrap()
        .render(&RenderOptions::new());
    (
        rendered
            .www_authenticate()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect(),
        rendered.problem().detail().unwrap().to_owned(),
    )
}

/// Method, metadata, message, status, reason code.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, DocRequest, Code, &'a str);

#[tokio::test]
async fn every_reason_code_has_its_status_challenges_and_details() {
    let (addr, ch) = server().await;
    let me = path("Me");
    let get = path("Get");
    let put = path("Put");
    let audit = path("Audit");
    let admin = path("Admin");
    let b = |t: &'static str| ("authorization", t);
    #[rustfmt::skip]
    let cases: Vec<Case<'_>> = vec![
        (&me, vec![], none(), Code::Unauthenticated, "missing_credentials"),
        (&me, vec![b("Bearer")], none(), Code::Unauthenticated, "malformed_credentials"),
        (&me, vec![b("Bearer a b")], none(), Code::Unauthenticated, "malformed_credentials"),
        (&me, vec![b("Bearer alice"), b("Bearer bob")], none(), Code::Unauthenticated, "malformed_credentials"),
        (&me, vec![b("Basic !!!")], none(), Code::Unauthenticated, "malformed_credentials"),
        (&audit, vec![b("Basic YWxpY2U6YWxpY2UtcGFzcw==")], none(), Code::Unauthenticated, "unsupported_scheme"),
        (&me, vec![b("Basic YWxpY2U6d3Jvbmc=")], none(), Code::Unauthenticated, "invalid_credentials"),
        (&me, vec![("x-api-key", "wrong")], none(), Code::Unauthenticated, "invalid_credentials"),
        (&me, vec![b("Bearer forged")], none(), Code::Unauthenticated, "invalid_token"),
        (&me, vec![b("Bearer expired")], none(), Code::Unauthenticated, "token_expired"),
        (&me, vec![b("Bearer revoked")], none(), Code::Unauthenticated, "token_revoked"),
        (&me, vec![("cookie", "session=x")], none(), Code::Unauthenticated, "session_invalid"),
        (&audit, vec![b("Bearer erin")], none(), Code::Unauthenticated, "mfa_required"),
        (&me, vec![("x-guard", "path")], none(), Code::PermissionDenied, "blocked_path"),
        (&me, vec![("x-guard", "ip")], none(), Code::PermissionDenied, "ip_blocked"),
        (&me, vec![("x-guard", "geo")], none(), Code::PermissionDenied, "geo_blocked"),
        (&me, vec![b("Bearer dave")], none(), Code::PermissionDenied, "account_suspended"),
        (&get, vec![b("Bearer alice")], doc("globex", "plans"), Code::PermissionDenied, "tenant_mismatch"),
        (&admin, vec![b("Bearer alice")], none(), Code::PermissionDenied, "elevation_required"),
        (&audit, vec![b("Bearer alice")], none(), Code::PermissionDenied, "elevation_required"),
        (&put, vec![b("Bearer bob")], doc("acme", "welcome"), Code::PermissionDenied, "insufficient_permission"),
        (&put, vec![b("Bearer alice-read-scope")], doc("acme", "welcome"), Code::PermissionDenied, "insufficient_scope"),
        (&get, vec![b("Bearer bob")], doc("acme", "roadmap"), Code::PermissionDenied, "not_shared"),
        (&put, vec![b("Bearer alice")], doc("acme", "archived"), Code::PermissionDenied, "read_only"),
        (&get, vec![b("Bearer alice")], doc("acme", "nothing"), Code::NotFound, "not_found"),
        (&me, vec![b("Bearer bug")], none(), Code::Internal, "internal_error"),
        (&get, vec![b("Bearer alice")], doc("acme", "boom"), Code::Internal, "internal_error"),
        (&me, vec![b("Bearer down")], none(), Code::Unavailable, "service_unavailable"),
    ];
    let mut seen = std::collections::HashSet::new();
    for (method, headers, message, code, reason) in cases {
        let label = format!("{method} {headers:?} {message:?}");
        let status = unary(&ch, method, &headers, message.clone())
            .await
            .expect_err(&label);
        assert_eq!(status.code(), code, "{label}: {status:?}");
        let info = status.get_details_error_info().expect(&label);
        assert_eq!(info.reason, reason.to_ascii_uppercase(), "{label}");
        assert_eq!(info.domain, "bouncer", "{label}");
        assert_eq!(info.metadata["code"], reason, "{label}");
        // The decision id, as an HTTP body's `instance` names it: on every
        // decision the layer made.
        let id = info.metadata.get("decision_id");
        assert!(
            id.is_none_or(|id| bouncer_core::DecisionId::parse(id).is_some()),
            "{label}: {id:?}"
        );
        if matches!(code, Code::Unauthenticated | Code::PermissionDenied) {
            assert!(id.is_some(), "{label}: no decision_id");
        }
        assert_eq!(
            info.metadata.len(),
            1 + usize::from(id.is_some()),
            "{label}"
        );
        // The same challenges, in the same order, and the same text as
        // the gate renders for HTTP.
        let (http_challenges, detail) = direct(method, &headers, &message, addr).await;
        assert_eq!(challenges(&status), http_challenges, "{label}");
        assert_eq!(status.message(), detail, "{label}");
        if code == Code::Unauthenticated {
            assert!(
                !http_challenges.is_empty(),
                "{label}: every 401 has a challenge"
            );
        }
        let retry = status.get_details_retry_info();
        if code == Code::Unavailable {
            assert_eq!(retry.unwrap().retry_delay, Some(Duration::from_secs(2)));
        } else {
            assert!(retry.is_none(), "{label}");
        }
        seen.insert(reason);
    }
    // Every 401 and 403 reason the contract lists can arise over gRPC.
    for r in bouncer_core::AuthnReason::ALL {
        assert!(seen.contains(r.code()), "{} never arose", r.code());
    }
    for r in bouncer_core::ForbiddenReason::ALL {
        assert!(seen.contains(r.code()), "{} never arose", r.code());
    }
}

#[tokio::test]
async fn challenges_carry_the_error_scope_and_acr_values() {
    let (_, ch) = server().await;
    let s = unary(&ch, &path("Me"), &[], none()).await.unwrap_err();
    assert_eq!(
        challenges(&s),
        [
            r#"Bearer realm="test""#,
            r#"Basic realm="test", charset="UTF-8""#
        ]
    );
    let s = unary(
        &ch,
        &path("Me"),
        &[("authorization", "Bearer expired")],
        none(),
    )
    .await
    .unwrap_err();
    let c = challenges(&s);
    assert!(
        c[0].starts_with(r#"Bearer realm="test", error="invalid_token""#),
        "{c:?}"
    );
    assert_eq!(c[1], r#"Basic realm="test", charset="UTF-8""#);
    let s = unary(
        &ch,
        &path("Put"),
        &[("authorization", "Bearer alice-read-scope")],
        doc("acme", "welcome"),
    )
    .await
    .unwrap_err();
    let c = challenges(&s);
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].contains(r#"error="insufficient_scope""#), "{c:?}");
    assert!(c[0].contains(r#"scope="documents:write""#), "{c:?}");
    let s = unary(
        &ch,
        &path("Audit"),
        &[("authorization", "Bearer erin")],
        none(),
    )
    .await
    .unwrap_err();
    let c = challenges(&s);
    assert_eq!(c.len(), 1, "Audit accepts Bearer only: {c:?}");
    assert!(
        c[0].contains(r#"error="insufficient_user_authentication""#),
        "{c:?}"
    );
    assert!(c[0].contains(r#"acr_values="urn:test:acr:mfa""#), "{c:?}");
}

#[tokio::test]
async fn allowed_calls_reach_the_handler_with_the_principal() {
    let (_, ch) = server().await;
    let sub = |r: Result<Reply, Status>| r.unwrap().sub;
    let alice = [("authorization", "Bearer alice")];
    assert_eq!(sub(unary(&ch, &path("Me"), &alice, none()).await), "alice");
    let basic = [("authorization", "Basic YWxpY2U6YWxpY2UtcGFzcw==")];
    assert_eq!(sub(unary(&ch, &path("Me"), &basic, none()).await), "alice");
    let key = [("x-api-key", "svc-key")];
    assert_eq!(sub(unary(&ch, &path("Me"), &key, none()).await), "svc");
    let got = unary(&ch, &path("Get"), &alice, doc("acme", "roadmap"))
        .await
        .unwrap();
    assert_eq!(
        (got.sub.as_str(), got.detail.as_str()),
        ("alice", "acme/roadmap")
    );
    // The request reaches tonic byte for byte.
    let mut m = doc("acme", "welcome");
    m.payload = "é".repeat(10_000);
    let got = unary(&ch, &path("Put"), &alice, m.clone()).await.unwrap();
    assert_eq!(got.detail, m.payload);
    // A read of a read-only resource is allowed (the method has no side
    // effects), a write is not.
    let bob = [("authorization", "Bearer bob")];
    assert!(unary(&ch, &path("Get"), &bob, doc("acme", "archived"))
        .await
        .is_ok());
    let erin = [("authorization", "Bearer erin-mfa")];
    assert_eq!(sub(unary(&ch, &path("Audit"), &erin, none()).await), "erin");
    assert_eq!(sub(unary(&ch, &path("Admin"), &erin, none()).await), "erin");
    // A public method: no credentials needed, and none are looked at.
    assert_eq!(sub(unary(&ch, &path("Open"), &[], none()).await), "");
    let expired = [("authorization", "Bearer expired")];
    assert_eq!(sub(unary(&ch, &path("Open"), &expired, none()).await), "");
}

#[tokio::test]
async fn methods_without_a_requirement_need_an_authenticated_caller() {
    let (_, ch) = server().await;
    let s = unary(&ch, &path("Undeclared"), &[], none())
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    let alice = [("authorization", "Bearer alice")];
    let ok = unary(&ch, &path("Undeclared"), &alice, none())
        .await
        .unwrap();
    assert_eq!(ok.sub, "alice");
}

#[tokio::test]
async fn unknown_methods_are_unimplemented_whatever_the_credentials() {
    let (_, ch) = server().await;
    for method in [
        path("Nope"),
        "/bouncer.test.v1.Other/Me".to_owned(),
        "/unknown.Service/Call".to_owned(),
    ] {
        for headers in [
            vec![],
            vec![("authorization", "Bearer alice")],
            vec![("authorization", "Bearer expired")],
            vec![("authorization", "Bearer")],
            vec![("authorization", "Bearer down")],
        ] {
            let s = unary(&ch, &method, &headers, none()).await.unwrap_err();
            assert_eq!(s.code(), Code::Unimplemented, "{method} {headers:?}");
            assert!(s.get_details_error_info().is_none());
        }
    }
    // The guards still run first.
    let s = unary(&ch, &path("Nope"), &[("x-guard", "ip")], none())
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn health_and_reflection_are_public() {
    let (_, ch) = server().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(
        r.into_inner().status(),
        tonic_health::pb::health_check_response::ServingStatus::Serving
    );
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let mut reflection = ServerReflectionClient::new(ch.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("no service list: {answer:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&support::SVC), "{names:?}");
    // Public does not mean past the guards.
    let mut req = Request::new(tonic_health::pb::HealthCheckRequest::default());
    req.metadata_mut().insert("x-guard", "ip".parse().unwrap());
    let s = health.check(req).await.unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_tcp_peer_reaches_the_guards() {
    let (_, ch) = server().await;
    let r = unary(
        &ch,
        &path("Me"),
        &[("x-guard", "peer"), ("authorization", "Bearer alice")],
        none(),
    )
    .await;
    assert_eq!(r.unwrap().sub, "alice");
}

#[tokio::test]
async fn panics_are_internal_and_say_nothing_of_their_cause() {
    let (_, ch) = server().await;
    for (method, headers, message) in [
        (path("Me"), vec![("x-guard", "panic")], none()),
        (path("Me"), vec![("authorization", "Bearer panic")], none()),
        (
            path("Fragile"),
            vec![("authorization", "Bearer alice")],
            doc("acme", "panic"),
        ),
    ] {
        let s = unary(&ch, &method, &headers, message).await.unwrap_err();
        assert_eq!(s.code(), Code::Internal, "{headers:?}");
        assert_eq!(s.message(), "an internal error occurred");
        assert_eq!(s.get_details_error_info().unwrap().reason, "INTERNAL_ERROR");
        assert!(!format!("{s:?}").contains("panicked"));
    }
    // The server goes on serving.
    let alice = [("authorization", "Bearer alice")];
    assert!(unary(&ch, &path("Fragile"), &alice, doc("acme", "x"))
        .await
        .is_ok());
}

/// A raw HTTP/2 call: the response is HTTP 200 with every status field in
/// the headers and an empty body (trailers-only), never HTTP 401/403.
#[tokio::test]
async fn denials_are_trailers_only_responses_with_http_200() {
    let (_, ch) = server().await;
    for (headers, grpc_status) in [
        (vec![], "16"),
        (vec![("authorization", "Bearer dave")], "7"),
        (vec![("authorization", "Bearer down")], "14"),
        (vec![("authorization", "Bearer bug")], "13"),
    ] {
        let mut req = http::Request::post(format!("http://test{}", path("Me")))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let body = tonic::body::Body::new(http_body_util::Full::new(bytes::Bytes::from_static(&[
            0, 0, 0, 0, 0,
        ])));
        let res = ch.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        assert_eq!(res.status(), 200, "{headers:?}");
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "application/grpc");
        assert_eq!(h["grpc-status"], grpc_status, "{headers:?}");
        let message = h["grpc-message"].to_str().unwrap();
        assert!(!message.contains(' '), "percent-encoded: {message}");
        let details = h["grpc-status-details-bin"].to_str().unwrap();
        assert!(!details.contains('='), "unpadded base64: {details}");
        let decoded = STANDARD_NO_PAD.decode(details).unwrap();
        let status = tonic_types::pb::Status::decode(decoded.as_slice()).unwrap();
        assert_eq!(status.code.to_string(), grpc_status);
        assert_eq!(
            status.details[0].type_url,
            "type.googleapis.com/google.rpc.ErrorInfo"
        );
        if grpc_status == "16" {
            assert_eq!(h.get_all("www-authenticate").iter().count(), 2);
        }
        let collected = res.into_body().collect().await.unwrap();
        assert!(
            collected.trailers().is_none(),
            "trailers-only: no trailers after"
        );
        assert!(collected.to_bytes().is_empty(), "trailers-only: no message");
    }
}

#[tokio::test]
async fn messages_too_large_or_undecodable_are_refused_before_any_credential() {
    let layer = BouncerLayer::new(support::gate(), support::methods()).max_message_bytes(64);
    let addr = support::serve(layer).await;
    let ch = support::channel(addr).await;
    let mut big = doc("acme", "welcome");
    big.payload = "x".repeat(100);
    let s = unary(&ch, &path("Put"), &[("authorization", "Bearer alice")], big)
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::ResourceExhausted);
    assert!(s.message().contains("64 bytes"), "{}", s.message());
    // Under the limit, the same call passes.
    assert!(unary(
        &ch,
        &path("Put"),
        &[("authorization", "Bearer alice")],
        doc("acme", "welcome")
    )
    .await
    .is_ok());
    // Not a DocRequest: field 1 with a varint where a string belongs.
    let req = http::Request::post(format!("http://test{}", path("Get")))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", "Bearer alice")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            bytes::Bytes::from_static(&[0, 0, 0, 0, 2, 0x0a, 0xff]),
        )))
        .unwrap();
    let res = ch.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["grpc-status"], "3");
    // Compressed messages cannot be looked into.
    let req = http::Request::post(format!("http://test{}", path("Get")))
        .header("content-type", "application/grpc")
        .header("grpc-encoding", "gzip")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            bytes::Bytes::from_static(&[1, 0, 0, 0, 1, 0]),
        )))
        .unwrap();
    let res = ch.clone().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["grpc-status"], "3");
}

#[tokio::test]
async fn a_client_stream_is_decided_on_its_first_message_and_reaches_tonic_whole() {
    let (_, ch) = server().await;
    let mut grpc = tonic::client::Grpc::new(ch.clone());
    let send = |org: &str| {
        let mut req = Request::new(tokio_stream::iter(["a", "b", "c"].map(|p| DocRequest {
            org: org.to_owned(),
            id: "welcome".into(),
            payload: p.into(),
        })));
        req.metadata_mut()
            .insert("authorization", "Bearer alice".parse().unwrap());
        req
    };
    grpc.ready().await.unwrap();
    let ok: Reply = grpc
        .client_streaming(
            send("acme"),
            PathAndQuery::from_str(&path("PutMany")).unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.detail, "a,b,c");
    grpc.ready().await.unwrap();
    let s = grpc
        .client_streaming::<_, DocRequest, Reply, _>(
            send("globex"),
            PathAndQuery::from_str(&path("PutMany")).unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert_eq!(
        s.get_details_error_info().unwrap().reason,
        "TENANT_MISMATCH"
    );
}

#[tokio::test]
async fn without_detail_the_message_is_empty_and_the_details_stay() {
    let layer = BouncerLayer::new(support::gate(), support::methods()).expose_detail(false);
    let ch = support::channel(support::serve(layer).await).await;
    let s = unary(&ch, &path("Me"), &[], none()).await.unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert_eq!(s.message(), "");
    assert_eq!(
        s.get_details_error_info().unwrap().reason,
        "MISSING_CREDENTIALS"
    );
}
