//! The gRPC load client (wrk's counterpart for tonic, `ghz` not being at
//! hand): `grpc_load <addr> <token> <seconds> <connections> <calls in
//! flight>` makes unary `Get` calls for `acme/roadmap` with the bearer
//! token from that many tasks over that many HTTP/2 connections, on one
//! thread, for the given time, and prints `calls=<n> secs=<s> rps=<r>
//! p99=<ms>ms errors=<n>` (an error is any call that is not OK).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::time::{Duration, Instant};

use bouncer_benches::grpc::docs_client::DocsClient;
use bouncer_benches::grpc::DocRequest;
use tonic::metadata::MetadataValue;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, token, secs, connections, in_flight] = &args[..] else {
        panic!("usage: grpc_load <addr> <token> <seconds> <connections> <calls in flight>");
    };
    let secs: f64 = secs.parse().unwrap();
    let connections: usize = connections.parse().unwrap();
    let in_flight: usize = in_flight.parse().unwrap();
    let bearer: MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let mut channels = Vec::new();
    for _ in 0..connections {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .tcp_nodelay(true)
            .connect()
            .await
            .unwrap();
        channels.push(channel);
    }
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for i in 0..in_flight {
        let mut client = DocsClient::new(channels[i % connections].clone());
        let bearer = bearer.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let mut request = tonic::Request::new(DocRequest {
                    org: "acme".into(),
                    id: "roadmap".into(),
                });
                request
                    .metadata_mut()
                    .insert("authorization", bearer.clone());
                if client.get(request).await.is_err() {
                    errors += 1;
                }
                latencies.push(t.elapsed().as_micros() as u64);
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p99 = latencies
        .get(latencies.len() * 99 / 100)
        .copied()
        .unwrap_or(0);
    println!(
        "calls={} secs={elapsed:.3} rps={:.1} p99={:.2}ms errors={errors}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        p99 as f64 / 1000.0
    );
}
