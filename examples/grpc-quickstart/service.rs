//! The quickstart over gRPC: `documents.proto`'s `Documents` service on
//! the framework-neutral app (`../quickstart/app.rs`), behind
//! bouncer-tonic's layer. The same gate, policy, documents and stores as
//! the HTTP quickstart; this file only says which method needs what and
//! turns the app's answers into messages.

#![allow(unreachable_pub)] // shared by the example binary and its test

use std::sync::Arc;

use bouncer_core::render::RenderOptions;
use bouncer_core::{SchemeName, StepUp};
use bouncer_tonic::{BouncerLayer, MethodRequirement, Methods, Principal, Target};
use serde_json::{json, Value};
use tonic::{Request, Response, Status};

use crate::app::{self, Answer, App};

/// The generated messages and service (protox + tonic-prost-build; see
/// `tests/grpc_quickstart.rs` for the check that they are current).
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod pb {
    include!("gen/bouncer.quickstart.v1.rs");
}

/// The encoded descriptor set of `documents.proto`, for reflection and
/// for the layer's table of methods.
pub const DESCRIPTOR: &[u8] = include_bytes!("gen/descriptor.bin");

/// `bouncer.quickstart.v1.Documents`.
pub const SERVICE: &str = "bouncer.quickstart.v1.Documents";

fn path(method: &str) -> String {
    format!("/{SERVICE}/{method}")
}

/// Bearer, Basic or an API key (the HTTP routes also take the session
/// cookie, which a gRPC client has no use for).
fn any() -> MethodRequirement {
    MethodRequirement::authenticated().schemes([
        SchemeName::BEARER,
        SchemeName::BASIC,
        SchemeName::API_KEY,
    ])
}

fn bearer() -> MethodRequirement {
    MethodRequirement::authenticated().schemes([SchemeName::BEARER])
}

/// What each method needs (grpc-contract.md §2). Every method of the
/// service is in the descriptor, so one added to the proto without a line
/// here still needs an authenticated caller.
pub fn methods() -> Result<Methods, app::BoxError> {
    use pb::*;
    let org_doc = |org: &str, id: &str| Target::new().organization(org).resource(id);
    Ok(Methods::new()
        .descriptors(DESCRIPTOR)?
        .method(&path("Me"), any())
        .method(
            &path("ListDocuments"),
            any()
                .permission("documents:read")
                .target(|m: &ListDocumentsRequest| Target::new().organization(m.org.clone())),
        )
        .method(
            &path("GetDocument"),
            any()
                .permission("documents:read")
                .target(move |m: &GetDocumentRequest| org_doc(&m.org, &m.id)),
        )
        .method(
            &path("CreateDocument"),
            any()
                .permission("documents:write")
                .target(|m: &CreateDocumentRequest| Target::new().organization(m.org.clone())),
        )
        .method(
            &path("UpdateDocument"),
            any()
                .permission("documents:write")
                .target(move |m: &UpdateDocumentRequest| org_doc(&m.org, &m.id)),
        )
        .method(
            &path("DeleteDocument"),
            any()
                .permission("documents:delete")
                .target(move |m: &DeleteDocumentRequest| org_doc(&m.org, &m.id)),
        )
        .method(
            &path("Audit"),
            bearer()
                .permission("admin:access")
                .elevated()
                .step_up(StepUp::new().acr([app::MFA_ACR]).amr(["mfa"])),
        )
        .method(&path("Logout"), bearer())
        .health()
        .reflection())
}

/// The layer: the app's gate against [`methods`].
pub fn layer(app: &App) -> Result<BouncerLayer, app::BoxError> {
    Ok(BouncerLayer::from_arc(app.gate(), methods()?))
}

/// The gRPC service on the app.
#[derive(Clone)]
pub struct DocumentsService {
    app: Arc<App>,
}

impl DocumentsService {
    /// Serves `app`.
    pub fn new(app: App) -> Self {
        Self { app: Arc::new(app) }
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The app's answer as a message, or the status it denies with
/// (rendered by bouncer-tonic, i.e. by core's one renderer).
#[allow(clippy::result_large_err)]
fn reply<T>(answer: Answer, make: impl FnOnce(&Value) -> T) -> Result<Response<T>, Status> {
    match answer {
        Answer::Json { body, .. } => Ok(Response::new(make(&body))),
        Answer::Empty { status, .. } if status.is_success() => {
            Ok(Response::new(make(&Value::Null)))
        }
        Answer::Empty { status, .. } if status == http::StatusCode::NOT_FOUND => {
            Err(Status::not_found("the resource does not exist"))
        }
        Answer::Denied(denial) => Err(bouncer_tonic::status::denial_status(
            &denial,
            &RenderOptions::new(),
        )),
        _ => Err(Status::internal("an internal error occurred")),
    }
}

#[allow(clippy::result_large_err)]
fn doc_body(title: String, content: String) -> Result<app::DocBody, Status> {
    serde_json::from_value(json!({ "title": title, "content": content }))
        .map_err(|_| Status::internal("an internal error occurred"))
}

#[tonic::async_trait]
impl pb::documents_server::Documents for DocumentsService {
    async fn me(&self, req: Request<pb::MeRequest>) -> Result<Response<pb::MeResponse>, Status> {
        let who = Principal::from_request(&req)?;
        reply(App::me(&who), |v| pb::MeResponse {
            sub: text(v, "sub"),
        })
    }

    async fn list_documents(
        &self,
        req: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let m = req.into_inner();
        reply(self.app.list_documents(&m.org), |v| {
            let ids = v["documents"]
                .as_array()
                .map(|docs| docs.iter().map(|d| text(d, "id")).collect())
                .unwrap_or_default();
            pb::ListDocumentsResponse { ids }
        })
    }

    async fn get_document(
        &self,
        req: Request<pb::GetDocumentRequest>,
    ) -> Result<Response<pb::Document>, Status> {
        let m = req.into_inner();
        reply(self.app.read_document(&m.org, &m.id), |v| pb::Document {
            id: text(v, "id"),
            title: text(v, "title"),
            content: text(v, "content"),
        })
    }

    async fn create_document(
        &self,
        req: Request<pb::CreateDocumentRequest>,
    ) -> Result<Response<pb::CreateDocumentResponse>, Status> {
        let m = req.into_inner();
        let body = doc_body(m.title, m.content)?;
        reply(self.app.create_document(&m.org, body), |v| {
            pb::CreateDocumentResponse { id: text(v, "id") }
        })
    }

    async fn update_document(
        &self,
        req: Request<pb::UpdateDocumentRequest>,
    ) -> Result<Response<pb::UpdateDocumentResponse>, Status> {
        let m = req.into_inner();
        let body = doc_body(m.title, m.content)?;
        reply(self.app.update_document(&m.org, &m.id, body), |v| {
            pb::UpdateDocumentResponse { id: text(v, "id") }
        })
    }

    async fn delete_document(
        &self,
        req: Request<pb::DeleteDocumentRequest>,
    ) -> Result<Response<pb::DeleteDocumentResponse>, Status> {
        let m = req.into_inner();
        reply(self.app.delete_document(&m.org, &m.id), |_| {
            pb::DeleteDocumentResponse {}
        })
    }

    async fn audit(
        &self,
        req: Request<pb::AuditRequest>,
    ) -> Result<Response<pb::AuditResponse>, Status> {
        let who = Principal::from_request(&req)?;
        reply(App::audit(&who), |v| pb::AuditResponse {
            requested_by: text(v, "requested_by"),
            events: v["events"]
                .as_array()
                .map(|events| {
                    events
                        .iter()
                        .map(|e| pb::AuditEvent {
                            at: text(e, "at"),
                            actor: text(e, "actor"),
                            action: text(e, "action"),
                            target: text(e, "target"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    async fn logout(
        &self,
        req: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let who = Principal::from_request(&req)?;
        reply(self.app.logout(&who).await, |_| pb::LogoutResponse {})
    }
}

/// The whole server: the layer in front of health (SERVING once built),
/// reflection and the documents service.
pub async fn router(
    app: App,
) -> Result<
    tonic::transport::server::Router<
        tower::layer::util::Stack<BouncerLayer, tower::layer::util::Identity>,
    >,
    app::BoxError,
> {
    let layer = layer(&app)?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_serving::<pb::documents_server::DocumentsServer<DocumentsService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(DESCRIPTOR)
        .build_v1()?;
    Ok(tonic::transport::Server::builder()
        .layer(layer)
        .add_service(health)
        .add_service(reflection)
        .add_service(pb::documents_server::DocumentsServer::new(
            DocumentsService::new(app),
        )))
}
