//! The generated code under `grpc-quickstart/gen` is what protox and
//! tonic-prost-build make of `grpc-quickstart/documents.proto` today (pure
//! Rust: no protoc, nothing downloaded). Rewrite it with
//! `BOUNCER_REGENERATE=1 cargo test -p bouncer-examples --test grpc_codegen`.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use prost::Message as _;

#[test]
fn generated_code_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grpc-quickstart");
    let fds = protox::Compiler::new([&dir])
        .unwrap()
        .include_imports(true)
        .include_source_info(false)
        .open_files(["documents.proto"])
        .unwrap()
        .file_descriptor_set();
    let descriptor = fds.encode_to_vec();
    let tmp = std::env::temp_dir().join(format!("bouncer-grpc-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    tonic_prost_build::configure()
        .out_dir(&tmp)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)
        .unwrap();
    let code = std::fs::read_to_string(tmp.join("bouncer.quickstart.v1.rs")).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    let gen = dir.join("gen");
    if std::env::var_os("BOUNCER_REGENERATE").is_some() {
        std::fs::create_dir_all(&gen).unwrap();
        std::fs::write(gen.join("bouncer.quickstart.v1.rs"), &code).unwrap();
        std::fs::write(gen.join("descriptor.bin"), &descriptor).unwrap();
        return;
    }
    let stale = "stale: BOUNCER_REGENERATE=1 cargo test -p bouncer-examples --test grpc_codegen";
    let checked_in = std::fs::read_to_string(gen.join("bouncer.quickstart.v1.rs")).unwrap();
    assert!(checked_in == code, "{stale}");
    assert!(
        std::fs::read(gen.join("descriptor.bin")).unwrap() == descriptor,
        "{stale}"
    );
}
