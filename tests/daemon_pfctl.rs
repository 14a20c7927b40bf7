//! `driftwall watch` with pf's live ruleset as a `command` (`pfctl -a '*'
//! -sr`, docs/pf.md): what pfctl prints is its own normalized form of the
//! rules, which FreeBSD's pfctl tests hold as `pfNNNN.ok` beside the
//! `pfNNNN.in` it was loaded from. A script prints such a file as the
//! command would.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{DaemonLog, Scratch, corpus, signal, wait_exit, watch};

const POLICY: &str = r"policy: pfctl
requirements:
  - id: ssh-open
    expect: allow
    direction: inbound
    protocol: tcp
    ports: [22]
  - id: telnet-closed
    expect: deny
    direction: inbound
    protocol: tcp
    ports: [23]
";

/// Every event in the outbox, as its JSON.
fn events(dir: &Path) -> Vec<Value> {
    support::outbox_events(&dir.join("state"))
}

/// The results the daemon saved for `source`, as (requirement, status).
fn results(dir: &Path, source: &str) -> Vec<(String, String)> {
    support::saved_results(&dir.join("state"), source)
}

#[test]
fn pfctl_printout_as_the_live_ruleset_gives_verdicts_and_equals_its_file() {
    let Some(pfctl) = corpus("pf/freebsd-pfctl-tests") else {
        return;
    };
    let s = Scratch::new("daemon-pfctl");
    // pf0088: duplicate rules and the state options pfctl spells out, ending
    // in `block drop all`: SSH is blocked in, telnet too.
    let loaded = std::fs::read_to_string(pfctl.join("pf0088.in")).expect("pf0088.in");
    let printed = std::fs::read_to_string(pfctl.join("pf0088.ok")).expect("pf0088.ok");
    assert!(
        printed.contains("flags S/SA keep state") && !loaded.contains("flags S/SA"),
        "the printout is pfctl's normalized form, not the file's text"
    );
    let file = s.file("etc/pf.conf", &loaded);
    let live = s.file("live.pf", &printed);
    let script = s.file(
        "bin/pfctl",
        &format!(
            "#!/bin/sh\n# pfctl -a '*' -sr, as pfctl printed it\ncat '{}'\n",
            live.display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let policy = s.file("policy.yaml", POLICY);
    let config = s.file(
        "driftwall.yaml",
        &format!(
            "watch:\n  - command: [{}, -a, '*', -sr]\n    format: pf\n    interval: 200ms\n    \
             compare_with: {}\npolicies: [{}]\nstate_dir: {}\ndebounce: 100ms\n\
             alerts:\n  group_wait: 0s\n  group_interval: 0s\n",
            script.display(),
            file.display(),
            policy.display(),
            s.join("state").display()
        ),
    );
    let log = DaemonLog::new(s.join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    let source = format!("live: {} -a * -sr", script.display());
    log.wait_turn(0, "the first run of the command");

    let mut got = results(&s, &source);
    got.sort();
    assert_eq!(
        got,
        [
            ("ssh-open".to_string(), "fail".to_string()),
            ("telnet-closed".to_string(), "pass".to_string())
        ],
        "{}",
        log.text()
    );
    let at_start = events(&s);
    let ssh = at_start
        .iter()
        .find(|e| e["kind"] == "failing-at-start")
        .unwrap_or_else(|| panic!("SSH fails at the first reading: {at_start:#?}"));
    let culprit = &ssh["requirements"][0]["witnesses"][0]["rule_after"];
    assert_eq!(
        (
            culprit["file"].as_str(),
            culprit["line"].as_u64(),
            culprit["text"].as_str()
        ),
        (Some(source.as_str()), Some(22), Some("block drop all")),
        "the culprit is the printout's line: {ssh:#}"
    );
    // pfctl's printout and pf.conf differ in every line's text, not in what
    // they do: the kernel holds what the file says.
    assert!(
        at_start.iter().all(|e| e["kind"] != "live-differs"),
        "{at_start:#?}"
    );

    // A rule loaded by hand lets SSH in: the kernel differs from the file now.
    std::fs::write(
        &live,
        format!(
            "pass in quick proto tcp from any to any port = ssh flags S/SA keep state\n{printed}"
        ),
    )
    .expect("write");
    let start = Instant::now();
    loop {
        let ev = events(&s);
        let changed = ev.iter().any(|e| {
            e["kind"] == "requirement-changed"
                && e["requirements"][0]["requirement"] == "ssh-open"
                && e["requirements"][0]["after"] == "pass"
        });
        if changed && ev.iter().any(|e| e["kind"] == "live-differs") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no pass for SSH and no live difference after 10 s: {ev:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}
