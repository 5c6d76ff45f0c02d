//! Compiles the Envoy ext_authz subset in `proto/` with protox (pure Rust:
//! no `protoc` is downloaded or needed) and tonic-prost-build.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["envoy/service/auth/v3/external_auth.proto"];
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
