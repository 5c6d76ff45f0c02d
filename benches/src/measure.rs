//! Interleaved timing for a busy machine: the cases of a comparison run in
//! turns (A, B, C, A, B, C, …), each turn a batch of about `turn` long, so
//! that load from other work falls on every case alike; a ratio is taken
//! per round and the median round's ratio reported, beside each case's
//! median time per iteration. Time is the thread's own CPU time, which
//! leaves out the time other processes hold the core (wall time on a busy
//! machine counts it); caches and memory bandwidth are still shared.

use std::hint::black_box;
use std::time::Duration;

/// The calling thread's CPU time.
#[derive(Clone, Copy)]
struct Instant(Duration);

impl Instant {
    fn now() -> Self {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to write.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        Self(Duration::new(t.tv_sec as u64, t.tv_nsec as u32))
    }

    fn elapsed(self) -> Duration {
        Self::now().0.saturating_sub(self.0)
    }
}

/// One case: runs its work `n` times.
pub struct Case<'a> {
    pub name: String,
    pub run: Box<dyn FnMut(u64) + 'a>,
}

impl<'a> Case<'a> {
    pub fn new(name: impl Into<String>, run: impl FnMut(u64) + 'a) -> Self {
        Self {
            name: name.into(),
            run: Box::new(run),
        }
    }

    /// A case from a closure that does one iteration.
    pub fn each(name: impl Into<String>, mut one: impl FnMut() + 'a) -> Self {
        Self::new(name, move |n| {
            for _ in 0..n {
                one();
                black_box(());
            }
        })
    }
}

/// What one case measured.
#[derive(Debug, Clone)]
pub struct Measured {
    pub group: String,
    pub case: String,
    /// Median nanoseconds per iteration over the rounds.
    pub ns: f64,
    /// Median over rounds of (this case ÷ the group's first case).
    pub ratio: f64,
}

impl Measured {
    /// One line for `cargo xtask bench` to read.
    pub fn line(&self) -> String {
        format!(
            "RESULT\t{}\t{}\t{:.3}\t{:.4}",
            self.group, self.case, self.ns, self.ratio
        )
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Runs `cases` interleaved for `rounds` rounds of turns of about `turn`;
/// ratios are against the first case.
pub fn interleaved(
    group: &str,
    mut cases: Vec<Case<'_>>,
    rounds: usize,
    turn: Duration,
) -> Vec<Measured> {
    // Calibrate: iterations per turn for each case (after a warm-up).
    let mut per_turn = Vec::with_capacity(cases.len());
    for c in &mut cases {
        (c.run)(1);
        let mut n = 1u64;
        loop {
            let t = Instant::now();
            (c.run)(n);
            let e = t.elapsed();
            if e >= turn / 4 || n >= 1 << 30 {
                let scale = turn.as_secs_f64() / e.as_secs_f64().max(1e-9);
                per_turn.push(((n as f64) * scale).max(1.0) as u64);
                break;
            }
            n *= 4;
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    for _ in 0..rounds {
        for (i, c) in cases.iter_mut().enumerate() {
            let n = per_turn[i];
            let t = Instant::now();
            (c.run)(n);
            times[i].push(t.elapsed().as_nanos() as f64 / n as f64);
        }
    }
    let base = times[0].clone();
    cases
        .iter()
        .zip(times)
        .map(|(c, mut t)| {
            let mut ratios: Vec<f64> = t.iter().zip(&base).map(|(a, b)| a / b).collect();
            Measured {
                group: group.to_owned(),
                case: c.name.clone(),
                ratio: median(&mut ratios),
                ns: median(&mut t),
            }
        })
        .collect()
}

/// Polls a future that never waits (everything measured is in memory).
pub fn now_or_never<F: std::future::Future>(f: F) -> F::Output {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the future waited"),
    }
}
