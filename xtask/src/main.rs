//! Project automation, run as `cargo xtask <command>`.
//!
//! | command | what |
//! |---|---|
//! | `test` | the test suite (the README's test command; starts what tests need) |
//! | `tidy` | the hand-kept lists (feature matrix, library crates, fuzz targets, ARCHITECTURE.md's code map, Markdown links) checked against the tree; also the first step of `lint` |
//! | `lint` | `cargo fmt --check`, clippy with `-D warnings`, docs with `-D warnings`, each feature alone |
//! | `ci` | `lint` then `test` |
//! | `bench` | criterion benchmarks against casbin, cedar-policy and jsonwebtoken, a compile-memory probe and the load tests (axum, actix-web, tonic, nginx with `bouncer serve`); writes `benches/RESULTS.md` |
//! | `load` | only the load tests: plain vs bouncer pipeline on axum, actix-web and tonic, nginx with and without `bouncer serve`, and `/auth`'s decisions/s; replaces the load section of `benches/RESULTS.md` |
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

mod bench;
mod ci;
mod demo;
mod fuzz;
mod soak;
mod tidy;
mod timing;

use bench::*;
use ci::*;
use demo::*;
use fuzz::*;
use soak::*;
use timing::*;

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
        "tidy" => tidy::tidy(),
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
    "usage: cargo xtask <test | lint | tidy | ci | bench | load | fuzz [seconds] | soak [seconds] | timing | token <sub> [--org ORG] [--logto-org ORG] [--scope \"a b\"] \
     [--mfa] [--acr ACR] [--amr a,b] [--auth-age SECS] [--exp SECS] [--jti ID|--no-jti] [--dpop] \
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
