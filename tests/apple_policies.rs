//! The shipped Apple policies end to end: every one validates and runs with
//! `--policy apple:<name>` on the bundled examples in both roles, failures
//! name the catalog rows behind them, a wrong policy file shows every problem
//! at once, and the documentation's table is the data's.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use support::{Scratch, driftwall, root};

fn json(args: &[&str]) -> (i32, Value) {
    let (code, out, err) = driftwall(args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!("driftwall {args:?} gave no JSON ({e}); exit {code}\n{out}\n{err}")
    });
    (code, v)
}

fn shipped() -> Vec<String> {
    let (code, v) = json(&["policies", "list", "--format", "json"]);
    assert_eq!(code, 0);
    v.as_array()
        .expect("a list")
        .iter()
        .map(|p| p["name"].as_str().expect("a name").to_string())
        .collect()
}

/// The bundled examples and the role options that fit them.
fn setups() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("examples/web-server.rules", vec!["--role", "host"]),
        (
            "examples/apple-gateway.rules",
            vec!["--role", "gateway", "--lan-interface", "br0"],
        ),
        (
            "examples/apple-gateway.rules",
            vec![
                "--role",
                "gateway",
                "--lan-interface",
                "br0",
                "--wan-interface",
                "eth0",
            ],
        ),
        (
            "examples/apple-gateway.rules",
            vec!["--role", "gateway", "--lan-network", "192.168.10.0/24"],
        ),
        (
            "examples/apple-gateway.rules",
            vec![
                "--role",
                "gateway",
                "--lan-interface",
                "br+",
                "--lan-network",
                "192.168.10.0/24",
            ],
        ),
    ]
}

#[test]
fn every_shipped_policy_runs_on_the_examples_in_both_roles() {
    let names = shipped();
    assert!(names.len() >= 28, "{names:?}");
    for name in &names {
        let (code, shown) = json(&["policies", "show", name, "--format", "json"]);
        assert_eq!(code, 0, "{name}");
        let reqs = shown["requirements"]
            .as_array()
            .expect("requirements")
            .len();
        assert!(reqs > 0, "{name} has no requirement");
        for (file, role) in setups() {
            let mut args = vec!["check", "--format", "json", "--policy", name.as_str()];
            args.extend(role.iter().copied());
            args.push(file);
            let (code, v) = json(&args);
            assert!(code == 0 || code == 1, "{args:?} exited {code}: {v}");
            let results = v["inputs"][0]["results"].as_array().expect("results");
            assert_eq!(results.len(), reqs, "{args:?}: one result per requirement");
            let failing = results.iter().any(|r| r["status"] != "pass");
            assert_eq!(
                code == 1,
                failing,
                "{args:?}: the exit code follows the results"
            );
            for r in results {
                assert!(
                    !r["directions"].as_array().unwrap().is_empty(),
                    "{args:?}: {r}"
                );
            }
        }
    }
}

/// The result of one requirement of a check run.
fn result<'v>(v: &'v Value, requirement_with_row: &str) -> &'v Value {
    v["inputs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["catalog"]
                .as_array()
                .is_some_and(|rows| rows.iter().any(|c| c["id"] == requirement_with_row))
        })
        .unwrap_or_else(|| {
            panic!("no requirement built on catalog row `{requirement_with_row}`: {v}")
        })
}

#[test]
fn the_gateway_example_meets_some_profiles_and_fails_others_at_the_right_rule() {
    let gw = [
        "--role",
        "gateway",
        "--lan-interface",
        "br0",
        "--wan-interface",
        "eth0",
        "examples/apple-gateway.rules",
    ];
    let check = |policy: &str| {
        let mut args = vec!["check", "--format", "json", "--policy", policy];
        args.extend(gw);
        json(&args)
    };
    // Nothing is forwarded in from outside, so every legacy service is closed.
    let (code, v) = check("apple:hardening");
    assert_eq!(code, 0, "{v}");
    // FaceTime's relays and media ports are all let out.
    let (_, v) = check("apple:facetime");
    assert_eq!(result(&v, "nat-stun")["status"], "pass", "{v}");
    // Mail may not be sent directly: the culprit is the REJECT on line 31.
    let (code, v) = check("apple:mail");
    assert_eq!(code, 1);
    let smtp = result(&v, "smtp");
    assert_eq!(smtp["status"], "fail");
    let f = &smtp["failures"][0];
    assert_eq!(f["direction"], "forward");
    assert_eq!(f["culprits"][0]["line"], 31, "{f}");
    assert_eq!(f["witness"]["iif"], "br0");
    assert_eq!(f["witness"]["oif"], "eth0");
    // Screen Sharing from outside into the LAN: stopped by FORWARD's policy.
    let (code, v) = check("apple:screen-sharing");
    assert_eq!(code, 1);
    let vnc = result(&v, "vnc");
    let f = &vnc["failures"][0];
    assert_eq!(
        (
            f["culprits"][0]["kind"].as_str(),
            f["culprits"][0]["chain"].as_str()
        ),
        (Some("policy"), Some("FORWARD")),
        "{f}"
    );
    assert_eq!(f["witness"]["iif"], "eth0");
    assert_eq!(f["witness"]["oif"], "br0");
    // Without --wan-interface every other interface is outside, and the
    // example forwards only to eth0: the LAN cannot reach out through others.
    let (_, v) = json(&[
        "check",
        "--format",
        "json",
        "--policy",
        "apple:facetime",
        "--role",
        "gateway",
        "--lan-interface",
        "br0",
        "examples/apple-gateway.rules",
    ]);
    let f = &result(&v, "nat-stun")["failures"][0];
    assert_eq!(f["witness"]["iif"], "br0");
    assert!(
        f["witness"]["oif"] != "eth0" && f["witness"]["oif"] != "br0",
        "{f}"
    );
}

#[test]
fn a_failure_names_the_catalog_row_and_its_products() {
    let (code, out, _) = driftwall(&[
        "check",
        "--policy",
        "apple:mail",
        "--role",
        "gateway",
        "--lan-interface",
        "br0",
        "--wan-interface",
        "eth0",
        "examples/apple-gateway.rules",
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("Apple's table: TCP 25 (smtp, used by"),
        "{out}"
    );
    assert!(out.contains("forward (egress)"), "{out}");
    assert!(out.contains("examples/apple-gateway.rules:31"), "{out}");
}

#[test]
fn a_wrong_policy_shows_every_problem_at_once_and_exits_2() {
    let dir = Scratch::new("apple-policy");
    let path: PathBuf = dir.join("office.yaml");
    let text = "policy: office
requirements:
  - id: facetime
    expect: allow
    direction: egress
    catalog: [nat-stun, no-such-row]
  - id: facetime
    expect: allow
    direction: forward
    protocol: tcp
    ports: [443, 9000-8000, 70000]
    colour: blue
  - id: mixed
    expect: allow
    direction: egress
    catalog: [https, nat-stun]
  - id: empty
    expect: deny
    direction: ingress
    protocol: tcp
    ports: []
";
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = driftwall(&["check", "--policy", p, "examples/web-server.rules"]);
    assert_eq!(code, 2, "{out}");
    let (_, v) = json(&[
        "check",
        "--format",
        "json",
        "--policy",
        p,
        "examples/web-server.rules",
    ]);
    let errs: Vec<(u64, u64, String)> = v["policy_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let at = |line: u64, col: u64, words: &str| {
        assert!(
            errs.iter()
                .any(|(l, c, m)| *l == line && *c == col && m.contains(words)),
            "no `{words}` at {line}:{col} in {errs:#?}"
        );
    };
    at(6, 25, "unknown catalog row `no-such-row`");
    at(7, 5, "duplicate requirement id `facetime`");
    at(9, 16, "makes no sense for a host");
    at(11, 18, "reversed");
    at(11, 29, "out of range");
    at(12, 5, "unknown key `colour`");
    at(16, 14, "differ in protocol");
    at(21, 12, "empty");
    assert_eq!(errs.len(), 8, "{errs:#?}");
    // The human report quotes each place.
    assert!(out.contains("office.yaml:11:18"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gateway_options_are_checked() {
    let (code, _, err) = driftwall(&[
        "check",
        "--policy",
        "apple:facetime",
        "--lan-interface",
        "br0",
        "examples/web-server.rules",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--role gateway"), "{err}");
    let (code, out, _) = driftwall(&[
        "check",
        "--policy",
        "apple:facetime",
        "--role",
        "gateway",
        "examples/apple-gateway.rules",
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("needs the gateway's LAN side"), "{out}");
    let (code, _, err) = driftwall(&[
        "check",
        "--policy",
        "apple:no-such",
        "examples/web-server.rules",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_catalog_json_has_the_documented_shape() {
    let (code, v) = json(&["policies", "catalog", "--format", "json"]);
    assert_eq!(code, 0);
    let rows = v.as_array().expect("an array of rows");
    assert!(rows.len() > 100);
    for r in rows {
        for key in [
            "id",
            "ports",
            "protocols",
            "service",
            "rfc",
            "iana_name",
            "used_by",
        ] {
            assert!(r.get(key).is_some(), "row without `{key}`: {r}");
        }
        for p in r["ports"].as_array().unwrap() {
            assert!(
                p["start"].as_u64().unwrap() <= p["end"].as_u64().unwrap(),
                "{r}"
            );
        }
        assert!(
            r["protocols"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p == "tcp" || p == "udp"),
            "{r}"
        );
    }
    let stun = rows
        .iter()
        .find(|r| r["id"] == "nat-stun")
        .expect("the STUN row");
    assert_eq!(
        stun["ports"][0],
        serde_json::json!({"start": 3478, "end": 3497})
    );
}

#[test]
fn the_documented_table_is_generated_from_the_data() {
    let (code, table, _) = driftwall(&["policies", "list", "--format", "markdown"]);
    assert_eq!(code, 0);
    let doc_path = root().join("docs/policies.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_default();
    let begin = "<!-- generated: driftwall policies list --format markdown -->\n";
    let end = "<!-- end of generated table -->";
    let generated = doc
        .split_once(begin)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(t, _)| t.to_string());
    if generated.as_deref() != Some(table.as_str()) {
        if std::env::var_os("DRIFTWALL_BLESS").is_some() {
            let head = doc
                .split_once(begin)
                .map(|(h, _)| h.to_string())
                .unwrap_or_else(|| "# Shipped policies\n\n".into());
            let tail = doc
                .split_once(end)
                .map(|(_, t)| t.to_string())
                .unwrap_or_else(|| "\n".into());
            std::fs::write(&doc_path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
        } else {
            panic!(
                "docs/policies.md is out of date with the shipped policies; rerun with DRIFTWALL_BLESS=1 to regenerate it"
            );
        }
    }
}
