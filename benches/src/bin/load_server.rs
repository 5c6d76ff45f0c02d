//! The axum servers of the load benchmark, on loopback: a plain hello
//! handler; the same handler behind bouncer's full pipeline
//! (`bouncer_benches::pipeline`), with and without the token cache;
//! behind bouncer's HS256 bearer check alone; and behind the peer
//! middleware doing that same check (axum-jwt-auth). Prints
//! `plain=<addr> bouncer=<addr> nocache=<addr> bearer=<addr> peer=<addr>
//! token=<jwt> tokens=<file of many distinct tokens>` and serves until
//! killed. Single-threaded runtime: the benchmark pins the server to one
//! core and the load generator to the other.
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

/// The pipeline's router on `gate`.
fn guarded(gate: bouncer_core::Gate) -> Router {
    let bouncer = Bouncer::new(gate);
    Router::new()
        .route(
            "/orgs/{org}/documents/{id}",
            get(hello).route_layer(bouncer.require(pipeline::requirement())),
        )
        .layer(bouncer.guards())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    const ROUTE: &str = "/orgs/{org}/documents/{id}";
    let plain = serve(Router::new().route(ROUTE, get(hello))).await;
    let cached = serve(guarded(pipeline::gate())).await;
    let nocache = serve(guarded(pipeline::gate_without_cache())).await;
    let bearer = {
        let bouncer = Bouncer::new(pipeline::bearer_only_gate());
        let requirement = bouncer_core::route::RouteRequirement::authenticated();
        serve(Router::new().route(ROUTE, get(hello).route_layer(bouncer.require(requirement)))).await
    };
    let peer = serve(
        Router::new()
            .route(ROUTE, get(pipeline::peer::hello))
            .with_state(pipeline::peer::decoder()),
    )
    .await;
    let tokens = pipeline::write_many_tokens();
    println!(
        "plain={plain} bouncer={cached} nocache={nocache} bearer={bearer} peer={peer} token={} tokens={}",
        pipeline::token(),
        tokens.display()
    );
    std::future::pending::<()>().await;
}
