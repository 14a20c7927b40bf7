//! The one support module of the integration tests: running the binary, and
//! for the tests that run `driftwall watch` as a process, signals and waiting
//! for its exit. What the parsers' tests share too (skipping, scratch
//! folders, waiting) is in `common.rs`.

#![allow(dead_code)]

mod common;

pub use common::*;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The driftwall binary, run in the repository's root.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwall"));
    cmd.current_dir(root()).env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// Runs a command to its end; exit code, stdout, stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run the command");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs driftwall in `dir`; exit code, stdout, stderr.
pub fn driftwall_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(bin().args(args).current_dir(dir))
}

/// Runs driftwall in the repository's root.
pub fn driftwall(args: &[&str]) -> (i32, String, String) {
    driftwall_in(root(), args)
}

/// Runs git in `dir` with a fixed identity and `main` as the first branch;
/// fails the test if git does; its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.org",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

/// The log of a `driftwall watch` a test started with [`watch`]: JSON lines
/// at debug level, every run of the daemon appended to one file. The daemon
/// logs `assessed` after each reading of a source and `flushed` at the end of
/// each turn (alerts handed on, state saved), so a test waits for those
/// instead of sleeping.
pub struct DaemonLog(std::path::PathBuf);

impl DaemonLog {
    pub fn new(path: std::path::PathBuf) -> DaemonLog {
        DaemonLog(path)
    }

    /// The whole text, for failure messages.
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.0).unwrap_or_default()
    }

    /// The messages logged so far, in order.
    pub fn messages(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["message"].as_str().map(str::to_string))
            .collect()
    }

    pub fn count(&self, message: &str) -> usize {
        self.messages().iter().filter(|m| *m == message).count()
    }

    /// Waits until more than `after` assessments were made and the turn of
    /// the last one ended: what it found is in the outbox or spool, and in
    /// the state.
    pub fn wait_turn(&self, after: usize, what: &str) {
        wait_until(Duration::from_secs(15), what, || {
            let log = self.messages();
            let assessed: Vec<usize> = (0..log.len()).filter(|&i| log[i] == "assessed").collect();
            let last = *assessed.last()?;
            (assessed.len() > after && log[last..].iter().any(|m| m == "flushed")).then_some(())
        })
    }

    /// Waits until the daemon read a text of `bytes` bytes in an `assessing`
    /// past the first `after`, assessed it, and ended that turn. For a test
    /// that writes texts of other lengths one after another: the daemon
    /// also reads on its own every `rescan_interval`, and an `assessed` of
    /// a rescan that began before a write is not the reading of what was
    /// written (a CI run took one for the other, and two writes were read
    /// as one).
    pub fn wait_reading(&self, after: usize, bytes: usize, what: &str) {
        wait_until(Duration::from_secs(15), what, || {
            let log: Vec<serde_json::Value> = self
                .text()
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            let is = |v: &serde_json::Value, m: &str| v["message"].as_str() == Some(m);
            let read = log
                .iter()
                .enumerate()
                .filter(|(_, v)| is(v, "assessing"))
                .skip(after)
                .find(|(_, v)| v["bytes"].as_u64() == Some(bytes as u64))?
                .0;
            let assessed = read + log[read..].iter().position(|v| is(v, "assessed"))?;
            log[assessed..]
                .iter()
                .any(|v| is(v, "flushed"))
                .then_some(())
        })
    }

    /// Waits until the daemon ended a turn `span` after its latest log line,
    /// by its own clock: proof that it was awake through the span (with a
    /// short `rescan_interval` it ends a turn every few hundred ms), for
    /// tests that show nothing happens in a while.
    pub fn wait_span(&self, span: Duration, what: &str) {
        let lines = || -> Vec<(f64, String)> {
            self.text()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| {
                    let at = seconds(v["timestamp"].as_str()?)?;
                    Some((at, v["message"].as_str()?.to_string()))
                })
                .collect()
        };
        let start = lines().last().map_or(0.0, |(at, _)| *at);
        let end = start + span.as_secs_f64();
        wait_until(span + Duration::from_secs(15), what, || {
            lines()
                .iter()
                .any(|(at, m)| *at >= end && m == "flushed")
                .then_some(())
        })
    }
}

/// Seconds since 1970 of a log timestamp (`2026-12-06T21:25:14.486860Z`).
fn seconds(stamp: &str) -> Option<f64> {
    let (date, time) = stamp.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|n| n.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut t = time.split(':');
    let (h, min, s) = (
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    Some(days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + s)
}

/// Every event the daemon handed on, as its JSON: the notices in the
/// outbox of `state_dir`.
pub fn outbox_events(state_dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(state_dir.join("outbox"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "json") {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(e.path()).expect("read")).expect("json");
            for notice in v["notices"].as_array().into_iter().flatten() {
                out.extend(notice["events"].as_array().into_iter().flatten().cloned());
            }
        }
    }
    out
}

/// The state the daemon saved in `state_dir` (null before the first save),
/// each source's text put back from `texts/` where the state names it.
pub fn saved_state(state_dir: &Path) -> serde_json::Value {
    let mut state: serde_json::Value = std::fs::read(state_dir.join("state.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null);
    for part in ["current", "baseline"] {
        if let Some(sources) = state[part].as_object_mut() {
            for s in sources.values_mut() {
                if let Some(name) = s["text_file"].as_str() {
                    let text = std::fs::read_to_string(state_dir.join("texts").join(name))
                        .unwrap_or_else(|e| panic!("the text {name} the state names: {e}"));
                    s["text"] = text.into();
                }
            }
        }
    }
    state
}

/// The results the daemon saved in `state_dir` for `source`, as
/// (requirement, status), sorted.
pub fn saved_results(state_dir: &Path, source: &str) -> Vec<(String, String)> {
    let state = saved_state(state_dir);
    let mut out: Vec<(String, String)> = state["current"][source]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["requirement"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `driftwall watch --config CONFIG` logging to `log` as [`DaemonLog`] reads it.
pub fn watch(config: &Path, log: &DaemonLog) -> Command {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log.0)
        .expect("the daemon's log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_driftwall"));
    cmd.args(["watch", "--log-format", "json", "--config"])
        .arg(config)
        .env("DRIFTWALL_LOG", "driftwall=debug")
        .stdout(std::process::Stdio::null())
        .stderr(file);
    cmd
}
