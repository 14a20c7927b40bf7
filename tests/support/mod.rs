//! What several test files need: running the binary, scratch folders, and
//! skipping (or, under CI, failing) when a tool is missing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs driftwall in `dir`; exit code, stdout, stderr.
pub fn driftwall_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall")).args(args).current_dir(dir).env_remove("GITHUB_STEP_SUMMARY").output().expect("run driftwall");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Whether CI demands that every test runs (`DRIFTWALL_REQUIRE_ALL`).
pub fn required() -> bool {
    std::env::var("DRIFTWALL_REQUIRE_ALL").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Skips the calling test with a printed reason, or fails it under CI.
pub fn skip(reason: &str) {
    if required() {
        panic!("DRIFTWALL_REQUIRE_ALL is set but the test cannot run: {reason}");
    }
    println!("skipped: {reason}");
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("driftwall-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}
