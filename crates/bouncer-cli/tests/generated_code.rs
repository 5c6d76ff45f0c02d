//! The checked-in code of the Envoy protos (`src/serve/generated/`) is
//! exactly what `proto/` compiles to with protox and tonic-prost-build.
//! `BOUNCER_REGENERATE_PROTOS=1` rewrites it instead.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// Generated file → checked-in name (`r#type` is not kept in a path).
fn checked_in_name(generated: &str) -> String {
    generated.replace("r#", "")
}

#[test]
fn the_checked_in_proto_code_is_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("bouncer-cli-protos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let fds = protox::compile(
        ["envoy/service/auth/v3/external_auth.proto"],
        [root.join("proto")],
    )
    .unwrap();
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .out_dir(&out)
        .compile_fds(fds)
        .unwrap();

    let target = root.join("src/serve/generated");
    let regenerate = std::env::var_os("BOUNCER_REGENERATE_PROTOS").is_some();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = checked_in_name(&path.file_name().unwrap().to_string_lossy());
        let fresh = std::fs::read_to_string(&path).unwrap();
        if regenerate {
            std::fs::write(target.join(&name), &fresh).unwrap();
        } else {
            let kept = std::fs::read_to_string(target.join(&name)).unwrap_or_default();
            assert!(
                kept == fresh,
                "src/serve/generated/{name} is not what proto/ compiles to: \
                 BOUNCER_REGENERATE_PROTOS=1 cargo test -p bouncer-cli --test generated_code"
            );
        }
        names.push(name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "envoy.config.core.v3.rs",
            "envoy.service.auth.v3.rs",
            "envoy.type.v3.rs",
            "google.rpc.rs"
        ]
    );
    let _ = std::fs::remove_dir_all(&out);
}
