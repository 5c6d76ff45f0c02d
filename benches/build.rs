//! Generates the tonic load benchmark's service from `proto/bench.proto`
//! (pure Rust: protox, no protoc).

fn main() {
    println!("cargo:rerun-if-changed=proto/bench.proto");
    let fds = protox::compile(["bench.proto"], ["proto"]).expect("proto/bench.proto");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)
        .expect("generating the bench service");
}
