//! `driftwall diff OLD NEW`: rule by rule and connection by connection.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use support::{Scratch, driftwall, root};

/// The example with one line replaced (1-based), written to a scratch file.
fn edited(s: &Scratch, name: &str, edit: impl Fn(&mut Vec<String>)) -> PathBuf {
    let mut lines: Vec<String> = std::fs::read_to_string(root().join("examples/web-server.rules"))
        .expect("example")
        .lines()
        .map(str::to_string)
        .collect();
    edit(&mut lines);
    s.file(name, &(lines.join("\n") + "\n"))
}

/// The exit code and the report of the one pair of files compared.
fn json(args: &[&str]) -> (i32, Value) {
    let (code, out, err) = driftwall(args);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(
        (v["command"].as_str(), v["exit_code"].as_i64()),
        (Some("diff"), Some(code as i64))
    );
    (code, v["diffs"][0].clone())
}

const POLICY: &str = "examples/web-server.policy.yaml";

#[test]
fn a_change_shows_its_rules_and_the_connections_it_moves() {
    // Drop the partner reject (line 12), open telnet after the web rule.
    let s = Scratch::new("diff");
    let new = edited(&s, "new.rules", |l| {
        l.remove(11);
        l.insert(12, "-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT".into());
    });
    let new = new.to_str().unwrap();
    let (code, v) = json(&[
        "diff",
        "--format",
        "json",
        "--policy",
        POLICY,
        "examples/web-server.rules",
        new,
    ]);
    assert_eq!(code, 1, "{v}");
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "{rules:#?}");
    assert_eq!(
        (
            rules[0]["change"].as_str(),
            rules[0]["old"]["line"].as_u64()
        ),
        (Some("removed"), Some(12))
    );
    assert_eq!(
        (
            rules[1]["change"].as_str(),
            rules[1]["new"]["line"].as_u64()
        ),
        (Some("added"), Some(13))
    );
    let reqs = v["requirements"].as_array().unwrap();
    let https = reqs
        .iter()
        .find(|r| r["requirement"] == "https-open")
        .unwrap();
    assert_eq!(
        (https["before"].as_str(), https["after"].as_str()),
        (Some("fail"), Some("pass"))
    );
    let c = &https["changes"][0];
    assert_eq!(
        (c["before"].as_str(), c["after"].as_str()),
        (Some("reject"), Some("allow"))
    );
    assert_eq!(c["before_by"][0]["line"], 12);
    assert_eq!(
        c["witness"]["src"], "192.0.2.1",
        "the witness is in the partner network: {c}"
    );
    let telnet = reqs
        .iter()
        .find(|r| r["requirement"] == "telnet-closed")
        .unwrap();
    assert_eq!(telnet["changes"][0]["after_by"][0]["line"], 13);
    assert_eq!(telnet["changes"][0]["after"], "allow");
    // Unchanged requirements list no change.
    assert!(
        reqs.iter().find(|r| r["requirement"] == "dns-out").unwrap()["changes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, human, _) = driftwall(&["diff", "--policy", POLICY, "examples/web-server.rules", new]);
    assert!(
        human.contains("tcp/23 inbound (ipv4): drop -> allow, caused by"),
        "{human}"
    );
}

#[test]
fn a_reformatted_file_is_equivalent() {
    let s = Scratch::new("diff");
    let new = edited(&s, "same.rules", |l| {
        l.insert(3, "# a comment added".into());
        l[12] = l[12].replace(' ', "  ");
    });
    let (code, out, err) = driftwall(&[
        "diff",
        "--policy",
        POLICY,
        "examples/web-server.rules",
        new.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("No rule changed") && out.contains("Equivalent for the policies"),
        "{out}"
    );
}

#[test]
fn moves_and_policies_are_named() {
    // Swap the partner reject and the web accept, and make OUTPUT drop.
    let s = Scratch::new("diff");
    let new = edited(&s, "moved.rules", |l| {
        l.swap(11, 12);
        l[5] = ":OUTPUT DROP [0:0]".into();
    });
    let (code, v) = json(&[
        "diff",
        "--format",
        "json",
        "--policy",
        POLICY,
        "examples/web-server.rules",
        new.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let kinds: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["change"].as_str())
        .collect();
    assert!(
        kinds.contains(&"moved") && kinds.contains(&"policy"),
        "{kinds:?}"
    );
    // OUTPUT now drops: outbound DNS breaks, at the chain's policy.
    let dns = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["requirement"] == "dns-out")
        .unwrap();
    assert_eq!(
        (dns["before"].as_str(), dns["after"].as_str()),
        (Some("pass"), Some("fail"))
    );
    assert_eq!(dns["changes"][0]["after_by"][0]["kind"], "policy");
}

#[test]
fn across_formats_only_what_the_rules_do_is_compared() {
    let (code, v) = json(&[
        "diff",
        "--format",
        "json",
        "--policy",
        POLICY,
        "examples/web-server.rules",
        "examples/web-server.nft",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["same_format"], false);
    let changed: Vec<&str> = v["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["changes"].as_array().unwrap().is_empty())
        .filter_map(|r| r["requirement"].as_str())
        .collect();
    // The nft file adds a second input chain that drops replies from port 8080.
    assert_eq!(changed, vec!["dns-out"]);
}
