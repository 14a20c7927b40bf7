//! `driftwall check` and `driftwall probe` on firewalld configuration
//! folders written here: the verdicts firewalld's rules give, and reports
//! that name the zone file and line behind them.
//!
//! Every folder is read with the built-in stock table
//! (`--firewalld-stock builtin` for check; probe reads the host's
//! `/usr/lib/firewalld` when present, which holds the same stock services).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{Scratch, driftwall};

/// A firewalld folder `ROOT/etc/firewalld` of the given files.
fn folder(s: &Scratch, files: &[(&str, &str)]) -> PathBuf {
    let dir = s.path().join("etc/firewalld");
    for (path, text) in files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&target, text).expect("write");
    }
    dir
}

fn zone(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<zone>\n{body}</zone>\n")
}

const POLICY: &str = r"policy: firewalld-test
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

fn check(policy: &Path, dir: &Path) -> (i32, Value, String) {
    let (code, out, err) = driftwall(&[
        "check",
        "--format",
        "json",
        "--firewalld-stock",
        "builtin",
        "-p",
        policy.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v, err)
}

fn result<'a>(v: &'a Value, requirement: &str) -> &'a Value {
    v["inputs"][0]["results"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["requirement"] == requirement))
        .unwrap_or_else(|| panic!("no result {requirement}: {v:#}"))
}

/// The first culprit of a failed requirement: file and line.
fn culprit(v: &Value, requirement: &str) -> (String, u64) {
    let c = &result(v, requirement)["failures"][0]["culprits"][0];
    (
        c["file"].as_str().unwrap_or("").to_string(),
        c["line"].as_u64().unwrap_or(0),
    )
}

#[test]
fn a_firewalld_folder_is_checked_and_the_culprit_is_the_zone_file_line() {
    let s = Scratch::new("firewalld-cli");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=public\n"),
            (
                "zones/public.xml",
                &zone(
                    "  <interface name=\"eth0\"/>\n  <service name=\"ssh\"/>\n  <service name=\"https\"/>\n\
                     <rule family=\"ipv4\">\n    <source address=\"0.0.0.0/0\"/>\n    <port port=\"443\" protocol=\"tcp\"/>\n    <drop/>\n  </rule>\n",
                ),
            ),
        ],
    );
    let policy = s.file("policy.yaml", POLICY);
    let (code, v, err) = check(&policy, &dir);
    assert_eq!(code, 1, "{v:#}{err}");
    assert_eq!(v["inputs"][0]["path"], dir.display().to_string());
    assert_eq!(result(&v, "ssh-open")["status"], "pass");
    assert_eq!(result(&v, "telnet-closed")["status"], "pass");
    // The drop at priority 0 beats the https service: firewalld's `_deny`
    // chain comes before `_allow`. The report names the rule's element.
    assert_eq!(result(&v, "https-open")["status"], "fail");
    let (file, line) = culprit(&v, "https-open");
    assert!(file.ends_with("etc/firewalld/zones/public.xml"), "{file}");
    assert_eq!(line, 6);

    // The human report shows the file:line and the XML.
    let (code, out, _) = driftwall(&[
        "check",
        "--firewalld-stock",
        "builtin",
        "-p",
        policy.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("zones/public.xml:6:"), "{out}");
    assert!(out.contains("<rule"), "{out}");
}

/// A folder with `firewalld.conf` or `zones/` is firewalld's, not ufw's.
#[test]
fn a_folder_with_zones_is_read_as_firewalld_and_its_errors_name_the_file() {
    let s = Scratch::new("firewalld-cli-errors");
    let dir = folder(
        &s,
        &[(
            "zones/public.xml",
            &zone("  <port port=\"70000\" protocol=\"tcp\"/>\n"),
        )],
    );
    let policy = s.file("policy.yaml", POLICY);
    let (code, out, err) = driftwall(&[
        "check",
        "--firewalld-stock",
        "builtin",
        "-p",
        policy.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    let all = format!("{out}{err}");
    assert!(all.contains("zones/public.xml:3:15"), "{all}");
    assert!(all.contains("`70000` is not a port"), "{all}");
}

fn probe(dir: &Path, s: &Scratch, probes: &str) -> Vec<(String, String)> {
    let file = s.file("probes.json", probes);
    let (code, out, err) = driftwall(&[
        "probe",
        "--input-format",
        "firewalld",
        "--probes",
        file.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v.as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or("").to_string(),
                p["verdict"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Every (probe id, verdict) of `want` is among the answers.
fn assert_verdicts(got: &[(String, String)], want: &[(&str, &str)]) {
    for (id, verdict) in want {
        assert!(
            got.iter().any(|(i, v)| i == id && v == verdict),
            "{id}: want {verdict}, got {got:?}"
        );
    }
}

/// Zone precedence, the misreading of firewalld#689 and #441: a source
/// binding takes the packet before the interface's zone does, and a zone
/// bound to nothing takes nothing; the default zone takes the rest.
#[test]
fn a_source_binding_wins_over_the_interface_zone() {
    let s = Scratch::new("firewalld-precedence");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=public\n"),
            (
                "zones/public.xml",
                &zone("<interface name=\"eth0\"/>\n<service name=\"http\"/>\n"),
            ),
            (
                "zones/internal.xml",
                &zone("<source address=\"10.0.0.0/8\"/>\n<service name=\"ssh\"/>\n"),
            ),
            ("zones/dmz.xml", &zone("<interface name=\"eth1\"/>\n")),
        ],
    );
    let probes = r#"[
      {"id":"http-from-world-eth0","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":80,"iif":"eth0"},
      {"id":"http-from-10-eth0","kind":"in","proto":"tcp","src":"10.1.1.1","dst":"198.51.100.1","sport":40000,"dport":80,"iif":"eth0"},
      {"id":"ssh-from-10-eth0","kind":"in","proto":"tcp","src":"10.1.1.1","dst":"198.51.100.1","sport":40000,"dport":22,"iif":"eth0"},
      {"id":"ssh-from-world-eth0","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":22,"iif":"eth0"},
      {"id":"http-on-eth1","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":80,"iif":"eth1"},
      {"id":"http-on-eth9","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":80,"iif":"eth9"}
    ]"#;
    let got = probe(&dir, &s, probes);
    let want = [
        ("http-from-world-eth0", "allow"),
        ("http-from-10-eth0", "reject"),
        ("ssh-from-10-eth0", "allow"),
        ("ssh-from-world-eth0", "reject"),
        ("http-on-eth1", "reject"),
        ("http-on-eth9", "allow"),
    ];
    assert_verdicts(&got, &want);
}

/// Targets and policies: DROP drops what no rule accepts, ACCEPT accepts
/// it; a policy from ANY to HOST with a negative priority decides before
/// the zone; a HOST to ANY policy rejects the host's own SMTP.
#[test]
fn targets_and_policies_decide_in_firewalld_order() {
    let s = Scratch::new("firewalld-targets");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=drop\n"),
            (
                "zones/drop.xml",
                "<?xml version=\"1.0\"?>\n<zone target=\"DROP\">\n<service name=\"ssh\"/>\n</zone>\n",
            ),
            (
                "zones/trusted.xml",
                "<?xml version=\"1.0\"?>\n<zone target=\"ACCEPT\">\n<interface name=\"lan0\"/>\n</zone>\n",
            ),
            (
                "policies/block-db.xml",
                "<?xml version=\"1.0\"?>\n<policy priority=\"-100\" target=\"CONTINUE\">\n\
                 <ingress-zone name=\"ANY\"/>\n<egress-zone name=\"HOST\"/>\n\
                 <rule><port port=\"5432\" protocol=\"tcp\"/><reject/></rule>\n</policy>\n",
            ),
            (
                "policies/no-smtp.xml",
                "<?xml version=\"1.0\"?>\n<policy target=\"CONTINUE\">\n\
                 <ingress-zone name=\"HOST\"/>\n<egress-zone name=\"ANY\"/>\n\
                 <rule><port port=\"25\" protocol=\"tcp\"/><reject/></rule>\n</policy>\n",
            ),
        ],
    );
    let probes = r#"[
      {"id":"ssh-wan","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":22,"iif":"wan0"},
      {"id":"web-wan","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":80,"iif":"wan0"},
      {"id":"web-lan","kind":"in","proto":"tcp","src":"192.168.1.5","dst":"192.168.1.1","sport":40000,"dport":80,"iif":"lan0"},
      {"id":"db-lan","kind":"in","proto":"tcp","src":"192.168.1.5","dst":"192.168.1.1","sport":40000,"dport":5432,"iif":"lan0"},
      {"id":"smtp-out","kind":"out","proto":"tcp","src":"198.51.100.1","dst":"192.0.2.25","sport":40000,"dport":25,"oif":"wan0"},
      {"id":"https-out","kind":"out","proto":"tcp","src":"198.51.100.1","dst":"192.0.2.25","sport":40000,"dport":443,"oif":"wan0"}
    ]"#;
    let got = probe(&dir, &s, probes);
    let want = [
        ("ssh-wan", "allow"),
        ("web-wan", "drop"),
        ("web-lan", "allow"),
        ("db-lan", "reject"),
        ("smtp-out", "reject"),
        ("https-out", "allow"),
    ];
    assert_verdicts(&got, &want);
}

/// A zone written but bound to nothing in the files may get interfaces
/// from NetworkManager at run time: what it would decide differently from
/// the default zone is indeterminate, and the report names the zone.
#[test]
fn a_zone_bound_only_at_run_time_makes_results_indeterminate() {
    let s = Scratch::new("firewalld-runtime");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=public\n"),
            ("zones/public.xml", &zone("<service name=\"ssh\"/>\n")),
            ("zones/office.xml", &zone("<service name=\"telnet\"/>\n")),
        ],
    );
    let policy = s.file("policy.yaml", POLICY);
    let (_, v, _) = check(&policy, &dir);
    assert_eq!(result(&v, "ssh-open")["status"], "indeterminate", "{v:#}");
    assert_eq!(result(&v, "telnet-closed")["status"], "indeterminate");
    let (file, line) = culprit(&v, "ssh-open");
    assert!(file.ends_with("zones/office.xml"), "{file}");
    assert_eq!(line, 2);
}

/// `driftwall diff --base REV` on a firewalld folder reads its files at the
/// revision: a service removed from a zone breaks the requirement, and the
/// report names the zone file.
#[test]
fn diff_against_a_git_revision_reads_the_folder_at_that_revision() {
    let s = Scratch::new("firewalld-git");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=public\n"),
            (
                "zones/public.xml",
                &zone("<service name=\"ssh\"/>\n<service name=\"https\"/>\n"),
            ),
        ],
    );
    let policy = s.file("policy.yaml", POLICY);
    support::git(s.path(), &["init", "-q"]);
    support::git(s.path(), &["add", "."]);
    support::git(s.path(), &["commit", "-q", "-m", "base"]);
    std::fs::write(
        dir.join("zones/public.xml"),
        zone("<service name=\"ssh\"/>\n"),
    )
    .expect("write");
    let (code, out, err) = driftwall(&[
        "diff",
        "--base",
        "HEAD",
        "-p",
        policy.to_str().unwrap_or(""),
        dir.to_str().unwrap_or(""),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("https-open: pass -> FAIL"), "{out}");
    assert!(out.contains("zones/public.xml"), "{out}");
}

/// A forward port to the host itself (a redirect, `to-port` without
/// `to-addr`) is let through by `ct status dnat accept` in input, though the
/// zone opens neither port; the port it redirects to stays closed to
/// direct connections.
#[test]
fn a_forward_port_is_accepted_by_its_dnat_status() {
    let s = Scratch::new("firewalld-forward-port");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=public\n"),
            (
                "zones/public.xml",
                &zone(
                    "<interface name=\"eth0\"/>\n<forward-port port=\"8080\" protocol=\"tcp\" to-port=\"9999\"/>\n",
                ),
            ),
        ],
    );
    let probes = r#"[
      {"id":"forwarded","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":8080,"iif":"eth0"},
      {"id":"direct","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":9999,"iif":"eth0"}
    ]"#;
    let got = probe(&dir, &s, probes);
    for (id, verdict) in [("forwarded", "allow"), ("direct", "reject")] {
        assert!(
            got.iter().any(|(i, v)| i == id && v == verdict),
            "{id}: want {verdict}, got {got:?}"
        );
    }
}

/// direct.xml rules go to iptables' own chains, which hook before
/// firewalld's table: a DROP there is final, an ACCEPT only ends that
/// chain (firewalld's zone still rejects what it does not allow). IPv6 is
/// untouched by an ipv4 rule.
#[test]
fn direct_rules_run_before_the_zones_and_only_their_drops_are_final() {
    let s = Scratch::new("firewalld-direct");
    let dir = folder(
        &s,
        &[
            ("firewalld.conf", "DefaultZone=public\n"),
            (
                "zones/public.xml",
                &zone("<interface name=\"eth0\"/>\n<service name=\"ssh\"/>\n"),
            ),
            (
                "direct.xml",
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<direct>\n\
                 <rule ipv=\"ipv4\" table=\"filter\" chain=\"INPUT\" priority=\"1\">-p tcp --dport 23 -j ACCEPT</rule>\n\
                 <rule ipv=\"ipv4\" table=\"filter\" chain=\"INPUT\" priority=\"0\">-p tcp --dport 22 -s 192.0.2.0/24 -j DROP</rule>\n\
                 </direct>\n",
            ),
        ],
    );
    let probes = r#"[
      {"id":"ssh-blocked","kind":"in","proto":"tcp","src":"192.0.2.1","dst":"198.51.100.1","sport":40000,"dport":22,"iif":"eth0"},
      {"id":"ssh-other","kind":"in","proto":"tcp","src":"203.0.113.1","dst":"198.51.100.1","sport":40000,"dport":22,"iif":"eth0"},
      {"id":"telnet","kind":"in","proto":"tcp","src":"203.0.113.1","dst":"198.51.100.1","sport":40000,"dport":23,"iif":"eth0"}
    ]"#;
    let got = probe(&dir, &s, probes);
    for (id, verdict) in [
        ("ssh-blocked", "drop"),
        ("ssh-other", "allow"),
        ("telnet", "reject"),
    ] {
        assert!(
            got.iter().any(|(i, v)| i == id && v == verdict),
            "{id}: want {verdict}, got {got:?}"
        );
    }
    // The drop names its <rule> element in direct.xml.
    let policy = s.file("policy.yaml", POLICY);
    let (_, v, _) = check(&policy, &dir);
    let (file, line) = culprit(&v, "ssh-open");
    assert!(file.ends_with("etc/firewalld/direct.xml"), "{file}");
    assert_eq!(line, 4);
}

/// `driftwall diff` of a folder against the whole ruleset firewalld 1.3.3
/// programmed for it (recorded in a network namespace: `inet firewalld`
/// and the iptables tables of its direct rules) finds no connection whose
/// verdict changes, inbound, outbound or forwarded.
#[test]
fn the_folder_and_what_firewalld_programmed_are_equivalent() {
    let case = support::root().join("parsers/tests/firewalld_judged/gateway-direct");
    let s = Scratch::new("firewalld-equivalent");
    let policy = s.file(
        "policy.yaml",
        "policy: all\nrequirements:\n  - id: in\n    expect: deny\n    direction: inbound\n    protocol: [tcp, udp]\n    ports: [1-65535]\n\
         \x20 - id: out\n    expect: allow\n    direction: outbound\n    protocol: [tcp, udp]\n    ports: [1-65535]\n\
         \x20 - id: fwd\n    expect: deny\n    direction: forward\n    protocol: [tcp, udp]\n    ports: [1-65535]\n",
    );
    let (_, out, err) = driftwall(&[
        "diff",
        "--role",
        "gateway",
        "-p",
        policy.to_str().unwrap_or(""),
        case.join("etc-firewalld").to_str().unwrap_or(""),
        case.join("nft-list-ruleset.nft").to_str().unwrap_or(""),
    ]);
    assert!(
        out.contains("Equivalent for the policies: no connection"),
        "{out}{err}"
    );
}
