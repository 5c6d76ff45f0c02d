//! `cargo xtask soak`: the release quickstart under mixed wrk load, then Redis killed and restarted under load; `benches/SOAK.md`.

#[allow(unused_imports)]
use crate::*;

/// One raw HTTP/1.1 request; returns the status.
pub(crate) fn http_status(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<u16> {
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

pub(crate) fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub(crate) struct Quickstart {
    child: std::process::Child,
    addr: String,
}

impl Drop for Quickstart {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_quickstart(addr: &str, redis: Option<&str>) -> Result<Quickstart> {
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

pub(crate) struct WrkOut {
    label: String,
    requests: u64,
    statuses: String,
    unexpected: u64,
}

/// Starts wrk with the expect script; returns the child.
pub(crate) fn spawn_wrk(
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

pub(crate) fn finish_wrk(label: &str, child: std::process::Child) -> Result<WrkOut> {
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
pub(crate) fn soak(args: &[String]) -> Result<()> {
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
