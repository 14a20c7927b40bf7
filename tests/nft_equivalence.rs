//! The same ruleset written as iptables-save and as nft gives the same
//! results. `../shared/bench/gen_rulesets.py` renders one model into both
//! formats with the same verdicts for new connections (iptables as an IPv4
//! file, nft as `table inet filter`); `driftwall check` must then agree on
//! every requirement for IPv4, down to the verdicts of the failing parts.
//!
//! Needs python3 and the generator (`DRIFTWALL_BENCH` or `../shared/bench`);
//! without them the test prints why and passes, unless `DRIFTWALL_REQUIRE_ALL`
//! is set.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const POLICY: &str = r#"policy: equivalence
requirements:
  - {id: ssh, expect: allow, direction: inbound, protocol: tcp, ports: [22]}
  - {id: https, expect: allow, direction: inbound, protocol: tcp, ports: [443]}
  - {id: http, expect: allow, direction: inbound, protocol: tcp, ports: [80]}
  - {id: smtp, expect: allow, direction: inbound, protocol: tcp, ports: [25, 587]}
  - {id: dns-in, expect: allow, direction: inbound, protocol: [udp, tcp], ports: [53]}
  - {id: ntp-in, expect: allow, direction: inbound, protocol: udp, ports: [123]}
  - {id: snmp, expect: deny, direction: inbound, protocol: udp, ports: [161-162]}
  - {id: telnet, expect: deny, direction: inbound, protocol: tcp, ports: [23]}
  - {id: mysql, expect: deny, direction: inbound, protocol: tcp, ports: [3306]}
  - {id: dns-out, expect: allow, direction: outbound, protocol: udp, ports: [53]}
  - {id: web-out, expect: allow, direction: outbound, protocol: tcp, ports: [80, 443]}
  - {id: fwd-web, expect: allow, direction: forward, protocol: tcp, ports: [443]}
  - {id: fwd-db, expect: deny, direction: forward, protocol: tcp, ports: [5432]}
  - {id: fwd-voip, expect: allow, direction: forward, protocol: udp, ports: [5060]}
  - {id: vpn, expect: allow, direction: inbound, protocol: udp, ports: [51820]}
  - {id: high, expect: deny, direction: inbound, protocol: tcp, ports: [1024-65535]}
"#;

fn generator() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = [
        std::env::var("DRIFTWALL_BENCH").ok().map(PathBuf::from),
        Some(root.join("../shared/bench")),
    ]
    .into_iter()
    .flatten()
    .map(|d| d.join("gen_rulesets.py"))
    .find(|p| p.exists());
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match (found, python) {
        (Some(g), true) => Some(g),
        _ => {
            support::skip(
                "python3 or ../shared/bench/gen_rulesets.py not found (set DRIFTWALL_BENCH)",
            );
            None
        }
    }
}

/// Per requirement: its IPv4 status and the (direction, verdict, status)
/// of its IPv4 failures.
type Ipv4Results = Vec<(String, String, BTreeSet<(String, String, String)>)>;

fn ipv4_results(report: &Value) -> Ipv4Results {
    report["inputs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let fails: BTreeSet<(String, String, String)> = r["failures"]
                .as_array()
                .expect("failures")
                .iter()
                .filter(|f| f["family"] == "ipv4")
                .map(|f| {
                    (
                        f["direction"].to_string(),
                        f["verdict"].to_string(),
                        f["status"].to_string(),
                    )
                })
                .collect();
            let status = if fails.iter().any(|(_, _, s)| s == "\"fail\"") {
                "fail"
            } else if fails.is_empty() {
                "pass"
            } else {
                "indeterminate"
            };
            (
                r["requirement"].as_str().expect("id").to_string(),
                status.to_string(),
                fails,
            )
        })
        .collect()
}

fn check(policy: &Path, file: &Path, format: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args([
            "check",
            "--format",
            "json",
            "--role",
            "gateway",
            "--input-format",
            format,
            "--policy",
        ])
        .arg(policy)
        .arg(file)
        .output()
        .expect("run driftwall");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "driftwall check {} exited {code}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// Probes built from the addresses and ports the ruleset names (so they hit
/// its rules), with a simple deterministic generator.
fn probes_for(rules: &str, seed: u64) -> String {
    let mut addrs: Vec<String> = rules
        .split_whitespace()
        .filter_map(|w| w.split('/').next())
        .filter(|w| w.parse::<std::net::Ipv4Addr>().is_ok())
        .map(str::to_string)
        .collect();
    addrs.sort();
    addrs.dedup();
    addrs.extend([
        "198.51.100.7".to_string(),
        "203.0.113.9".to_string(),
        "10.0.0.5".to_string(),
    ]);
    let ports = [
        22u16, 23, 25, 53, 80, 123, 161, 443, 587, 993, 3306, 5060, 5432, 8080, 51820, 40000,
    ];
    let ifaces = ["eth0", "eth1", "eth2", "wg0", "lo0x"];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    let mut out = Vec::new();
    for id in 0..400 {
        let kind = ["in", "out", "fwd"][next(3)];
        let proto = ["tcp", "udp"][next(2)];
        let (src, dst) = (&addrs[next(addrs.len())], &addrs[next(addrs.len())]);
        let (iif, oif) = (ifaces[next(ifaces.len())], ifaces[next(ifaces.len())]);
        let iface = match kind {
            "in" => format!(r#""iif": "{iif}""#),
            "out" => format!(r#""oif": "{oif}""#),
            _ => format!(r#""iif": "{iif}", "oif": "{oif}""#),
        };
        out.push(format!(
            r#"{{"id": {id}, "kind": "{kind}", "proto": "{proto}", "src": "{src}", "dst": "{dst}", "sport": {}, "dport": {}, {iface}}}"#,
            1024 + next(60000),
            ports[next(ports.len())]
        ));
    }
    format!("[{}]", out.join(",\n"))
}

fn probe(file: &Path, format: &str, probes: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args(["probe", "--input-format", format, "--probes"])
        .arg(probes)
        .arg(file)
        .output()
        .expect("run driftwall probe");
    assert!(
        out.status.success(),
        "probe {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("JSON")
        .as_array()
        .expect("results")
        .clone()
}

#[test]
fn iptables_and_nft_renderings_of_one_ruleset_agree() {
    let Some(generator) = generator() else { return };
    let dir = support::Scratch::new("equiv");
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).expect("write policy");
    let mut compared = 0;
    let mut probed = 0;
    for seed in [1, 2, 3] {
        let mut reports = Vec::new();
        for (format, name, input_format) in [
            ("iptables", "rules.v4", "iptables"),
            ("nft", "ruleset.nft", "nftables"),
        ] {
            let file = dir.join(format!("{seed}-{name}"));
            let status = Command::new("python3")
                .arg(&generator)
                .args([
                    "--rules",
                    "400",
                    "--format",
                    format,
                    "--seed",
                    &seed.to_string(),
                    "-o",
                ])
                .arg(&file)
                .status()
                .expect("run the generator");
            assert!(status.success());
            reports.push(ipv4_results(&check(&policy, &file, input_format)));
        }
        let (ipt, nft) = (&reports[0], &reports[1]);
        assert_eq!(ipt.len(), nft.len());
        for (a, b) in ipt.iter().zip(nft) {
            assert_eq!(
                a, b,
                "seed {seed}: requirement {} differs between the iptables and the nft rendering",
                a.0
            );
            compared += 1;
        }
        // The comparison means something only if results vary.
        let kinds: BTreeSet<&BTreeSet<(String, String, String)>> =
            ipt.iter().map(|(_, _, f)| f).collect();
        assert!(
            kinds.len() > 2,
            "seed {seed}: the requirements fail alike: {ipt:#?}"
        );
        // Concrete connections: the exact verdict of each must be the same.
        let probes = dir.join(format!("{seed}-probes.json"));
        std::fs::write(
            &probes,
            probes_for(
                &std::fs::read_to_string(dir.join(format!("{seed}-rules.v4"))).expect("read"),
                seed,
            ),
        )
        .expect("write probes");
        let a = probe(&dir.join(format!("{seed}-rules.v4")), "iptables", &probes);
        let b = probe(
            &dir.join(format!("{seed}-ruleset.nft")),
            "nftables",
            &probes,
        );
        let verdicts: BTreeSet<String> = a.iter().map(|r| r["verdict"].to_string()).collect();
        assert!(
            verdicts.len() >= 3,
            "seed {seed}: the probes meet too few verdicts: {verdicts:?}"
        );
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                x["verdict"], y["verdict"],
                "seed {seed}: probe {} gets {} from iptables ({}) and {} from nft ({})",
                x["id"], x["verdict"], x["decided_by"], y["verdict"], y["decided_by"]
            );
            probed += 1;
        }
    }
    println!(
        "{compared} requirement results and {probed} probed connections agree between the iptables and nft renderings"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
