//! `driftwall watch` on a firewalld configuration folder: its files are one
//! source, so an edit to any zone, or a zone file added, is one new version,
//! assessed the way firewalld would apply the whole; culprits name the XML
//! file and line. And the live ruleset (`nft -j list ruleset`) compared
//! with the folder by what the rules do.
//!
//! The folder is `examples/firewalld/etc/firewalld` (a RHEL 9 web host),
//! read over the built-in stock table. `daemon_firewalld/rhel-web-host.nft.json`
//! is what firewalld 1.3.3 programmed for it
//! (`parsers/tests/firewalld_judged/rhel-web-host/firewalld-1.3.3.nft`),
//! loaded with `nft -f` in a network namespace and printed by
//! `ip netns exec NS nft -j list ruleset` (nftables 1.0.6); a script prints
//! it as `nft -j list ruleset` would.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{DaemonLog, Scratch, signal, wait_exit, wait_until, watch};

/// HTTPS and SSH from the Internet (`public`), telnet from nowhere.
const POLICY: &str = r"policy: firewalld-daemon
requirements:
  - id: https-open
    expect: allow
    direction: inbound
    protocol: tcp
    ports: [443]
    from: [192.0.2.0/24]
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

/// The saved state (null before the first save).
fn state(dir: &Path) -> Value {
    support::saved_state(&dir.join("state"))
}

/// The results the daemon saved for `source`, as (requirement, status).
fn results(dir: &Path, source: &str) -> Vec<(String, String)> {
    support::saved_results(&dir.join("state"), source)
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// The example's folder copied to `ROOT/etc/firewalld`.
fn example_folder(s: &Scratch) -> PathBuf {
    let from = support::root().join("examples/firewalld/etc/firewalld");
    let to = s.join("etc/firewalld");
    for kind in ["", "zones", "services", "policies"] {
        let dir = from.join(kind);
        for e in std::fs::read_dir(&dir).expect("the example").flatten() {
            if e.path().is_file() {
                let name = Path::new(kind).join(e.file_name());
                s.file(
                    &format!("etc/firewalld/{}", name.display()),
                    &std::fs::read_to_string(e.path()).expect("read"),
                );
            }
        }
    }
    to
}

/// The line of `needle` in `path`, from 1.
fn line_of(path: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("no `{needle}` in {}", path.display()))
}

/// The requirement-changed events of `requirement` that ended in `after`.
fn changed<'a>(ev: &'a [Value], requirement: &str, after: &str) -> Vec<&'a Value> {
    ev.iter()
        .filter(|e| {
            e["kind"] == "requirement-changed"
                && e["requirements"][0]["requirement"] == requirement
                && e["requirements"][0]["after"] == after
        })
        .collect()
}

/// The culprits (file, line) an event's witnesses name, after the change.
fn culprits(e: &Value) -> Vec<(String, u64)> {
    e["requirements"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["witnesses"].as_array().into_iter().flatten())
        .map(|w| {
            (
                w["rule_after"]["file"].as_str().unwrap_or("").to_string(),
                w["rule_after"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn config(s: &Scratch, watch: &str) -> PathBuf {
    let policy = s.file("policy.yaml", POLICY);
    s.file(
        "driftwall.yaml",
        &format!(
            "watch:\n{watch}policies: [{}]\nstate_dir: {}\ndebounce: 150ms\n\
             rescan_interval: 30s\nalerts:\n  group_wait: 0s\n  group_interval: 0s\n",
            policy.display(),
            s.join("state").display()
        ),
    )
}

#[test]
fn the_folder_is_one_source_and_a_zone_edit_names_its_file_and_line() {
    let s = Scratch::new("daemon-firewalld");
    let dir = example_folder(&s);
    let config = config(
        &s,
        &format!("  - path: {}\n    stock: builtin\n", dir.display()),
    );
    let log = DaemonLog::new(s.join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    let source = dir.display().to_string();
    log.wait_turn(0, "the first reading");
    assert!(
        log.text().contains("watching the firewalld configuration"),
        "{}",
        log.text()
    );
    assert_eq!(
        results(&s, &source),
        [pair("https-open", "pass"), pair("telnet-closed", "pass")],
        "{}",
        log.text()
    );
    assert!(events(&s).is_empty(), "{:#?}", events(&s));

    // `public` loses https: the zone's reject (its `<zone>` element) is what
    // an HTTPS client from the Internet meets now.
    let public = dir.join("zones/public.xml");
    let text = std::fs::read_to_string(&public).expect("read");
    let zone_line = line_of(&public, "<zone>");
    let assessed = log.count("assessed");
    std::fs::write(&public, text.replace("  <service name=\"https\"/>\n", "")).expect("write");
    log.wait_turn(assessed, "public.xml assessed");
    let ev = wait_until(Duration::from_secs(10), "https closed", || {
        let ev = events(&s);
        (!changed(&ev, "https-open", "fail").is_empty()).then_some(ev)
    });
    let https = changed(&ev, "https-open", "fail")[0];
    assert_eq!(https["source"], source.as_str(), "{https:#}");
    assert!(
        culprits(https).contains(&(public.display().to_string(), zone_line)),
        "the culprit is public.xml's line {zone_line}: {https:#}"
    );

    // Against the baseline, read back from the text kept (the disk has no
    // https line any more): the rule that went, at its old line.
    let removed = format!(
        "- {}:{}  <service name=\"https\"/>",
        public.display(),
        text.lines()
            .position(|l| l.contains("\"https\""))
            .map_or(0, |i| i + 1)
    );
    wait_until(
        Duration::from_secs(10),
        "the removed rule in the diff",
        || {
            events(&s)
                .iter()
                .any(|e| {
                    e["kind"] == "ruleset-changed"
                        && e["details"].as_str().is_some_and(|d| d.contains(&removed))
                })
                .then_some(())
        },
    );

    // A zone file added binds a new interface and lets telnet in there.
    let lab = dir.join("zones/lab.xml");
    let before = events(&s).len();
    std::fs::write(
        &lab,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone target=\"default\">\n  \
         <interface name=\"ens4\"/>\n  <service name=\"telnet\"/>\n</zone>\n",
    )
    .expect("write");
    let ev = wait_until(Duration::from_secs(10), "telnet open on ens4", || {
        let ev = events(&s);
        (ev.len() > before && !changed(&ev, "telnet-closed", "fail").is_empty()).then_some(ev)
    });
    // The witness's path through the rules goes through lab.xml's service.
    let telnet = changed(&ev, "telnet-closed", "fail")[0];
    let service_at = format!("{}:{}:", lab.display(), line_of(&lab, "telnet"));
    assert!(
        telnet["details"]
            .as_str()
            .is_some_and(|d| d.contains(&service_at)),
        "{service_at} accepts telnet: {telnet:#}"
    );
    // Against the baseline, the new binding is a rule of lab.xml's line.
    let binding_at = format!(
        "+ {}:{}  <interface name=\"ens4\"/>",
        lab.display(),
        line_of(&lab, "<interface")
    );
    wait_until(Duration::from_secs(10), "the binding in the diff", || {
        events(&s)
            .iter()
            .any(|e| {
                e["kind"] == "ruleset-changed"
                    && e["details"]
                        .as_str()
                        .is_some_and(|d| d.contains(&binding_at))
            })
            .then_some(())
    });

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
    // One source: the folder, every file in its one text; the baseline is
    // the first reading, and the diff against it was read from the bundle.
    let st = state(&s);
    let current = st["current"][&source]["text"].as_str().unwrap_or("");
    assert!(
        current.contains("zones/lab.xml") && current.contains("services/app-metrics.xml"),
        "{current}"
    );
    assert!(
        st["baseline"][&source]["text"]
            .as_str()
            .is_some_and(|t| t.contains("<service name=\"https\"/>") && !t.contains("lab.xml")),
        "the baseline is the folder as it was"
    );
    assert_eq!(
        st["current"].as_object().map(|o| o.len()),
        Some(1),
        "one source, not one per file"
    );
}

#[test]
fn a_zones_folder_made_after_the_start_is_watched() {
    let s = Scratch::new("daemon-firewalld-new");
    let dir = s.join("etc/firewalld");
    s.file("etc/firewalld/firewalld.conf", "DefaultZone=public\n");
    let config = config(
        &s,
        &format!("  - path: {}\n    stock: builtin\n", dir.display()),
    );
    let log = DaemonLog::new(s.join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    let source = dir.display().to_string();
    log.wait_turn(0, "the first reading");
    assert_eq!(
        results(&s, &source),
        [pair("https-open", "fail"), pair("telnet-closed", "pass")],
        "the stock public zone: ssh and dhcpv6-client only"
    );

    // zones/ is made, with a public zone that lets telnet in.
    let zone = |services: &str| {
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n{services}</zone>\n")
    };
    s.file(
        "etc/firewalld/zones/public.xml",
        &zone("  <service name=\"ssh\"/>\n  <service name=\"telnet\"/>\n"),
    );
    wait_until(Duration::from_secs(10), "telnet open", || {
        (results(&s, &source).contains(&pair("telnet-closed", "fail"))).then_some(())
    });
    // Rewritten inside zones/, which only its own watch sees (the rescan
    // is 30 s away).
    s.file(
        "etc/firewalld/zones/public.xml",
        &zone("  <service name=\"ssh\"/>\n  <service name=\"https\"/>\n"),
    );
    wait_until(Duration::from_secs(10), "https open, telnet closed", || {
        (results(&s, &source) == [pair("https-open", "pass"), pair("telnet-closed", "pass")])
            .then_some(())
    });

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn the_live_ruleset_is_compared_with_the_folder_by_what_it_does() {
    let s = Scratch::new("daemon-firewalld-live");
    let dir = example_folder(&s);
    let recorded = std::fs::read_to_string(
        support::root().join("tests/daemon_firewalld/rhel-web-host.nft.json"),
    )
    .expect("the recorded ruleset");
    let live = s.file("live.json", &recorded);
    let script = s.file(
        "bin/nft",
        &format!(
            "#!/bin/sh\n# nft -j list ruleset, as nft printed it\ncat '{}'\n",
            live.display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let config = config(
        &s,
        &format!(
            "  - path: {dir}\n    stock: builtin\n  - command: [{}, -j, list, ruleset]\n    \
             interval: 200ms\n    compare_with: {dir}\n",
            script.display(),
            dir = dir.display()
        ),
    );
    let log = DaemonLog::new(s.join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    let name = format!("live: {} -j list ruleset", script.display());
    log.wait_turn(1, "the folder and the live ruleset read");
    // What firewalld programmed for the folder does what the folder says.
    wait_until(Duration::from_secs(10), "the live ruleset compared", || {
        state(&s)["compared"].get(&name).map(|_| ())
    });
    assert_eq!(
        results(&s, &name),
        [pair("https-open", "pass"), pair("telnet-closed", "pass")],
        "{}",
        log.text()
    );
    let st = state(&s);
    assert!(
        st["live_differs"].get(&name).is_none(),
        "{:#}",
        st["live_differs"]
    );
    assert!(
        events(&s).iter().all(|e| e["kind"] != "live-differs"),
        "{:#?}",
        events(&s)
    );

    // HTTPS moved to 4443 by hand (`nft` without firewalld): the kernel no
    // longer does what the folder says.
    assert_eq!(recorded.matches("\"right\": 443}").count(), 1);
    std::fs::write(
        &live,
        recorded.replace("\"right\": 443}", "\"right\": 4443}"),
    )
    .expect("write");
    let ev = wait_until(Duration::from_secs(10), "the live difference", || {
        let ev = events(&s);
        ev.iter()
            .find(|e| e["kind"] == "live-differs")
            .cloned()
            .map(|e| (e, ev))
    });
    let (differs, all) = ev;
    assert_eq!(differs["source"], name.as_str());
    assert!(
        differs["summary"]
            .as_str()
            .is_some_and(|t| t.contains(&dir.display().to_string())),
        "{differs:#}"
    );
    assert!(
        !changed(&all, "https-open", "fail").is_empty(),
        "the live source's own result changed too: {all:#?}"
    );

    // Put back: no difference any more.
    std::fs::write(&live, &recorded).expect("write");
    wait_until(Duration::from_secs(10), "the difference cleared", || {
        state(&s)["live_differs"].get(&name).is_none().then_some(())
    });

    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

/// Without CAP_NET_ADMIN `nft` fails at every run: said once as a warning,
/// then at debug level, and again when it runs.
#[test]
fn a_live_command_that_keeps_failing_is_said_once() {
    let s = Scratch::new("daemon-firewalld-nft-fails");
    let dir = example_folder(&s);
    let script = s.file(
        "bin/nft",
        "#!/bin/sh\necho 'netlink: Error: cache initialization failed: Operation not permitted' >&2\nexit 1\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let config = config(
        &s,
        &format!(
            "  - command: [{}, -j, list, ruleset]\n    interval: 100ms\n    compare_with: {}\n",
            script.display(),
            dir.display()
        ),
    );
    let log = DaemonLog::new(s.join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    let failed = |level: &str| {
        log.text()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| {
                v["level"] == level
                    && v["fields"]["message"]
                        .as_str()
                        .or(v["message"].as_str())
                        .is_some_and(|m| m.contains("Operation not permitted"))
            })
            .count()
    };
    wait_until(Duration::from_secs(10), "five failed runs", || {
        (failed("DEBUG") >= 4).then_some(())
    });
    assert_eq!(failed("WARN"), 1, "{}", log.text());
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

/// The stock folder beside the folder (`ROOT/usr/lib/firewalld`) is part of
/// the source: a stock service changed (a package update) is a new version,
/// and its culprit is in the stock folder.
#[test]
fn the_stock_folder_is_part_of_the_source() {
    let s = Scratch::new("daemon-firewalld-stock");
    let dir = s.join("etc/firewalld");
    s.file("etc/firewalld/firewalld.conf", "DefaultZone=public\n");
    let stock_zone = s.file(
        "usr/lib/firewalld/zones/public.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n  <short>Public</short>\n  \
         <service name=\"ssh\"/>\n  <service name=\"https\"/>\n</zone>\n",
    );
    let service = |port: u16| {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service>\n  <short>HTTPS</short>\n  \
             <port protocol=\"tcp\" port=\"{port}\"/>\n</service>\n"
        )
    };
    s.file(
        "usr/lib/firewalld/services/ssh.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service>\n  <port protocol=\"tcp\" port=\"22\"/>\n</service>\n",
    );
    s.file("usr/lib/firewalld/services/https.xml", &service(443));
    // No `stock:`: ROOT/usr/lib/firewalld, as on the host.
    let config = config(&s, &format!("  - path: {}\n", dir.display()));
    let log = DaemonLog::new(s.join("daemon.log"));
    let mut child = watch(&config, &log).spawn().expect("start driftwall watch");
    let source = dir.display().to_string();
    log.wait_turn(0, "the first reading");
    assert!(
        log.text()
            .contains(&s.join("usr/lib/firewalld").display().to_string()),
        "the stock folder is named at the start: {}",
        log.text()
    );
    assert_eq!(
        results(&s, &source),
        [pair("https-open", "pass"), pair("telnet-closed", "pass")],
        "{}",
        log.text()
    );

    // The stock https service moves to 8443.
    s.file("usr/lib/firewalld/services/https.xml", &service(8443));
    let ev = wait_until(Duration::from_secs(10), "https closed", || {
        let ev = events(&s);
        (!changed(&ev, "https-open", "fail").is_empty()).then_some(ev)
    });
    let https = changed(&ev, "https-open", "fail")[0];
    assert_eq!(https["source"], source.as_str(), "{https:#}");
    assert!(
        culprits(https).contains(&(stock_zone.display().to_string(), 2)),
        "the stock zone's reject: {https:#}"
    );
    signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
    assert!(
        state(&s)["current"][&source]["text"]
            .as_str()
            .is_some_and(|t| t.contains("usr/lib/firewalld/services/https.xml")
                && t.contains("port=\"8443\"")),
        "the stock files are in the source's text"
    );
}
