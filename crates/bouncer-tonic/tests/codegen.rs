//! The generated code under `tests/gen` is what protox and
//! tonic-prost-build make of `tests/proto` today (pure Rust, no protoc).
//! `BOUNCER_REGENERATE=1 cargo test -p bouncer-tonic --test codegen`
//! rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use prost::Message as _;

fn generate(out: &Path) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/proto");
    let fds = protox::Compiler::new([&dir])
        .unwrap()
        .include_imports(true)
        .include_source_info(false)
        .open_files(["test.proto"])
        .unwrap()
        .file_descriptor_set();
    let encoded = fds.encode_to_vec();
    tonic_prost_build::configure()
        .out_dir(out)
        .emit_rerun_if_changed(false)
        .compile_fds(fds)
        .unwrap();
    encoded
}

#[test]
fn generated_code_is_current() {
    let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gen");
    let tmp: PathBuf =
        std::env::temp_dir().join(format!("bouncer-tonic-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let descriptor = generate(&tmp);
    let code = std::fs::read_to_string(tmp.join("bouncer.test.v1.rs")).unwrap();
    std::fs::remove_dir_all(&tmp).unwrap();
    if std::env::var_os("BOUNCER_REGENERATE").is_some() {
        std::fs::write(gen.join("bouncer.test.v1.rs"), &code).unwrap();
        std::fs::write(gen.join("descriptor.bin"), &descriptor).unwrap();
        return;
    }
    let stale = "stale: run BOUNCER_REGENERATE=1 cargo test -p bouncer-tonic --test codegen";
    assert_eq!(
        std::fs::read_to_string(gen.join("bouncer.test.v1.rs")).unwrap(),
        code,
        "{stale}"
    );
    assert_eq!(
        std::fs::read(gen.join("descriptor.bin")).unwrap(),
        descriptor,
        "{stale}"
    );
}
