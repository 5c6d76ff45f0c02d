//! `cargo xtask fuzz`: every libFuzzer target for a bounded time; `fuzz/RESULTS.md`.

#[allow(unused_imports)]
use crate::*;

pub(crate) const FUZZ_TARGETS: [&str; 11] = [
    "authorization",
    "basic_decode",
    "jwt_token",
    "jwt_claims",
    "challenge_roundtrip",
    "path_normalize",
    "forwarded",
    "policy_file",
    "jwks",
    "dpop_proof",
    "introspection_response",
];

/// The optional `[seconds]` argument (default 60).
pub(crate) fn seconds_arg(args: &[String]) -> Result<u64> {
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
pub(crate) fn fuzz(args: &[String]) -> Result<()> {
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
