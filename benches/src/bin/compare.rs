//! The comparisons of `benches/RESULTS.md`, interleaved: `compare [group…]`
//! prints one `RESULT <group> <case> <ns> <ratio to the first case>` line
//! per case (every group without arguments); `compare --icount <group>
//! <case> <n>` only sets the group up and runs that case `n` times, for
//! `valgrind --tool=callgrind` to count instructions (`cargo xtask bench`
//! counts only inside the measured loop, `--toggle-collect`, and divides
//! by n).
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, clippy::panic)]

use bouncer_benches::jwt_cases::{Asymmetric, Hs256, RING};
use bouncer_benches::measure::{interleaved, Case};
use bouncer_benches::peers;

/// Every group, in report order.
const GROUPS: &[&str] = &[
    "hs256_authenticate",
    "hs256_cache_miss",
    "hs256_cache_hit",
    "rs256",
    "es256",
    "authz_scale",
    "authz_delta",
    "authz_peers_tiny",
    "authz_peers_scaled",
];

fn with_cases(group: &str, f: &mut dyn FnMut(Vec<Case<'_>>)) {
    match group {
        "hs256_authenticate" => f(Hs256::new(0).authenticate()),
        "hs256_cache_miss" => f(Hs256::new(RING).cache_miss()),
        "hs256_cache_hit" => f(Hs256::new(0).cache_hit()),
        "rs256" => f(Asymmetric::rs256().cases()),
        "es256" => f(Asymmetric::es256().cases()),
        "authz_scale" => peers::authz_scale(f),
        "authz_delta" => peers::authz_delta(f),
        "authz_peers_tiny" => peers::authz_peers(bouncer_benches::Shape::TINY, f),
        "authz_peers_scaled" => peers::authz_peers(bouncer_benches::Shape::SCALED, f),
        other => panic!("unknown group {other}"),
    }
}

/// The only code callgrind counts (`--toggle-collect=*icount_measured*`):
/// setup, such as the entropy gathering that seeds aws-lc's generator,
/// varies from run to run.
#[inline(never)]
fn icount_measured(c: &mut Case<'_>, n: u64) {
    (c.run)(n);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--icount") {
        let (group, case, n) = (&args[1], &args[2], args[3].parse::<u64>().unwrap());
        with_cases(group, &mut |mut cases| {
            let c = cases
                .iter_mut()
                .find(|c| &c.name == case)
                .unwrap_or_else(|| panic!("no case {case} in {group}"));
            icount_measured(c, n);
        });
        return;
    }
    let groups: Vec<&str> = if args.is_empty() {
        GROUPS.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    for g in groups {
        with_cases(g, &mut |cases| {
            let (rounds, turn) = peers::timing_for(g);
            for m in interleaved(g, cases, rounds, turn) {
                println!("{}", m.line());
            }
        });
    }
}
