//! `cargo xtask bench` and `cargo xtask load`: criterion side by side with the peers, the compile-memory probe, the wrk load test, and `benches/RESULTS.md`.

#[allow(unused_imports)]
use crate::*;

/// `benches/Cargo.toml`, as an argument for cargo.
pub(crate) fn benches_manifest() -> Result<String> {
    let manifest = root().join("benches/Cargo.toml");
    Ok(manifest
        .to_str()
        .ok_or_else(|| anyhow!("non-UTF-8 path"))?
        .to_owned())
}

/// Only the HTTP load test (axum and actix-web); prints its table.
pub(crate) fn load_only() -> Result<()> {
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
pub(crate) fn bench() -> Result<()> {
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

pub(crate) fn ensure_wrk() -> Result<()> {
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
pub(crate) fn cpu_ticks(pid: u32) -> u64 {
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

pub(crate) struct LoadRun {
    name: &'static str,
    rps: f64,
    p99: String,
    cpu_us: f64,
    non_2xx: u64,
}

/// One load server of the benches workspace and the names of its two
/// servers (plain, with bouncer's pipeline).
pub(crate) struct LoadServer {
    bin: &'static str,
    plain: &'static str,
    guarded: &'static str,
}

pub(crate) const LOAD_SERVERS: [LoadServer; 2] = [
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
pub(crate) const LOAD_ROUNDS: usize = 5;

/// `taskset -c CPU` when there are two cores to separate server and load
/// generator, otherwise nothing.
pub(crate) fn pinned(cpu: &str, program: &Path) -> Command {
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

pub(crate) fn wrk_run(server_pid: u32, url: &str, token: &str) -> Result<(f64, String, f64, u64)> {
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
pub(crate) fn load_test(bin: &Path) -> Result<Vec<LoadRun>> {
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
        let (plain, guarded, token) = match (field("plain="), field("bouncer="), field("token=")) {
            (Some(p), Some(b), Some(t)) => (p, b, t),
            _ => {
                let _ = child.kill();
                bail!("{} said: {line}", server.bin);
            }
        };
        let pid = child.id();
        let mut rounds = Vec::new();
        for _ in 0..LOAD_ROUNDS {
            let p = wrk_run(
                pid,
                &format!("http://{plain}/orgs/acme/documents/roadmap"),
                &token,
            )?;
            let g = wrk_run(
                pid,
                &format!("http://{guarded}/orgs/acme/documents/roadmap"),
                &token,
            )?;
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
pub(crate) fn wrk_requests(text: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .and_then(|(n, _)| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The median of a criterion benchmark, in nanoseconds.
pub(crate) fn median_ns(id: &str) -> Option<f64> {
    let path = root()
        .join("benches/target/criterion")
        .join(id)
        .join("new/estimates.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v.get("median")?.get("point_estimate")?.as_f64()
}

pub(crate) fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

pub(crate) fn report(memory: &[String], load: &[LoadRun]) -> Result<String> {
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
pub(crate) fn load_report(load: &[LoadRun]) -> Result<String> {
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
