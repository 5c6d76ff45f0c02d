//! Peak memory of compiling a generated policy, in a process of its own:
//! `compile_mem <memberships> <data|file>` prints
//! `memberships=<n> from=<..> ms=<t> peak_mib=<m> baseline_mib=<b>`.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use bouncer_benches::Shape;

fn vm_hwm_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let memberships: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let from = args.get(2).map_or("data", String::as_str);
    let shape = Shape::SCALED.with_memberships(memberships);
    let baseline = vm_hwm_mib();
    let (ms, stats) = if from == "file" {
        let text = shape.bouncer_toml();
        let t = Instant::now();
        let c = bouncer_authz::policy::compile_str("generated.toml", &text).unwrap();
        (t.elapsed().as_secs_f64() * 1e3, c.snapshot.stats())
    } else {
        let data = shape.bouncer_builder();
        let t = Instant::now();
        let s = data.build().unwrap();
        (t.elapsed().as_secs_f64() * 1e3, s.stats())
    };
    println!(
        "memberships={memberships} from={from} ms={ms:.1} peak_mib={:.1} baseline_mib={baseline:.1} compiled_memberships={}",
        vm_hwm_mib(),
        stats.memberships
    );
}
