//! The benches' inputs: `../shared/bench/gen_rulesets.py` (or
//! `DRIFTWALL_BENCH`), run once per file into `bench-data/` at the
//! workspace root. Shared by the parsers' benches and the root crate's
//! (which includes this file by its path).

// Each bench that includes this file uses some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's folder, whichever crate's bench asks.
fn workspace() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|p| p.join("Cargo.lock").exists())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// The folder of `gen_rulesets.py`, if it is there.
pub fn bench_dir() -> Option<PathBuf> {
    [
        std::env::var("DRIFTWALL_BENCH").ok().map(PathBuf::from),
        Some(workspace().join("../shared/bench")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.join("gen_rulesets.py").exists())
}

/// `bench-data/` at the workspace root, made if needed.
pub fn data_dir() -> PathBuf {
    let data = workspace().join("bench-data");
    std::fs::create_dir_all(&data).expect("create bench-data/");
    data
}

/// Makes `out` with `gen_rulesets.py --rules N --format F --seed 1`,
/// unless it is there already.
pub fn generate(dir: &Path, rules: usize, format: &str, out: &Path) {
    generate_with(dir, rules, format, &[], out)
}

/// [`generate`] with more options (`--apple`).
pub fn generate_with(dir: &Path, rules: usize, format: &str, more: &[&str], out: &Path) {
    if out.exists() {
        return;
    }
    let status = Command::new("python3")
        .arg(dir.join("gen_rulesets.py"))
        .args([
            "--rules",
            &rules.to_string(),
            "--format",
            format,
            "--seed",
            "1",
        ])
        .args(more)
        .arg("-o")
        .arg(out)
        .status()
        .expect("python3 runs gen_rulesets.py");
    assert!(status.success(), "gen_rulesets.py failed");
}
