//! `cargo xtask tidy` (also the first step of `lint`): the lists kept by
//! hand are checked against the tree, so they cannot drift.
//!
//! - every crate under `crates/` is in `LIBRARY_CRATES` and the feature
//!   matrix, and every optional feature of each crate is enabled by at
//!   least one of its matrix rows (directly or through another feature);
//! - the fuzz targets: `FUZZ_TARGETS`, the files in `fuzz/fuzz_targets/`,
//!   the `[[bin]]`s of `fuzz/Cargo.toml` and the seed folders agree;
//! - every path ARCHITECTURE.md's code map names exists;
//! - every relative link in the project's Markdown files points at a file
//!   or folder that exists.

use std::collections::BTreeSet;

#[allow(unused_imports)]
use crate::*;

pub(crate) fn tidy() -> Result<()> {
    let mut problems = Vec::new();
    crates_and_features(&mut problems)?;
    fuzz_targets(&mut problems)?;
    code_map(&mut problems)?;
    markdown_links(&mut problems)?;
    if problems.is_empty() {
        eprintln!("xtask: tidy: the hand-kept lists match the tree");
        return Ok(());
    }
    for p in &problems {
        eprintln!("xtask: tidy: {p}");
    }
    bail!("{} hand-kept list(s) out of date", problems.len())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn dir_names(path: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("listing {}", path.display()))? {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str() {
            out.insert(name.to_owned());
        }
    }
    Ok(out)
}

/// The `[features]` table of a Cargo.toml: name → what it enables, as
/// written (`dep:x`, `crate/feature` and other features alike). A small
/// line reader: feature tables are one `name = [..]` per line here.
fn features(manifest: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[features]";
            continue;
        }
        if !inside || line.starts_with('#') || line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let enables = value
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|v| v.trim().trim_matches('"').to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        out.push((name.trim().to_owned(), enables));
    }
    out
}

fn crates_and_features(problems: &mut Vec<String>) -> Result<()> {
    let on_disk = dir_names(&root().join("crates"))?;
    let libraries: BTreeSet<String> = LIBRARY_CRATES.iter().map(|s| (*s).to_owned()).collect();
    let matrix: BTreeSet<String> = FEATURE_MATRIX
        .iter()
        .map(|(k, _)| (*k).to_owned())
        .collect();
    for krate in &on_disk {
        if !libraries.contains(krate) {
            problems.push(format!(
                "crates/{krate} is not in LIBRARY_CRATES (xtask/src/ci.rs)"
            ));
        }
        if !matrix.contains(krate) {
            problems.push(format!(
                "crates/{krate} is not in FEATURE_MATRIX (xtask/src/ci.rs)"
            ));
        }
    }
    for name in libraries.union(&matrix) {
        if !on_disk.contains(name) {
            problems.push(format!(
                "xtask names `{name}`, which is not a folder of crates/"
            ));
        }
    }
    for (krate, rows) in FEATURE_MATRIX {
        let path = root().join("crates").join(krate).join("Cargo.toml");
        let Ok(manifest) = read(&path) else { continue };
        let table = features(&manifest);
        let enables = |f: &str| -> Vec<String> {
            table
                .iter()
                .find(|(n, _)| n == f)
                .map(|(_, e)| e.clone())
                .unwrap_or_default()
        };
        let mut covered = BTreeSet::new();
        for row in *rows {
            let mut todo: Vec<String> = row
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect();
            while let Some(f) = todo.pop() {
                if covered.insert(f.clone()) {
                    // Only this crate's own features enable more of it.
                    todo.extend(
                        enables(&f)
                            .into_iter()
                            .filter(|e| !e.contains(':') && !e.contains('/')),
                    );
                }
            }
            for f in row.split(',').filter(|f| !f.is_empty()) {
                if !table.iter().any(|(n, _)| n == f) {
                    problems.push(format!(
                        "FEATURE_MATRIX names `{f}`, which {krate} does not have"
                    ));
                }
            }
        }
        for (name, _) in &table {
            if name != "default" && !covered.contains(name) {
                problems.push(format!(
                    "{krate}'s feature `{name}` is in no FEATURE_MATRIX row (xtask/src/ci.rs)"
                ));
            }
        }
    }
    Ok(())
}

fn fuzz_targets(problems: &mut Vec<String>) -> Result<()> {
    let listed: BTreeSet<String> = FUZZ_TARGETS.iter().map(|s| (*s).to_owned()).collect();
    let files: BTreeSet<String> = dir_names(&root().join("fuzz/fuzz_targets"))?
        .into_iter()
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_owned))
        .collect();
    let manifest = read(&root().join("fuzz/Cargo.toml"))?;
    let bins: BTreeSet<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|block| {
            block.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("name")
                    .and_then(|r| r.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_owned())
            })
        })
        .collect();
    let seeds = dir_names(&root().join("fuzz/seeds"))?;
    for (what, set) in [
        ("fuzz/fuzz_targets/*.rs", &files),
        ("fuzz/Cargo.toml [[bin]]", &bins),
        ("fuzz/seeds/", &seeds),
    ] {
        for missing in listed.difference(set) {
            problems.push(format!(
                "fuzz target `{missing}` is in FUZZ_TARGETS but not in {what}"
            ));
        }
        for extra in set.difference(&listed) {
            problems.push(format!(
                "{what} has `{extra}`, which FUZZ_TARGETS (xtask/src/fuzz.rs) lacks"
            ));
        }
    }
    for t in &listed {
        let dir = root().join("fuzz/seeds").join(t);
        if dir.is_dir() && dir_names(&dir)?.is_empty() {
            problems.push(format!("fuzz/seeds/{t} has no seeds"));
        }
    }
    Ok(())
}

/// The backticked words of a text.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether a backticked word is a path the code map promises.
fn looks_like_path(word: &str) -> bool {
    let exts = [
        ".rs", ".toml", ".md", ".py", ".proto", ".mjs", ".lua", ".json",
    ];
    !word.is_empty()
        && !word.contains(' ')
        && !word.contains("::")
        && !word.starts_with('.')
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./*".contains(c))
        && (word.ends_with('/') || exts.iter().any(|e| word.ends_with(e)))
        && !word.contains('*')
}

fn code_map(problems: &mut Vec<String>) -> Result<()> {
    let text = read(&root().join("ARCHITECTURE.md"))?;
    let Some(start) = text.find("## Code map") else {
        problems.push("ARCHITECTURE.md has no `## Code map`".into());
        return Ok(());
    };
    let section = text
        .get(start..)
        .and_then(|s| s.get(3..).map(|rest| (s, rest)))
        .map(|(s, rest)| {
            rest.find("\n## ")
                .map_or(s, |end| s.get(..end + 3).unwrap_or(s))
        })
        .unwrap_or_default();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let mut cells = row.split('|').skip(1);
        let (Some(first), Some(rest)) = (cells.next(), cells.next()) else {
            continue;
        };
        let Some(base) = backticked(first).first().map(|b| root().join(b)) else {
            continue;
        };
        if !base.exists() {
            problems.push(format!(
                "ARCHITECTURE.md names `{}`, which does not exist",
                first.trim()
            ));
            continue;
        }
        // Bare file names are looked up in the row's crate (and its src/
        // and tests/) and in every folder named earlier in the row.
        let mut bases = vec![base.clone(), base.join("src"), base.join("tests"), root()];
        for word in backticked(rest).into_iter().filter(|w| looks_like_path(w)) {
            let found = bases.iter().map(|b| b.join(word)).find(|p| p.exists());
            match found {
                Some(p) if word.ends_with('/') => bases.push(p),
                Some(_) => {}
                None => problems.push(format!(
                    "ARCHITECTURE.md's row for {} names `{word}`, which is not in the tree",
                    first.trim()
                )),
            }
        }
    }
    Ok(())
}

fn markdown_files() -> Result<Vec<PathBuf>> {
    let mut out = vec![
        root().join("README.md"),
        root().join("ARCHITECTURE.md"),
        root().join("CHANGELOG.md"),
    ];
    for dir in ["crates", "examples", "benches", "fuzz", "interop"] {
        let mut todo = vec![root().join(dir)];
        while let Some(d) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name();
                let name = name.to_string_lossy();
                if p.is_dir() {
                    if name != "target" && name != "node_modules" && !name.starts_with('.') {
                        todo.push(p);
                    }
                } else if name.ends_with(".md") {
                    out.push(p);
                }
            }
        }
    }
    Ok(out)
}

fn markdown_links(problems: &mut Vec<String>) -> Result<()> {
    for file in markdown_files()? {
        let Ok(text) = read(&file) else { continue };
        let dir = file.parent().map_or_else(root, Path::to_path_buf);
        for piece in text.split("](").skip(1) {
            let Some(target) = piece.split(')').next() else {
                continue;
            };
            let target = target.split('#').next().unwrap_or("").trim();
            if target.is_empty()
                || target.contains("://")
                || target.starts_with("mailto:")
                || target.contains(' ')
            {
                continue;
            }
            if !dir.join(target).exists() {
                let shown = file.strip_prefix(root()).unwrap_or(&file);
                problems.push(format!(
                    "{} links to `{target}`, which does not exist",
                    shown.display()
                ));
            }
        }
    }
    Ok(())
}
