//! `driftwall watch` on a file that includes others (pf `include` and
//! `load anchor ... from`, nft `include` of a glob): the file and what it
//! includes are one source, so a change to an included file, or a file
//! added to an included folder, is noticed and assessed, and the alert
//! names the rule in the included file.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::{DaemonLog, Scratch, signal, wait_exit, watch};

const POLICY: &str = r"policy: includes
requirements:
  - id: ssh-open
    expect: allow
    direction: inbound
    protocol: tcp
    ports: [22]
  - id: https-open
    expect: allow
    direction: inbound
    protocol: tcp
    ports: [443]
  - id: telnet-closed
    expect: deny
    direction: inbound
    protocol: tcp
    ports: [23]
";

struct Setup {
    dir: Scratch,
    /// The watched file.
    top: PathBuf,
    config: PathBuf,
}

impl Setup {
    /// A scratch folder with the policy and a daemon configuration watching
    /// `top` (relative to it) as `format`.
    fn new(name: &str, top: &str, format: &str) -> Setup {
        let dir = Scratch::new(&format!("daemon-includes-{name}"));
        let top = dir.join(top);
        let policy = dir.file("policy.yaml", POLICY);
        let config = dir.file(
            "driftwall.yaml",
            &format!(
                "watch:\n  - path: {}\n    format: {format}\npolicies: [{}]\nstate_dir: {}\n\
                 debounce: 150ms\nrescan_interval: 30s\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
                top.display(),
                policy.display(),
                dir.join("state").display()
            ),
        );
        Setup { dir, top, config }
    }

    fn log(&self) -> DaemonLog {
        DaemonLog::new(self.dir.join("daemon.log"))
    }

    /// Every event in the outbox, as its JSON.
    fn events(&self) -> Vec<Value> {
        support::outbox_events(&self.dir.join("state"))
    }

    /// Waits for an event of `kind` about `requirement` going to `after`.
    fn wait_change(&self, requirement: &str, after: &str, what: &str) -> Value {
        let start = Instant::now();
        loop {
            if let Some(e) = self.events().into_iter().find(|e| {
                e["kind"] == "requirement-changed"
                    && e["requirements"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|r| r["requirement"] == requirement && r["after"] == after)
            }) {
                return e;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{what}: no event of {requirement} going to {after} after 10 s: {:#?}\n{}",
                self.events(),
                self.log().text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The watched source's state, as the daemon saved it.
    fn current(&self) -> Value {
        let state = support::saved_state(&self.dir.join("state"));
        state["current"][self.top.display().to_string()].clone()
    }
}

/// The rules an event's witnesses name now, as (file, line, text).
fn rules_after(event: &Value) -> Vec<(String, u64, String)> {
    event["requirements"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["witnesses"].as_array().into_iter().flatten())
        .filter_map(|w| {
            let p = &w["rule_after"];
            Some((
                p["file"].as_str()?.to_string(),
                p["line"].as_u64()?,
                p["text"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Writes a file the way editors do: a new file renamed over the old one.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[test]
fn a_pf_anchor_file_and_an_included_file_are_part_of_their_pf_conf() {
    let s = Setup::new("pf", "etc/pf.conf", "pf");
    let include = s
        .dir
        .file("etc/pf.d/ssh.conf", "pass in proto tcp to port 22\n");
    let anchor = s.dir.file(
        "etc/pf.anchors/web",
        "# the web server\npass in proto tcp to port 443\n",
    );
    s.dir.file(
        "etc/pf.conf",
        &format!(
            "set skip on lo0\nblock in all\npass out all\ninclude \"{}\"\nanchor \"web\"\n\
             load anchor \"web\" from \"{}\"\n",
            include.display(),
            anchor.display()
        ),
    );
    let mut child = watch(&s.config, &s.log())
        .spawn()
        .expect("start driftwall watch");
    s.log().wait_turn(0, "the first reading");
    assert!(s.events().is_empty(), "all pass at start: {:?}", s.events());
    let text = s.current()["text"].as_str().unwrap_or("").to_string();
    assert!(
        text.contains("pass in proto tcp to port 443") && text.contains("to port 22"),
        "the source's text holds the files it loads: {text}"
    );

    // The anchor file closes HTTPS.
    replace(
        &anchor,
        "# the web server\nblock in proto tcp to port 443\n",
    );
    let e = s.wait_change("https-open", "fail", "the anchor file changed");
    let shown = anchor.display().to_string();
    assert!(
        rules_after(&e).contains(&(shown.clone(), 2, "block in proto tcp to port 443".into())),
        "the culprit is the anchor file's rule, at its line: {:?}",
        rules_after(&e)
    );
    assert_eq!(e["source"], s.top.display().to_string());
    // Against the baseline, the rule that changed is in the anchor file too.
    let start = Instant::now();
    let changed = loop {
        let found = s.events().into_iter().find(|e| {
            e["kind"] == "ruleset-changed"
                && e["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r["new"]["file"] == shown.as_str() && r["new"]["line"] == 2)
        });
        if let Some(e) = found {
            break e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no rule change in the anchor file: {:#?}",
            s.events()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        changed["details"]
            .as_str()
            .is_some_and(|d| d.contains("block in proto tcp to port 443")),
        "{changed:#}"
    );

    // The included file, written in place, closes SSH.
    std::fs::write(&include, "block in proto tcp to port 22\n").expect("write");
    let e = s.wait_change("ssh-open", "fail", "the included file changed");
    assert!(
        rules_after(&e).contains(&(
            include.display().to_string(),
            1,
            "block in proto tcp to port 22".into()
        )),
        "{:?}",
        rules_after(&e)
    );

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

const NFT: &str = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n\
\t\tct state established,related accept\n\t}\n}\n";

#[test]
fn a_file_added_to_an_nft_include_folder_is_part_of_the_source() {
    let s = Setup::new("nft", "etc/nftables.conf", "nftables");
    let folder = s.dir.join("etc/nftables.d");
    s.dir.file(
        "etc/nftables.d/10-ssh.nft",
        "add rule inet filter input tcp dport 22 accept\n",
    );
    s.dir.file(
        "etc/nftables.d/20-web.nft",
        "add rule inet filter input tcp dport 443 accept\n",
    );
    s.dir.file(
        "etc/nftables.conf",
        &format!("{NFT}include \"{}/*.nft\"\n", folder.display()),
    );
    let mut child = watch(&s.config, &s.log())
        .spawn()
        .expect("start driftwall watch");
    s.log().wait_turn(0, "the first reading");
    assert!(s.events().is_empty(), "all pass at start: {:?}", s.events());

    // A new file in the folder opens telnet.
    let added = folder.join("30-telnet.nft");
    std::fs::write(
        &added,
        "# for the old switch\nadd rule inet filter input tcp dport 23 accept\n",
    )
    .expect("write");
    let e = s.wait_change("telnet-closed", "fail", "a file added to the folder");
    assert!(
        rules_after(&e)
            .iter()
            .any(|(f, l, t)| *f == added.display().to_string()
                && *l == 2
                && t.contains("dport 23")),
        "the culprit is the new file's rule, at its line: {:?}",
        rules_after(&e)
    );
    assert!(
        s.current()["text"]
            .as_str()
            .is_some_and(|t| t.contains("tcp dport 23 accept") && t.contains("tcp dport 443")),
        "{}",
        s.current()
    );

    // It goes again: telnet is closed again.
    std::fs::remove_file(&added).expect("remove");
    s.wait_change("telnet-closed", "pass", "the file removed");

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn an_include_folder_made_after_the_start_is_watched_from_then_on() {
    let s = Setup::new("nft-later", "etc/nftables.conf", "nftables");
    let folder = s.dir.join("etc/nftables.d");
    s.dir.file(
        "etc/nftables.conf",
        &format!("{NFT}include \"{}/*.nft\"\n", folder.display()),
    );
    let mut child = watch(&s.config, &s.log())
        .spawn()
        .expect("start driftwall watch");
    s.log().wait_turn(0, "the first reading");
    // Nothing included yet: SSH is closed.
    assert!(
        s.log()
            .text()
            .contains("a watched folder is not there; its return is watched for"),
        "the folder is not there to watch: {}",
        s.log().text()
    );
    // The folder appears (in the top file's folder, which is watched): the
    // daemon watches it from the turn that reads the file again.
    let assessed = s.log().count("assessed");
    std::fs::create_dir(&folder).expect("mkdir");
    s.log().wait_turn(assessed, "the new folder seen");
    // Only its watch (the rescan is 30 s away) can see this file.
    std::fs::write(
        folder.join("10-ssh.nft"),
        "add rule inet filter input tcp dport 22 accept\n",
    )
    .expect("write");
    let e = s.wait_change("ssh-open", "pass", "a file in the new folder");
    assert_eq!(e["source"], s.top.display().to_string());

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn the_live_ruleset_is_compared_with_the_file_and_what_it_includes() {
    let s = Setup::new("live", "etc/pf.conf", "pf");
    let include = s
        .dir
        .file("etc/pf.d/ssh.conf", "pass in proto tcp to port 22\n");
    s.dir.file(
        "etc/pf.conf",
        "set skip on lo0\nblock in all\npass out all\ninclude \"pf.d/ssh.conf\"\n",
    );
    // What pfctl would print of it: the same rules, one file.
    let live = s.dir.file(
        "live.pf",
        "block drop in all\npass out all flags S/SA keep state\n\
         pass in proto tcp from any to any port = ssh flags S/SA keep state\n",
    );
    std::fs::write(
        &s.config,
        format!(
            "watch:\n  - command: [cat, {}]\n    format: pf\n    interval: 200ms\n    compare_with: {}\n\
             policies: [{}]\nstate_dir: {}\ndebounce: 100ms\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
            live.display(),
            s.top.display(),
            s.dir.join("policy.yaml").display(),
            s.dir.join("state").display()
        ),
    )
    .expect("config");
    let mut child = watch(&s.config, &s.log())
        .spawn()
        .expect("start driftwall watch");
    s.log().wait_turn(0, "the first run of the command");
    let differs = |s: &Setup| {
        s.events()
            .iter()
            .filter(|e| e["kind"] == "live-differs")
            .count()
    };
    assert_eq!(differs(&s), 0, "{:#?}", s.events());
    // Only the included file changes: the next boot would close SSH.
    std::fs::write(&include, "block in proto tcp to port 22\n").expect("write");
    let start = Instant::now();
    while differs(&s) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no live difference after 10 s: {:#?}",
            s.events()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}
