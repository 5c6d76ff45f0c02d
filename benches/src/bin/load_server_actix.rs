//! The load benchmark's servers on actix-web: a plain hello handler, and
//! the same handler behind bouncer's full pipeline
//! (`bouncer_benches::pipeline`, the same gate as the axum run), with and
//! without the token cache. Prints `plain=<addr> bouncer=<addr>
//! nocache=<addr> token=<jwt>` and serves until killed. One worker each:
//! the benchmark pins the server to one core and wrk to the other.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use bouncer_actix::Bouncer;
use bouncer_benches::pipeline;

async fn hello() -> &'static str {
    "hello"
}

/// The pipeline's server on `gate`: its address, and the server to run.
fn guarded(gate: bouncer_core::Gate) -> std::io::Result<(std::net::SocketAddr, Server)> {
    let b = Bouncer::new(gate);
    let server = HttpServer::new(move || {
        App::new()
            .route(
                "/orgs/{org}/documents/{id}",
                web::get().to(hello).wrap(b.require(pipeline::requirement())),
            )
            .wrap(b.guards())
    })
    .workers(1)
    .bind("127.0.0.1:0")?;
    Ok((server.addrs()[0], server.run()))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let plain = HttpServer::new(|| App::new().route("/orgs/{org}/documents/{id}", web::get().to(hello)))
        .workers(1)
        .bind("127.0.0.1:0")?;
    let plain_addr = plain.addrs()[0];
    let (cached_addr, cached) = guarded(pipeline::gate())?;
    let (nocache_addr, nocache) = guarded(pipeline::gate_without_cache())?;
    println!(
        "plain={plain_addr} bouncer={cached_addr} nocache={nocache_addr} token={}",
        pipeline::token()
    );
    futures_util::future::try_join3(plain.run(), cached, nocache).await?;
    Ok(())
}
