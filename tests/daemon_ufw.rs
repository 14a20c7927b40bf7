//! `driftwall watch` on a ufw configuration: the folder and its defaults
//! file are one source, so a change to either is noticed and assessed the
//! way ufw would load the whole.

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::{DaemonLog, Scratch, signal, wait_exit, wait_until, watch};

const CONF: &str = "ENABLED=yes\nLOGLEVEL=low\n";
const DEFAULTS: &str = "IPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n\
                        DEFAULT_FORWARD_POLICY=\"DROP\"\n";
const BEFORE: &str = "*filter\n:ufw-before-input - [0:0]\n:ufw-before-output - [0:0]\n\
:ufw-before-forward - [0:0]\n-A ufw-before-input -i lo -j ACCEPT\n\
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
-A ufw-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n";
const AFTER: &str = "*filter\n:ufw-after-input - [0:0]\n:ufw-after-output - [0:0]\n\
:ufw-after-forward - [0:0]\nCOMMIT\n";
const USER: &str = "*filter\n:ufw-user-input - [0:0]\n:ufw-user-output - [0:0]\n\
:ufw-user-forward - [0:0]\n### RULES ###\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";

const POLICY: &str = r"policy: ufw-daemon
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

struct Setup {
    dir: Scratch,
    ufw: PathBuf,
    defaults: PathBuf,
    config: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let dir = Scratch::new("daemon-ufw");
        let ufw = dir.join("etc/ufw");
        let defaults = dir.join("etc/default/ufw");
        dir.file("etc/ufw/ufw.conf", CONF);
        dir.file("etc/default/ufw", DEFAULTS);
        for (name, text) in [
            ("before.rules", BEFORE.to_string()),
            ("after.rules", AFTER.to_string()),
            ("user.rules", USER.to_string()),
            ("before6.rules", BEFORE.replace("ufw-", "ufw6-")),
            ("after6.rules", AFTER.replace("ufw-", "ufw6-")),
            ("user6.rules", USER.replace("ufw-", "ufw6-")),
        ] {
            dir.file(&format!("etc/ufw/{name}"), &text);
        }
        let policy = dir.file("policy.yaml", POLICY);
        let config = dir.file(
            "driftwall.yaml",
            &format!(
                "watch:\n  - path: {}\npolicies: [{}]\nstate_dir: {}\ndebounce: 150ms\n\
                 rescan_interval: 30s\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
                ufw.display(),
                policy.display(),
                dir.join("state").display()
            ),
        );
        Setup {
            dir,
            ufw,
            defaults,
            config,
        }
    }

    fn log(&self) -> DaemonLog {
        DaemonLog::new(self.dir.join("daemon.log"))
    }

    /// The kinds of the events in the outbox.
    fn events(&self) -> Vec<String> {
        support::outbox_events(&self.dir.join("state"))
            .iter()
            .map(|ev| ev["kind"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn wait_events(&self, n: usize, what: &str) -> Vec<String> {
        let start = Instant::now();
        loop {
            let ev = self.events();
            if ev.len() >= n {
                return ev;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{what}: {} events after 10 s, expected {n}: {ev:?}",
                ev.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn the_folder_and_its_defaults_file_are_one_source() {
    let s = Setup::new();
    let mut child = watch(&s.config, &s.log())
        .spawn()
        .expect("start driftwall watch");
    // Default deny, SSH allowed: nothing fails at start.
    s.log().wait_turn(0, "the first reading");
    assert!(s.log().text().contains("watching the ufw configuration"));
    assert!(s.events().is_empty(), "{:?}", s.events());

    // The defaults file opens everything: telnet is no longer denied.
    let assessed = s.log().count("assessed");
    std::fs::write(
        &s.defaults,
        DEFAULTS.replace(
            "DEFAULT_INPUT_POLICY=\"DROP\"",
            "DEFAULT_INPUT_POLICY=\"ACCEPT\"",
        ),
    )
    .expect("write defaults");
    s.log().wait_turn(assessed, "the defaults file assessed");
    let ev = s.wait_events(1, "the defaults file changed");
    assert!(ev.iter().any(|k| k == "requirement-changed"), "{ev:?}");

    // Rules in user.rules and user6.rules close telnet again.
    let before = s.events().len();
    for (name, prefix) in [("user.rules", "ufw"), ("user6.rules", "ufw6")] {
        let rules = USER.replace("ufw-", &format!("{prefix}-"));
        let deny = format!("### RULES ###\n-A {prefix}-user-input -p tcp --dport 23 -j DROP\n");
        std::fs::write(s.ufw.join(name), rules.replace("### RULES ###\n", &deny))
            .expect("write the user rules");
    }
    s.wait_events(before + 1, "the user rules changed");
    // Both files may be read in one turn or in two: wait for the second.
    wait_until(Duration::from_secs(10), "telnet closed again", || {
        let text = support::saved_state(&s.dir.join("state")).to_string();
        text.contains("ufw6-user-input -p tcp --dport 23 -j DROP")
            .then_some(())
    });

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
    let state = support::saved_state(&s.dir.join("state"));
    let key = s.ufw.display().to_string();
    let results = state["current"][&key]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let telnet = results.iter().find(|r| r["requirement"] == "telnet-closed");
    assert_eq!(
        telnet.map(|r| r["status"].clone()),
        Some("pass".into()),
        "{results:?}"
    );
    assert!(
        state["current"][&key]["text"]
            .as_str()
            .is_some_and(|t| t.contains("DEFAULT_INPUT_POLICY=\"ACCEPT\"")
                && t.contains("ufw6-user-input -p tcp --dport 23 -j DROP")),
        "the source is the folder, with its defaults file"
    );
}
