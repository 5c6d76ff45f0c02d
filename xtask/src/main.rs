//! Project automation, run as `cargo xtask <command>`.
//!
//! | command | what |
//! |---|---|
//! | `test` | the test suite (the README's test command; starts what tests need) |
//! | `lint` | `cargo fmt --check`, clippy with `-D warnings`, docs with `-D warnings`, each feature alone |
//! | `ci` | `lint` then `test` |
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
            let totp = bouncer_authn::session::TotpSecret::from_base32(secret)?;
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
    "usage: cargo xtask <test | lint | ci | token <sub> [--org ORG] [--logto-org ORG] [--scope \"a b\"] \
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

/// The README's test command.
fn test(extra: &[String]) -> Result<()> {
    ensure_redis_server()?;
    ensure_oidc_provider()?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args)
}

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
        ("bouncer-core", &["", "serde", "json"][..]),
        (
            "bouncer-authn",
            &[
                "",
                "aws-lc-rs",
                "rust-crypto",
                "basic",
                "serde,basic",
                "session",
                "jwks,aws-lc-rs",
            ][..],
        ),
        ("bouncer-authz", &[""][..]),
        ("bouncer-axum", &[""][..]),
        ("bouncer-redis", &[""][..]),
        ("bouncer-test", &["", "authz", "axum"][..]),
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
    std::env::set_var("RUSTDOCFLAGS", "-D warnings");
    cargo(&[
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
        "--quiet",
    ])
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `cargo xtask token alice --org acme --mfa`
fn token(args: &[String]) -> Result<()> {
    let (sub, opts) = args.split_first().ok_or_else(|| anyhow!(usage()))?;
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "iat": now(),
        "exp": now() + 3600,
        "jti": format!("{:x}-{:x}", now(), std::process::id() as u64 ^ now().rotate_left(17)),
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
    say(&jsonwebtoken::encode(&header, &claims, &key)?);
    Ok(())
}
