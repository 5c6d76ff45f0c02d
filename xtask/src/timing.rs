//! `cargo xtask timing`: timing side channels with Welch's t-test; `benches/TIMING.md`.

#[allow(unused_imports)]
use crate::*;

/// Timing side channels, measured with the release build of the probe.
pub(crate) fn timing() -> Result<()> {
    let manifest = benches_manifest()?;
    cargo(&[
        "build",
        "--release",
        "--manifest-path",
        &manifest,
        "--bin",
        "timing",
    ])?;
    let out = Command::new(root().join("benches/target/release/timing"))
        .output()
        .context("timing probe")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let report = format!(
        "# Timing\n\n`cargo xtask timing`: interleaved samples with the class of each drawn at random, slowest 5 % dropped, Welch's t-test; |t| < 4.5 reads as no difference within measurement noise.\n\n{}\n",
        text.lines().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n")
    );
    std::fs::write(root().join("benches/TIMING.md"), &report)?;
    say(&report);
    if text.contains("DISTINGUISHABLE") {
        bail!("a timing difference was measured (see benches/TIMING.md)");
    }
    Ok(())
}
