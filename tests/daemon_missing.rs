//! A watched source that is not there is said, not skipped in silence
//! (issue 18): the daemon warns once, and `watch --once` (a cron job)
//! exits 2. A watched folder deleted and made again is watched again at
//! once, and a watched file that becomes a symbolic link is followed, and
//! said to be one.

mod support;

use std::time::Duration;
use support::{DaemonLog, Scratch, bin, run, saved_results, signal, wait_exit, wait_until, watch};

const OPEN_22: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
const CLOSED: &str = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n";

/// A daemon watching `file` for the ssh requirement, with no periodic
/// rescan to lean on: what it sees, it sees through notifications.
fn daemon(
    s: &Scratch,
    file: &std::path::Path,
) -> (std::process::Child, DaemonLog, std::path::PathBuf) {
    let policy = s.file(
        "p.yaml",
        "policy: p\nrequirements:\n  - {id: ssh, expect: allow, direction: inbound, protocol: tcp, ports: [22]}\n",
    );
    let state = s.path().join("state");
    let config = s.file(
        "driftwall.yaml",
        &format!(
            "watch:\n  - path: {}\n    format: iptables\npolicies: [{}]\nstate_dir: {}\ndebounce: 100ms\nrescan_interval: 1h\n",
            file.display(),
            policy.display(),
            state.display()
        ),
    );
    let log = DaemonLog::new(s.path().join("daemon.log"));
    let child = watch(&config, &log).spawn().expect("start driftwall watch");
    (child, log, state)
}

/// Waits until the saved result of the ssh requirement is `status`.
fn wait_status(state: &std::path::Path, file: &std::path::Path, status: &str, log: &DaemonLog) {
    let source = file.display().to_string();
    wait_until(Duration::from_secs(10), &format!("ssh {status}"), || {
        let r = saved_results(state, &source);
        r.iter()
            .any(|(id, st)| id == "ssh" && st == status)
            .then_some(())
    });
    let _ = log;
}

fn stop(mut child: std::process::Child) {
    signal(&child, "TERM");
    assert!(wait_exit(&mut child, Duration::from_secs(10)).is_some());
}

#[test]
fn a_watched_folder_deleted_and_made_again_is_said_and_watched_again_at_once() {
    let s = Scratch::new("daemon-folder-again");
    let file = s.file("etc/iptables/rules.v4", OPEN_22);
    let (child, log, state) = daemon(&s, &file);
    wait_status(&state, &file, "pass", &log);
    std::fs::remove_dir_all(s.path().join("etc")).expect("remove the folder");
    wait_until(Duration::from_secs(10), "the folder said gone", || {
        (log.count("a watched folder is not there; its return is watched for") == 1).then_some(())
    });
    // Made again with other rules: read within seconds, not at a rescan an
    // hour away.
    s.file("etc/iptables/rules.v4", CLOSED);
    wait_until(Duration::from_secs(10), "the folder said back", || {
        (log.count("a watched folder is back") == 1).then_some(())
    });
    wait_status(&state, &file, "fail", &log);
    // And its watch works again: a change in it is seen.
    let tmp = s.file("etc/iptables/rules.v4.new", OPEN_22);
    std::fs::rename(tmp, &file).expect("rename");
    wait_status(&state, &file, "pass", &log);
    stop(child);
}

#[test]
fn a_watched_file_that_becomes_a_symbolic_link_is_followed_and_said() {
    let s = Scratch::new("daemon-symlink");
    let file = s.file("etc/rules.v4", OPEN_22);
    let target = s.file("elsewhere/real.rules", CLOSED);
    let (child, log, state) = daemon(&s, &file);
    wait_status(&state, &file, "pass", &log);
    let link = s.path().join("etc/rules.v4.link");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    std::fs::rename(&link, &file).expect("rename the link over the file");
    wait_status(&state, &file, "fail", &log);
    let said = log.text().lines().any(|l| {
        l.contains("a watched file is a symbolic link; what it points to is read and watched")
            && l.contains("real.rules")
    });
    assert!(said, "{}", log.text());
    // What it points to is watched: a change there is seen at once.
    let tmp = s.file("elsewhere/real.rules.new", OPEN_22);
    std::fs::rename(tmp, &target).expect("rename");
    wait_status(&state, &file, "pass", &log);
    stop(child);
}

#[test]
fn a_missing_source_is_a_warning_and_a_failed_once_run() {
    let s = Scratch::new("daemon-missing");
    let policy = s.file(
        "p.yaml",
        "policy: p\nrequirements:\n  - id: ssh\n    expect: allow\n    direction: inbound\n    protocol: tcp\n    ports: [22]\n",
    );
    let present = s.file("etc/rules.v4", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
    let missing = s.path().join("etc/nope.rules");
    let write_config = |paths: &[&std::path::Path]| {
        let watch: String = paths
            .iter()
            .map(|p| format!("  - path: {}\n", p.display()))
            .collect();
        s.file(
            "driftwall.yaml",
            &format!(
                "watch:\n{watch}policies: [{}]\nstate_dir: {}\n",
                policy.display(),
                s.path().join("state").display()
            ),
        )
    };
    let config = write_config(&[&present, &missing]);
    let (code, out, err) = run(bin()
        .args(["watch", "--once", "--log-format", "json", "--config"])
        .arg(&config));
    assert_eq!(code, 2, "{out}{err}");
    let warned = err
        .lines()
        .any(|l| l.contains("\"WARN\"") && l.contains("not readable") && l.contains("nope.rules"));
    assert!(warned, "{err}");
    // With every source there, the same run is clean.
    let config = write_config(&[&present]);
    let (code, out, err) = run(bin()
        .args(["watch", "--once", "--log-format", "json", "--config"])
        .arg(&config));
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn a_watched_file_past_max_source_size_is_reported_not_read() {
    let s = Scratch::new("daemon-too-large");
    let policy = s.file(
        "p.yaml",
        "policy: p\nrequirements:\n  - {id: ssh, expect: allow, direction: inbound, protocol: tcp, ports: [22]}\n",
    );
    let mut rules = String::from("*filter\n:INPUT DROP [0:0]\n");
    for i in 0..200 {
        rules.push_str(&format!(
            "-A INPUT -s 10.0.{i}.1 -p tcp --dport 22 -j ACCEPT\n"
        ));
    }
    rules.push_str("COMMIT\n");
    let big = s.file("etc/rules.v4", &rules);
    let config = s.file(
        "driftwall.yaml",
        &format!(
            "watch:\n  - path: {}\npolicies: [{}]\nstate_dir: {}\nmax_source_size: 4K\n",
            big.display(),
            policy.display(),
            s.path().join("state").display()
        ),
    );
    let (code, out, err) = run(bin()
        .args(["watch", "--once", "--log-format", "json", "--config"])
        .arg(&config));
    assert_eq!(code, 2, "{out}{err}");
    let said = err.lines().any(|l| {
        l.contains("\"WARN\"") && l.contains("not readable") && l.contains("larger than 4 KiB")
    });
    assert!(said, "{err}");
    // The command line's limit stands over the configuration's.
    let (code, out, err) = run(bin()
        .args([
            "--max-input-size",
            "1M",
            "watch",
            "--once",
            "--log-format",
            "json",
            "--config",
        ])
        .arg(&config));
    assert_eq!(code, 0, "{out}{err}");
}
