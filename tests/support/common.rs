//! What every test crate of the workspace shares, the parsers' tests too
//! (they include this file by its path): the one skip-or-fail rule, the one
//! scratch folder, and waiting on something observable with a deadline
//! instead of sleeping for a fixed time.
//!
//! Nothing here names the driftwall binary, so a crate without it can use it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The variable CI sets (scripts/test does, under `CI=true`) to demand that
/// every test runs: set to anything but empty or `0`, a test that would skip
/// for lack of root, a tool or the shared corpus fails instead.
pub const REQUIRE_ALL: &str = "DRIFTWALL_REQUIRE_ALL";

/// Whether every test must run (see [`REQUIRE_ALL`]).
pub fn required() -> bool {
    std::env::var(REQUIRE_ALL).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Skips the calling test with a printed reason, or fails it when every test
/// must run. The caller returns right after.
pub fn skip(reason: &str) {
    if required() {
        panic!("{REQUIRE_ALL} is set but the test cannot run: {reason}");
    }
    println!("skipped: {reason}");
}

/// The workspace's folder, whichever crate's test asks.
fn workspace() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|p| p.join("Cargo.lock").exists())
        .unwrap_or(manifest)
}

/// A folder of the shared corpus of real firewall files (`DRIFTWALL_CORPUS`,
/// or `../shared/corpus` beside the workspace), or `None` after [`skip`]
/// said why. The corpus stays outside the repository: its files have many
/// licenses.
pub fn corpus(folder: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("DRIFTWALL_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => workspace().join("../shared/corpus"),
    };
    let dir = dir.join(folder);
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!(
            "corpus not found at {} (set DRIFTWALL_CORPUS to its directory)",
            dir.display()
        ));
        None
    }
}

/// A fresh folder for one test, removed when dropped, unless the test
/// failed: then it stays for a look, and its path is printed. Its name holds
/// the test's name, the process and a counter, so tests running at once
/// never share one.
pub struct Scratch(PathBuf);

static NEXT_SCRATCH: AtomicUsize = AtomicUsize::new(0);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let n = NEXT_SCRATCH.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("driftwall-test-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `name` in the folder (making its folders) and gives
    /// its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create a scratch subfolder");
        }
        std::fs::write(&p, text).expect("write a scratch file");
        p
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            println!("the failed test's folder is kept: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
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

/// [`wait_for`], failing the test with `what` when the deadline passes.
pub fn wait_until<T>(within: Duration, what: &str, f: impl FnMut() -> Option<T>) -> T {
    match wait_for(within, f) {
        Some(v) => v,
        None => panic!("{what}: not seen within {within:?}"),
    }
}
