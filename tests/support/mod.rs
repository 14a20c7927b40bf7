//! What several test files need: running the binary, scratch folders,
//! skipping (or, under CI, failing) when a tool is missing, and for the
//! tests that run `driftwall watch` as a process: signals, waiting for its
//! exit or for a condition.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs driftwall in `dir`; exit code, stdout, stderr.
pub fn driftwall_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run driftwall");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs driftwall in the repository's root.
pub fn driftwall(args: &[&str]) -> (i32, String, String) {
    driftwall_in(root(), args)
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

pub fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{sig}");
}

pub fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Polls `f` every 20 ms until it gives a value, for at most `within`.
pub fn wait_for<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() >= within {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
