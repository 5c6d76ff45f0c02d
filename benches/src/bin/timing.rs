//! Timing side channels, measured: an unknown user against a wrong
//! password (Basic), and a known against an unknown API-key prefix.
//! Interleaved samples, Welch's t-test; |t| below 4.5 is read as "no
//! difference within measurement noise" (the dudect convention).
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use bouncer_authn::api_key::{MemoryApiKeyStore, StoredApiKey};
use bouncer_authn::basic::{MemoryCredentialStore, PasswordHash, PasswordVerifierHandle};

fn stats(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

fn welch(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let (ma, va) = stats(a);
    let (mb, vb) = stats(b);
    let t = (ma - mb) / (va / a.len() as f64 + vb / b.len() as f64).sqrt();
    (ma, mb, t)
}

/// Drops the slowest 5 % (scheduler noise), as dudect does.
fn trim(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_by(f64::total_cmp);
    xs.truncate(xs.len() * 95 / 100);
    xs
}

fn report(name: &str, unit: &str, a_name: &str, a: Vec<f64>, b_name: &str, b: Vec<f64>) {
    let (n_a, n_b) = (a.len(), b.len());
    let (ma, mb, t) = welch(&trim(a), &trim(b));
    let verdict = if t.abs() < 4.5 {
        "indistinguishable"
    } else {
        "DISTINGUISHABLE"
    };
    println!("{name}: {a_name} {ma:.2} {unit} (n={n_a}) vs {b_name} {mb:.2} {unit} (n={n_b}); difference {:.2} {unit} ({:+.2} %); Welch t = {t:.2}: {verdict}", ma - mb, (ma - mb) / mb * 100.0);
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Basic: argon2id; the unknown user is checked against a dummy hash.
    let mut users = MemoryCredentialStore::new();
    users.insert("alice", PasswordHash::hash("alice-pass").unwrap());
    let verifier = PasswordVerifierHandle::new(users);
    let rounds: usize = std::env::var("TIMING_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..rounds * 2 {
        let (user, into) = if i % 2 == 0 {
            ("alice", &mut wrong)
        } else {
            ("mallory", &mut unknown)
        };
        let t = Instant::now();
        let r = rt.block_on(verifier.verify(black_box(user), black_box("not-the-password")));
        into.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(r.is_err());
    }
    report(
        "Basic",
        "ms",
        "wrong password",
        wrong,
        "unknown user",
        unknown,
    );

    // API keys: 1,000 stored keys; a present prefix with a wrong key
    // against an absent prefix.
    let mut keys = MemoryApiKeyStore::new();
    for i in 0..1000 {
        keys.insert(StoredApiKey::from_plaintext(
            format!("svc{i}"),
            &format!("key{i:05}-{}", "x".repeat(32)),
        ));
    }
    // A fresh random suffix per sample: what may differ is the class (a
    // prefix that exists or not), not one key's place in the hash table.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        format!("{seed:016x}{:016x}", seed.rotate_left(29))
    };
    let samples = 200_000;
    // Both classes interleaved in one allocation, so memory layout is the
    // same for both.
    // The class of each sample is drawn at random (dudect), so nothing
    // periodic in the loop can line up with it.
    let presented: Vec<(bool, String)> = (0..samples * 2)
        .map(|_| {
            let known = random().as_bytes().first().is_some_and(|b| b % 2 == 0);
            (
                known,
                format!("{}00042-{}", if known { "key" } else { "zzz" }, random()),
            )
        })
        .collect();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (known, key) in &presented {
        let into = if *known { &mut a } else { &mut b };
        let t = Instant::now();
        let r = keys.lookup(black_box(key));
        into.push(t.elapsed().as_nanos() as f64);
        assert!(r.is_none());
    }
    report("API key", "ns", "known prefix", a, "unknown prefix", b);
}
