//! The daemon's costs, measured on a real process:
//! - idle: CPU time used over 10 s with nothing changing, and resident memory;
//! - latency: from renaming a new version over a watched file to the alert
//!   in the outbox, with `group_wait: 0s` and `group_interval: 0s` (20 changes: best, median, worst).
//!
//! `cargo bench --bench daemon` (builds the release binary first). The
//! issue's targets: no CPU between events, under 20 MiB, under 1 s.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "driftwall"])
        .current_dir(root())
        .status()
        .expect("cargo build");
    assert!(status.success());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("release/driftwall")
}

/// utime + stime of a process, in clock ticks (10 ms).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .count()
        })
        .unwrap_or(0)
}

fn main() {
    let bin = binary();
    let dir = std::env::temp_dir().join(format!("driftwall-daemon-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("etc")).expect("scratch");
    let rules = dir.join("etc/rules.v4");
    let base = std::fs::read_to_string(root().join("examples/web-server.rules")).expect("example");
    std::fs::write(&rules, &base).expect("rules");
    let config = dir.join("driftwall.yaml");
    std::fs::write(
        &config,
        format!(
            "watch:\n  - path: {}\npolicies: [{}]\nstate_dir: {}\ndebounce: 50ms\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
            rules.display(),
            root().join("examples/web-server.policy.yaml").display(),
            dir.join("state").display()
        ),
    )
    .expect("config");
    let mut child = Command::new(&bin)
        .args(["watch", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let pid = child.id();
    let outbox = dir.join("state/outbox");
    let start = Instant::now();
    while count(&outbox) < 1 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(10));
    let idle_ticks = cpu_ticks(pid) - t0;
    let rss = rss_kib(pid);
    println!(
        "idle: {} ms of CPU in 10 s, resident memory {:.1} MiB",
        idle_ticks * 10,
        rss as f64 / 1024.0
    );

    let mut lat = Vec::new();
    for i in 0..20 {
        // Alternate the partner reject, so every version changes a result.
        let text = if i % 2 == 0 {
            base.replace("-j REJECT --reject-with tcp-reset", "-j ACCEPT")
        } else {
            base.clone()
        } + &format!("# version {i}\n");
        let tmp = dir.join("etc/.rules.v4.new");
        std::fs::write(&tmp, text).expect("write");
        let before = count(&outbox);
        let t = Instant::now();
        std::fs::rename(&tmp, &rules).expect("rename");
        while count(&outbox) <= before && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        lat.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    lat.sort();
    println!(
        "rename to alert (debounce 50ms, group_wait 0s): best {:.0} ms, median {:.0} ms, worst {:.0} ms of {}",
        lat[0].as_secs_f64() * 1e3,
        lat[lat.len() / 2].as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3,
        lat.len()
    );
    println!(
        "resident memory after the changes: {:.1} MiB",
        rss_kib(pid) as f64 / 1024.0
    );
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
