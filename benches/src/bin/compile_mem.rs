//! Peak memory of compiling a generated policy, in a process of its own:
//! `compile_mem <memberships> <data|file>` prints
//! `memberships=<n> from=<..> ms=<wall> cpu_ms=<process CPU> peak_mib=<m>
//! input_mib=<peak before the compile: the generated input> baseline_mib=<b>`.
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

/// The process's CPU time (user + system), in milliseconds: what the
/// compile costs, whatever else the machine runs.
fn cpu_ms() -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage into the zeroed buffer.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr()) } == 0;
    if !ok {
        return f64::NAN;
    }
    // SAFETY: zeroed, then written by getrusage.
    let u = unsafe { u.assume_init() };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(u.ru_utime) + ms(u.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let memberships: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let from = args.get(2).map_or("data", String::as_str);
    let shape = Shape::SCALED.with_memberships(memberships);
    let baseline = vm_hwm_mib();
    let (ms, cpu, input, stats) = if from == "file" {
        let text = shape.bouncer_toml();
        let input = vm_hwm_mib();
        let (t, c0) = (Instant::now(), cpu_ms());
        let c = bouncer_authz::policy::compile_str("generated.toml", &text).unwrap();
        (
            t.elapsed().as_secs_f64() * 1e3,
            cpu_ms() - c0,
            input,
            c.snapshot.stats(),
        )
    } else {
        let data = shape.bouncer_builder();
        let input = vm_hwm_mib();
        let (t, c0) = (Instant::now(), cpu_ms());
        let s = data.build().unwrap();
        (
            t.elapsed().as_secs_f64() * 1e3,
            cpu_ms() - c0,
            input,
            s.stats(),
        )
    };
    println!(
        "memberships={memberships} from={from} ms={ms:.1} cpu_ms={cpu:.1} peak_mib={:.1} input_mib={input:.1} baseline_mib={baseline:.1} compiled_memberships={}",
        vm_hwm_mib(),
        stats.memberships
    );
}
