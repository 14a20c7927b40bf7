//! The daemon under faults (issue 18): a full state disk, and a kill in
//! the middle of a write.
//!
//! The full disk is a 64 KiB tmpfs mounted on the test's own state folder
//! (root only; skipped with the reason otherwise), unmounted at the end.

mod support;

use std::process::Command;
use std::time::Duration;
use support::{DaemonLog, Scratch, signal, skip, wait_exit, wait_until, watch};

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn lines_with(log: &DaemonLog, level: &str, message: &str) -> usize {
    log.text()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["level"] == level && v["message"] == message)
        .count()
}

#[test]
fn a_full_state_disk_is_said_once_and_retried_slowly_without_leftovers() {
    let s = Scratch::new("daemon-full-disk");
    let state = s.path().join("state");
    std::fs::create_dir_all(&state).expect("state folder");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&state)
        .status();
    if !mounted.is_ok_and(|m| m.success()) {
        skip("cannot mount a tmpfs (not root?): no full disk to fill");
        return;
    }
    let _mount = Mount(state.clone());
    // A temporary file a killed run left behind.
    let stale = state.join(".state.json.tmp-4194304-7");
    std::fs::write(&stale, "half").expect("stale file");
    // The state keeps the file's text: 200 KiB of rules do not fit.
    let mut rules = String::from("*filter\n:INPUT DROP [0:0]\n");
    for i in 0..4000 {
        rules.push_str(&format!(
            "-A INPUT -s 10.{}.{}.1 -p tcp --dport 22 -j ACCEPT\n",
            i / 250,
            i % 250
        ));
    }
    rules.push_str("COMMIT\n");
    let file = s.file("etc/rules.v4", &rules);
    let policy = s.file(
        "p.yaml",
        "policy: p\nrequirements:\n  - id: web\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: [443]\n",
    );
    let config = s.file(
        "driftwall.yaml",
        &format!(
            "watch:\n  - path: {}\npolicies: [{}]\nstate_dir: {}\ndebounce: 100ms\nrescan_interval: 200ms\n",
            file.display(),
            policy.display(),
            state.display()
        ),
    );
    let log = DaemonLog::new(s.path().join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    // Said once at error level; the retries that follow (after a second,
    // then two, ...) at debug level.
    wait_until(Duration::from_secs(20), "a second failed save", || {
        (lines_with(&log, "DEBUG", "cannot save the state") >= 1).then_some(())
    });
    assert_eq!(
        lines_with(&log, "ERROR", "cannot save the state"),
        1,
        "{}",
        log.text()
    );
    let failures = lines_with(&log, "DEBUG", "cannot save the state") + 1;
    // Backing off: nothing like a hundred tries a second.
    assert!(failures < 10, "{failures} tries: {}", log.text());
    // Neither the stale file nor the failed writes' temporary files remain.
    let left: Vec<String> = std::fs::read_dir(&state)
        .expect("state")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(!stale.exists());
    signal(&child, "TERM");
    assert!(
        wait_exit(&mut child, Duration::from_secs(10)).is_some(),
        "the daemon stops on SIGTERM"
    );
}
