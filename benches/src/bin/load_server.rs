//! Two servers for the load benchmark, on loopback: a plain axum hello
//! handler, and the same handler behind bouncer's full pipeline
//! (`bouncer_benches::pipeline`). Prints `plain=<addr> bouncer=<addr>
//! token=<jwt>` and serves until killed. Single-threaded runtime: the
//! benchmark pins the server to one core and wrk to the other.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use bouncer_axum::Bouncer;
use bouncer_benches::pipeline;

async fn hello() -> &'static str {
    "hello"
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let bouncer = Bouncer::new(pipeline::gate());
    let plain = serve(Router::new().route("/orgs/{org}/documents/{id}", get(hello))).await;
    let guarded = serve(
        Router::new()
            .route(
                "/orgs/{org}/documents/{id}",
                get(hello).route_layer(bouncer.require(pipeline::requirement())),
            )
            .layer(bouncer.guards()),
    )
    .await;
    println!("plain={plain} bouncer={guarded} token={}", pipeline::token());
    std::future::pending::<()>().await;
}
