//! Two tonic servers for the gRPC load benchmark, on loopback: a plain
//! unary `Get`, and the same service behind `BouncerLayer` with the load
//! benchmark's gate (`bouncer_benches::pipeline`): an authenticated bearer
//! call with `documents:read` in the organization and on the document
//! named by the request message. Prints `plain=<addr> bouncer=<addr>
//! token=<jwt>` and serves until killed. Single-threaded runtime: the
//! benchmark pins the server to one core and the load client to the other.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::net::SocketAddr;

use bouncer_benches::grpc::docs_server::{Docs, DocsServer};
use bouncer_benches::grpc::{DocRequest, Reply};
use bouncer_benches::pipeline;
use bouncer_tonic::{BouncerLayer, MethodRequirement, Methods};
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

struct Service;

#[tonic::async_trait]
impl Docs for Service {
    async fn get(&self, _request: Request<DocRequest>) -> Result<Response<Reply>, Status> {
        Ok(Response::new(Reply {
            detail: "hello".into(),
        }))
    }
}

async fn listener() -> (SocketAddr, TcpIncoming) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, TcpIncoming::from(listener).with_nodelay(Some(true)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (plain, incoming) = listener().await;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DocsServer::new(Service))
            .serve_with_incoming(incoming),
    );
    let methods = Methods::new()
        .service("bouncer.bench.v1.Docs", ["Get"])
        .method(
            "/bouncer.bench.v1.Docs/Get",
            MethodRequirement::authenticated()
                .permission("documents:read")
                .no_side_effects()
                .target(|m: &DocRequest| (m.org.clone(), m.id.clone())),
        );
    let (guarded, incoming) = listener().await;
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(BouncerLayer::new(pipeline::gate(), methods))
            .add_service(DocsServer::new(Service))
            .serve_with_incoming(incoming),
    );
    println!(
        "plain={plain} bouncer={guarded} token={}",
        pipeline::token()
    );
    std::future::pending::<()>().await;
}
