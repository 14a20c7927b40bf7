//! nftables end to end: `check`, `probe` and `parse` on nft files and nft
//! JSON, with the semantics the format brings (several base chains on one
//! hook, `inet` for both families, tables that are not host filtering).

mod support;

use serde_json::Value;
use support::{Scratch, driftwall};

/// Writes a scratch file and gives its path as the argument to pass.
fn file(s: &Scratch, name: &str, text: &str) -> String {
    s.file(name, text).display().to_string()
}

/// Per requirement: id, status, and (file, line, text) of each culprit.
type Results = Vec<(String, String, Vec<(String, u64, String)>)>;

fn results(v: &Value) -> Results {
    v["inputs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let fails = r["failures"]
                .as_array()
                .expect("failures")
                .iter()
                .map(|f| {
                    (
                        f["family"].as_str().unwrap_or("").to_string(),
                        f["culprits"][0]["line"].as_u64().unwrap_or(0),
                        f["culprits"][0]["table"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            (
                r["requirement"].as_str().unwrap_or("").to_string(),
                r["status"].as_str().unwrap_or("").to_string(),
                fails,
            )
        })
        .collect()
}

#[test]
fn the_nft_example_fails_where_its_rules_say() {
    let (code, out, err) = driftwall(&[
        "check",
        "--format",
        "json",
        "--policy",
        "examples/web-server.policy.yaml",
        "examples/web-server.nft",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        v["inputs"][0]["families"],
        serde_json::json!(["ipv4", "ipv6"])
    );
    let r = results(&v);
    // HTTPS from the partner network: the reject on line 24, IPv4 only.
    assert_eq!(
        r[0],
        (
            "https-open".into(),
            "fail".into(),
            vec![("ipv4".into(), 24, "inet filter".into())]
        )
    );
    assert_eq!(
        (r[1].1.as_str(), r[2].1.as_str(), r[3].1.as_str()),
        ("pass", "pass", "pass")
    );
    // The second input chain (priority filter + 10) drops replies from port
    // 8080: the first chain's accept of established traffic ends only that chain.
    assert_eq!(
        r[4].2,
        vec![
            ("ipv4".into(), 42, "inet containers".into()),
            ("ipv6".into(), 42, "inet containers".into())
        ]
    );
    // The human report quotes the rule.
    let (_, human, _) = driftwall(&[
        "check",
        "--policy",
        "examples/web-server.policy.yaml",
        "examples/web-server.nft",
    ]);
    assert!(
        human.contains("examples/web-server.nft:24:") && human.contains("reject with tcp reset"),
        "{human}"
    );
}

#[test]
fn an_accept_ends_only_its_own_base_chain_and_a_drop_is_final() {
    let s = Scratch::new("prio");
    let f = file(
        &s,
        "r.nft",
        "table ip a {\n  chain early { type filter hook input priority -10; policy accept;\n    tcp dport 443 accept\n    tcp dport 25 drop\n  }\n}\ntable ip b {\n  chain late { type filter hook input priority 10; policy drop;\n    tcp dport { 80, 25 } accept\n  }\n}\n",
    );
    let probes = file(
        &s,
        "p.json",
        r#"[{"id": "https", "kind": "in", "proto": "tcp", "src": "192.0.2.1", "dst": "198.51.100.2", "sport": 40000, "dport": 443, "iif": "eth0"},
            {"id": "http", "kind": "in", "proto": "tcp", "src": "192.0.2.1", "dst": "198.51.100.2", "sport": 40000, "dport": 80, "iif": "eth0"},
            {"id": "smtp", "kind": "in", "proto": "tcp", "src": "192.0.2.1", "dst": "198.51.100.2", "sport": 40000, "dport": 25, "iif": "eth0"}]"#,
    );
    let (code, out, err) = driftwall(&["probe", "--probes", &probes, &f]);
    assert_eq!(code, 0, "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).expect("JSON");
    let verdict = |id: &str| {
        v.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["verdict"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        verdict("https"),
        "drop",
        "accepted early, dropped by the later chain's policy: {out}"
    );
    assert_eq!(verdict("http"), "allow");
    assert_eq!(
        verdict("smtp"),
        "drop",
        "dropped early, whatever the later chain says: {out}"
    );
}

#[test]
fn tables_that_are_not_host_filtering_are_reported_not_counted() {
    let s = Scratch::new("bridge");
    let f = file(
        &s,
        "r.nft",
        "table bridge br {\n  chain fwd { type filter hook forward priority 0; policy drop; }\n}\ntable inet f {\n  flags dormant\n  chain input { type filter hook input priority 0; policy drop; }\n}\n",
    );
    let (code, out, _) = driftwall(&["check", "--policy", "examples/web-server.policy.yaml", &f]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not evaluated") && out.contains("bridge tables are not host IP filtering"),
        "{out}"
    );
    assert!(out.contains("table inet f is dormant"), "{out}");
    // Nothing filters: HTTPS is allowed, telnet too (so its deny fails).
    assert!(
        out.contains("pass          web-server/https-open")
            && out.contains("FAIL          web-server/telnet-closed"),
        "{out}"
    );
}

#[test]
fn includes_and_definitions_across_files() {
    let s = Scratch::new("include");
    file(&s, "conf.d/vars.nft", "define web = { 80, 443 }\n");
    file(
        &s,
        "conf.d/filter.nft",
        "table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport $web accept\n  }\n}\n",
    );
    let top = file(
        &s,
        "nftables.conf",
        "#!/usr/sbin/nft -f\nflush ruleset\ninclude \"conf.d/vars.nft\"\ninclude \"conf.d/filter*.nft\"\n",
    );
    let (code, out, err) = driftwall(&[
        "check",
        "--format",
        "json",
        "--policy",
        "examples/web-server.policy.yaml",
        &top,
    ]);
    assert!(code == 0 || code == 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let r = results(&v);
    assert_eq!(
        r[0].1, "pass",
        "https through the included chain and variable: {out}"
    );
    // A failure points into the included file.
    let (_, human, _) = driftwall(&["check", "--policy", "examples/web-server.policy.yaml", &top]);
    assert!(human.contains("filter.nft:3:"), "{human}");
    // A missing include is an error with its place, and the exit code is 2.
    let bad = file(
        &s,
        "bad.conf",
        "include \"nowhere/*.conf\"\ninclude \"missing.nft\"\ntable inet f {\n}\n",
    );
    let (code, _, err) = driftwall(&["parse", &bad]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.conf") && err.contains("missing.nft"),
        "{err}"
    );
}

#[test]
fn syntax_errors_name_file_line_and_column_and_parsing_goes_on() {
    let s = Scratch::new("errors");
    let f = file(
        &s,
        "r.nft",
        "table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    tcp dport 99999 accept\n    tcp dprot 22 accept\n    udp dport 53 accept\n  }\n}\n",
    );
    let (code, out, err) = driftwall(&["parse", "--input-format", "nftables", &f]);
    assert_eq!(code, 2, "{out}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let errs = v["errors"].as_array().expect("errors");
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert_eq!(
        (errs[0]["line"].as_u64(), errs[1]["line"].as_u64()),
        (Some(4), Some(5))
    );
    assert!(
        errs[1]["column"].as_u64() == Some(9)
            && errs[1]["message"].as_str().unwrap_or("").contains("dprot"),
        "{errs:#?}"
    );
    assert!(err.contains("99999"), "{err}");
}

#[test]
fn nft_json_is_read_and_detected() {
    let s = Scratch::new("json");
    let f = file(
        &s,
        "ruleset.json",
        r#"{"nftables": [
  {"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
  {"table": {"family": "inet", "name": "f", "handle": 1}},
  {"chain": {"family": "inet", "table": "f", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
  {"rule": {"family": "inet", "table": "f", "chain": "input", "handle": 2, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}},
  {"rule": {"family": "inet", "table": "f", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"set": [80, 443]}}}, {"accept": null}]}},
  {"rule": {"family": "inet", "table": "f", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}
]}"#,
    );
    let (code, out, err) = driftwall(&[
        "check",
        "--format",
        "json",
        "--policy",
        "examples/web-server.policy.yaml",
        &f,
    ]);
    assert!(code == 0 || code == 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let r = results(&v);
    assert_eq!(
        (
            r[0].1.as_str(),
            r[1].1.as_str(),
            r[3].1.as_str(),
            r[4].1.as_str()
        ),
        ("pass", "pass", "pass", "pass"),
        "{r:?}"
    );
    // SSH is open to everyone: the rule with handle 4 is the culprit, on its line of the JSON.
    assert_eq!(r[2].1, "fail", "{r:?}");
    assert_eq!(r[2].2[0].1, 7, "{r:?}");
    // Detected without --input-format, and forced the same.
    let (_, forced, _) = driftwall(&[
        "check",
        "--format",
        "json",
        "--input-format",
        "nft-json",
        "--policy",
        "examples/web-server.policy.yaml",
        &f,
    ]);
    assert_eq!(results(&serde_json::from_str(&forced).expect("JSON")), r);
}
