//! A watched source that is not there is said, not skipped in silence
//! (issue 18): the daemon warns once, and `watch --once` (a cron job)
//! exits 2.

mod support;

use support::{Scratch, bin, run};

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
