//! The load benchmark's two servers on actix-web: a plain hello handler,
//! and the same handler behind bouncer's full pipeline
//! (`bouncer_benches::pipeline`, the same gate as the axum run). Prints
//! `plain=<addr> bouncer=<addr> token=<jwt>` and serves until killed. One
//! worker each: the benchmark pins the server to one core and wrk to the
//! other.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use actix_web::{web, App, HttpServer};
use bouncer_actix::Bouncer;
use bouncer_benches::pipeline;

async fn hello() -> &'static str {
    "hello"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bouncer = Bouncer::new(pipeline::gate());
    let plain = HttpServer::new(|| App::new().route("/orgs/{org}/documents/{id}", web::get().to(hello)))
        .workers(1)
        .bind("127.0.0.1:0")?;
    let plain_addr = plain.addrs()[0];
    let b = bouncer.clone();
    let guarded = HttpServer::new(move || {
        App::new()
            .route(
                "/orgs/{org}/documents/{id}",
                web::get().to(hello).wrap(b.require(pipeline::requirement())),
            )
            .wrap(b.guards())
    })
    .workers(1)
    .bind("127.0.0.1:0")?;
    let guarded_addr = guarded.addrs()[0];
    println!(
        "plain={plain_addr} bouncer={guarded_addr} token={}",
        pipeline::token()
    );
    futures_util::future::try_join(plain.run(), guarded.run()).await?;
    Ok(())
}
