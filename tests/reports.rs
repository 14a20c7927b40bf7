//! The CI reports, checked with independent tools: SARIF against the
//! OASIS schema, JSON against our own schema (both with Python's
//! `jsonschema`), JUnit with Python's XML parser, and every location
//! against the line of the file it names.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Scratch, driftwall, driftwall_in, git, root, skip};

const POLICY: &str = "examples/web-server.policy.yaml";

fn python() -> String {
    std::env::var("DRIFTWALL_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs tests/tools/validate.py; `None` (after skipping) when Python or
/// its modules are missing.
fn validate(args: &[&str]) -> Option<Result<String, String>> {
    let out = match Command::new(python())
        .arg(root().join("tests/tools/validate.py"))
        .args(args)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            skip(&format!("cannot run {}: {e}", python()));
            return None;
        }
    };
    if out.status.code() == Some(3) {
        skip(&format!(
            "{} lacks a module: {}",
            python(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
        return None;
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(if out.status.success() {
        Ok(stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

fn sarif_schema() -> Option<PathBuf> {
    let p = std::env::var_os("DRIFTWALL_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/schemas/sarif-schema-2.1.0.json"));
    if p.exists() {
        Some(p)
    } else {
        skip(&format!(
            "the SARIF schema is not at {} (set DRIFTWALL_SARIF_SCHEMA)",
            p.display()
        ));
        None
    }
}

/// Validates a report written to `file` against `schema`; panics with the
/// validator's reasons when it does not hold.
fn assert_valid(schema: &Path, file: &Path) -> bool {
    match validate(&["schema", schema.to_str().unwrap(), file.to_str().unwrap()]) {
        None => false,
        Some(Ok(_)) => true,
        Some(Err(e)) => panic!(
            "{} does not validate against {}:\n{e}\n{}",
            file.display(),
            schema.display(),
            std::fs::read_to_string(file).unwrap_or_default()
        ),
    }
}

/// Line `line` (1-based) of a file, from character `column` on.
fn text_at(dir: &Path, file: &str, line: u64, column: u64) -> String {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let l = text
        .lines()
        .nth(line as usize - 1)
        .unwrap_or_else(|| panic!("{file} has no line {line}"));
    l.chars().skip(column as usize - 1).collect()
}

/// The 1-based number of the first line of `file` containing all of `parts`.
fn line_with(file: &str, parts: &[&str]) -> u64 {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    text.lines()
        .position(|l| parts.iter().all(|p| l.contains(p)))
        .map(|i| i as u64 + 1)
        .unwrap_or_else(|| panic!("no line of {file} has {parts:?}"))
}

/// Every physical location of a SARIF run points at the text it quotes.
fn check_locations(dir: &Path, sarif: &Value) {
    let run = &sarif["runs"][0];
    for r in run["results"].as_array().unwrap() {
        let locs = r["locations"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(r["relatedLocations"].as_array().into_iter().flatten());
        for loc in locs {
            let Some(p) = loc.get("physicalLocation") else {
                continue;
            };
            let uri = p["artifactLocation"]["uri"].as_str().unwrap();
            assert_eq!(
                p["artifactLocation"]["uriBaseId"], "%SRCROOT%",
                "relative paths stay relative: {p}"
            );
            let Some(region) = p.get("region") else {
                continue;
            };
            let (line, column) = (
                region["startLine"].as_u64().unwrap(),
                region["startColumn"].as_u64().unwrap_or(1),
            );
            let at = text_at(dir, uri, line, column);
            if let Some(snippet) = region["snippet"]["text"].as_str() {
                assert!(
                    at.starts_with(snippet.lines().next().unwrap()),
                    "{uri}:{line}:{column} is `{at}`, not the quoted `{snippet}`"
                );
            }
            if let Some(end) = region["endColumn"].as_u64() {
                assert_eq!(
                    end - column,
                    region["snippet"]["text"]
                        .as_str()
                        .unwrap()
                        .lines()
                        .next()
                        .unwrap()
                        .chars()
                        .count() as u64,
                    "{region}"
                );
            }
        }
    }
}

#[test]
fn sarif_of_every_example_validates_and_points_at_the_culprit_rule() {
    let Some(schema) = sarif_schema() else { return };
    let dir = Scratch::new("sarif");
    let out = dir.join("r.sarif");
    let o = out.to_str().unwrap();
    // The arguments, and the requirement that fails with the file, line
    // and column of the rule behind it.
    type Case<'a> = (Vec<&'a str>, Option<(&'a str, &'a str, u64, u64)>);
    let reject = line_with("examples/web-server.rules", &["192.0.2.0/24", "REJECT"]);
    let nft_reject = line_with("examples/web-server.nft", &["$partner", "reject"]);
    let cases: Vec<Case> = vec![
        (
            vec!["-p", POLICY, "examples/web-server.rules"],
            Some((
                "web-server/https-open",
                "examples/web-server.rules",
                reject,
                1,
            )),
        ),
        (
            vec!["-p", POLICY, "examples/web-server.nft"],
            Some((
                "web-server/https-open",
                "examples/web-server.nft",
                nft_reject,
                3,
            )),
        ),
        (
            vec![
                "-p",
                "apple:mail",
                "--role",
                "gateway",
                "--lan-interface",
                "br0",
                "--wan-interface",
                "eth0",
                "examples/apple-gateway.rules",
            ],
            None,
        ),
        (
            vec![
                "-p",
                "apple:essentials",
                "-p",
                "apple:hardening",
                "examples/web-server.rules",
                "examples/web-server.nft",
            ],
            None,
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["check", "--format", "sarif", "--output", o];
        all.extend(&args);
        let (code, stdout, err) = driftwall(&all);
        assert!(code == 0 || code == 1, "{args:?}: exit {code}: {err}");
        // The human report still goes to the log.
        assert!(stdout.contains("requirement results"), "{stdout}");
        assert!(assert_valid(&schema, &out));
        let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        check_locations(root(), &sarif);
        let run = &sarif["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        // One rule per requirement, and each result names its rule.
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            assert!(
                !r["partialFingerprints"]["driftwallFinding/v1"]
                    .as_str()
                    .unwrap()
                    .is_empty()
            );
        }
        assert_eq!(
            results.iter().filter(|r| r["level"] == "error").count() > 0,
            code == 1,
            "{args:?}: errors iff exit 1"
        );
        if let Some((id, file, line, column)) = expected {
            let r = results
                .iter()
                .find(|r| r["ruleId"] == id)
                .unwrap_or_else(|| panic!("no result for {id}: {sarif:#}"));
            let region = &r["locations"][0]["physicalLocation"]["region"];
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                file
            );
            assert_eq!(
                (region["startLine"].as_u64(), region["startColumn"].as_u64()),
                (Some(line), Some(column)),
                "{r:#}"
            );
            let msg = r["message"]["text"].as_str().unwrap();
            assert!(
                msg.contains("witness: tcp 192.0.2."),
                "the witness is in the message: {msg}"
            );
            // The policy clause is a related location.
            let policy_line = line_with(POLICY, &["id: https-open"]);
            assert!(
                r["relatedLocations"].as_array().unwrap().iter().any(
                    |l| l["physicalLocation"]["artifactLocation"]["uri"] == POLICY
                        && l["physicalLocation"]["region"]["startLine"] == policy_line
                ),
                "{r:#}"
            );
            let help = rules.iter().find(|x| x["id"] == id).unwrap()["help"]["text"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                help.contains("web-server/https-open") && help.contains(POLICY),
                "{help}"
            );
        }
    }
    // The rules of shipped policies carry Apple's rows and products.
    let (_, _, _) = driftwall(&[
        "check",
        "--format",
        "sarif",
        "--output",
        o,
        "-p",
        "apple:mail",
        "examples/web-server.rules",
    ]);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        rules.iter().any(|r| r["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Apple's table")
            && r["help"]["text"]
                .as_str()
                .unwrap()
                .contains("Needed by Mail")),
        "{rules:#?}"
    );
}

#[test]
fn the_fingerprint_follows_a_finding_across_moved_lines() {
    let dir = Scratch::new("fingerprint");
    let original = std::fs::read_to_string(root().join("examples/web-server.rules")).unwrap();
    let fp = |text: &str| -> (String, u64) {
        std::fs::write(dir.join("fw.rules"), text).unwrap();
        std::fs::copy(root().join(POLICY), dir.join("p.yaml")).unwrap();
        let (_, out, _) = driftwall_in(
            &dir,
            &["check", "--format", "sarif", "-p", "p.yaml", "fw.rules"],
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        let r = &v["runs"][0]["results"][0];
        (
            r["partialFingerprints"]["driftwallFinding/v1"]
                .as_str()
                .unwrap()
                .to_string(),
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap(),
        )
    };
    let (a, line_a) = fp(&original);
    let (b, line_b) = fp(&format!("# a comment moves every line\n\n{original}"));
    assert_eq!((a.clone(), line_a + 2), (b, line_b));
    // Another culprit is another finding.
    let (c, _) = fp(&original.replace("192.0.2.0/24", "192.0.2.0/25"));
    assert_ne!(a, c);
}

#[test]
fn parse_errors_and_invalid_policies_are_results_at_their_place() {
    let Some(schema) = sarif_schema() else { return };
    let dir = Scratch::new("sarif-errors");
    std::fs::write(
        dir.join("bad.rules"),
        "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n",
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/web-server.rules"),
        dir.join("good.rules"),
    )
    .unwrap();
    std::fs::write(dir.join("bad.yaml"), "policy: p\nrequirements:\n  - id: x\n    expect: maybe\n    direction: inbound\n    protocol: tcp\n    ports: [22]\n").unwrap();
    for (args, rule, file, line) in [
        (
            vec!["-p", "apple:essentials", "bad.rules"],
            "driftwall/parse-error",
            "bad.rules",
            3,
        ),
        (
            vec!["-p", "bad.yaml", "good.rules"],
            "driftwall/policy-error",
            "bad.yaml",
            4,
        ),
    ] {
        let mut all = vec![
            "check", "--format", "sarif", "--output", "r.sarif", "--format", "junit", "--output",
            "r.xml",
        ];
        all.extend(&args);
        let (code, _, err) = driftwall_in(&dir, &all);
        assert_eq!(code, 2, "{err}");
        assert!(assert_valid(&schema, &dir.join("r.sarif")));
        let sarif: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("r.sarif")).unwrap()).unwrap();
        check_locations(&dir, &sarif);
        let run = &sarif["runs"][0];
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        let r = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == rule)
            .unwrap_or_else(|| panic!("no {rule}: {sarif:#}"));
        let p = &r["locations"][0]["physicalLocation"];
        assert_eq!(
            (
                p["artifactLocation"]["uri"].as_str(),
                p["region"]["startLine"].as_u64()
            ),
            (Some(file), Some(line)),
            "{r:#}"
        );
        assert!(p["region"]["startColumn"].as_u64().unwrap() > 1);
        // In JUnit, the file is an error case.
        let Some(Ok(junit)) = validate(&["junit", dir.join("r.xml").to_str().unwrap()]) else {
            return;
        };
        let j: Value = serde_json::from_str(&junit).unwrap();
        assert_eq!(j["attrib"]["errors"], "1", "{j:#}");
        assert!(
            j["suites"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|s| s["cases"].as_array().unwrap())
                .any(|c| c["error"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains(&format!("{file}:{line}:")))),
            "{j:#}"
        );
    }
}

/// A ruleset whose HTTPS rule depends on a match driftwall does not model.
/// Every other requirement of the web server's policy passes.
const INDETERMINATE: &str = "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A INPUT -p tcp --dport 443 -m string --string evil --algo bm -j DROP\n-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT\nCOMMIT\n";

#[test]
fn junit_has_a_suite_per_policy_and_file_and_a_case_per_requirement() {
    let dir = Scratch::new("junit");
    let report = dir.join("r.xml");
    let (code, _, err) = driftwall(&[
        "check",
        "--format",
        "junit",
        "-o",
        report.to_str().unwrap(),
        "-p",
        POLICY,
        "-p",
        "apple:essentials",
        "examples/web-server.rules",
        "examples/web-server.nft",
    ]);
    assert_eq!(code, 1, "{err}");
    let Some(Ok(parsed)) = validate(&["junit", report.to_str().unwrap()]) else {
        return;
    };
    let j: Value = serde_json::from_str(&parsed).unwrap();
    let suites = j["suites"].as_array().unwrap();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s["attrib"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "web-server @ examples/web-server.rules",
            "essentials @ examples/web-server.rules",
            "web-server @ examples/web-server.nft",
            "essentials @ examples/web-server.nft"
        ]
    );
    // As many cases as the policy file has requirements.
    let ids = std::fs::read_to_string(root().join(POLICY))
        .unwrap()
        .matches("- id: ")
        .count();
    assert_eq!(suites[0]["cases"].as_array().unwrap().len(), ids);
    let https = suites[0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("https-open"))
        .unwrap();
    let failure = &https["failure"];
    assert_eq!(failure["type"], "fail");
    let text = failure["text"].as_str().unwrap();
    let line = line_with("examples/web-server.rules", &["192.0.2.0/24", "REJECT"]);
    assert!(
        text.contains("witness: tcp")
            && text.contains(&format!("examples/web-server.rules:{line}:1")),
        "{text}"
    );
    let total: usize = suites
        .iter()
        .map(|s| s["cases"].as_array().unwrap().len())
        .sum();
    assert_eq!(j["attrib"]["tests"], total.to_string());
    let failed = suites
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap())
        .filter(|c| c.get("failure").is_some())
        .count();
    assert_eq!(j["attrib"]["failures"], failed.to_string());

    // Indeterminate: a failure, or skipped with --allow-indeterminate.
    std::fs::write(dir.join("i.rules"), INDETERMINATE).unwrap();
    std::fs::copy(root().join(POLICY), dir.join("p.yaml")).unwrap();
    for (allow, want_code, kind) in [(false, 1, "failure"), (true, 0, "skipped")] {
        let mut args = vec![
            "check", "--format", "junit", "-o", "r.xml", "-p", "p.yaml", "i.rules",
        ];
        if allow {
            args.push("--allow-indeterminate");
        }
        let (code, _, err) = driftwall_in(&dir, &args);
        assert_eq!(code, want_code, "allow {allow}: {err}");
        let Some(Ok(parsed)) = validate(&["junit", dir.join("r.xml").to_str().unwrap()]) else {
            return;
        };
        let j: Value = serde_json::from_str(&parsed).unwrap();
        let https = j["suites"][0]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().starts_with("https-open"))
            .cloned()
            .unwrap();
        assert!(https.get(kind).is_some(), "allow {allow}: {https:#}");
        if !allow {
            assert_eq!(https["failure"]["type"], "indeterminate");
        }
    }
}

#[test]
fn json_reports_validate_against_the_repository_schema() {
    let schema = root().join("schemas/report.v1.schema.json");
    let dir = Scratch::new("json-schema");
    std::fs::write(
        dir.join("bad.rules"),
        "*filter\n-A INPUT -j nowhere\nCOMMIT\n",
    )
    .unwrap();
    std::fs::write(dir.join("i.rules"), INDETERMINATE).unwrap();
    std::fs::write(dir.join("bad.yaml"), "policy: p\nrequirements: 7\n").unwrap();
    std::fs::write(dir.join("bridge.nft"), "table bridge b {\n  chain f {\n    type filter hook forward priority 0; policy drop;\n  }\n}\ntable inet f {\n  chain input {\n    type filter hook input priority 0; policy accept;\n  }\n}\n").unwrap();
    let p = root().join(POLICY);
    let p = p.to_str().unwrap();
    let ex = |f: &str| {
        root()
            .join("examples")
            .join(f)
            .to_str()
            .unwrap()
            .to_string()
    };
    let runs: Vec<Vec<String>> = vec![
        vec![
            "check".into(),
            "-p".into(),
            p.into(),
            ex("web-server.rules"),
        ],
        vec![
            "check".into(),
            "-p".into(),
            p.into(),
            "-p".into(),
            "apple:essentials".into(),
            ex("web-server.nft"),
            "bridge.nft".into(),
        ],
        vec![
            "check".into(),
            "-p".into(),
            p.into(),
            "i.rules".into(),
            "--allow-indeterminate".into(),
        ],
        vec![
            "check".into(),
            "-p".into(),
            p.into(),
            "bad.rules".into(),
            "missing.rules".into(),
        ],
        vec![
            "check".into(),
            "-p".into(),
            "bad.yaml".into(),
            ex("web-server.rules"),
        ],
        vec![
            "diff".into(),
            "-p".into(),
            p.into(),
            ex("web-server.rules"),
            ex("web-server.nft"),
        ],
        vec![
            "diff".into(),
            "-p".into(),
            p.into(),
            ex("web-server.rules"),
            ex("web-server.rules"),
        ],
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for args in runs {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["--format", "json", "--output", "r.json"]);
        let (code, _, err) = driftwall_in(&dir, &all);
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap())
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {err}"));
        assert_eq!(v["exit_code"], code, "{args:?}");
        assert_eq!(v["schema_version"], 1);
        if args.iter().any(|a| a == "bad.yaml") {
            // Each policy problem carries its stable code.
            assert_eq!(v["policy_errors"][0]["code"], "policy::bad-value", "{v:#}");
        }
        if !assert_valid(&schema, &dir.join("r.json")) {
            return;
        }
        kinds.insert(format!("{} {code}", v["command"].as_str().unwrap()));
    }
    // Every shape was seen: passing, failing and broken checks, and diffs.
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["check 0", "check 1", "check 2", "diff 0", "diff 1"]
    );
    // The schema is strict: an unknown field or a wrong value is caught.
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("r.json")).unwrap()).unwrap();
    v["diffs"][0]["requirements"][0]["after"] = "broken".into();
    std::fs::write(dir.join("wrong.json"), v.to_string()).unwrap();
    assert!(matches!(
        validate(&[
            "schema",
            schema.to_str().unwrap(),
            dir.join("wrong.json").to_str().unwrap()
        ]),
        Some(Err(_))
    ));
}

#[test]
fn github_annotations_name_file_line_and_column() {
    let dir = Scratch::new("github");
    let summary = dir.join("summary.md");
    let out = Command::new(env!("CARGO_BIN_EXE_driftwall"))
        .args([
            "check",
            "--format",
            "github",
            "-p",
            POLICY,
            "-p",
            "apple:essentials",
            "examples/web-server.rules",
        ])
        .current_dir(root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = line_with("examples/web-server.rules", &["192.0.2.0/24", "REJECT"]);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(errors[0].starts_with(&format!("::error file=examples/web-server.rules,line={line},col=1,title=web-server/https-open%3A ")), "{}", errors[0]);
    // One line per annotation: the message's line breaks are escaped.
    assert!(
        errors[0].contains("%0Awitness: tcp 192.0.2.1"),
        "{}",
        errors[0]
    );
    let md = std::fs::read_to_string(&summary).expect("the step summary is written");
    assert!(md.contains("| `web-server/https-open` HTTPS reachable from anywhere | `examples/web-server.rules` | **FAIL** | `examples/web-server.rules:12` |"), "{md}");
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| `")).count(),
        10,
        "{md}"
    );
    // Parse errors are annotations at their place too.
    std::fs::write(
        dir.join("bad.rules"),
        "*filter\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n",
    )
    .unwrap();
    let (code, stdout, _) = driftwall_in(
        &dir,
        &[
            "check",
            "--format",
            "github",
            "-p",
            "apple:essentials",
            "bad.rules",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stdout.starts_with("::error file=bad.rules,line=2,col=25,title=driftwall/parse-error%3A "),
        "{stdout}"
    );
}

#[test]
fn several_reports_in_one_run() {
    let dir = Scratch::new("outputs");
    let (s, j, m) = (dir.join("a.sarif"), dir.join("b.xml"), dir.join("c.md"));
    // An --output pairs with the --format before it (the first, before any).
    let (code, stdout, err) = driftwall(&[
        "check",
        "-p",
        POLICY,
        "--output",
        s.to_str().unwrap(),
        "--format",
        "sarif",
        "--format",
        "junit",
        "--output",
        j.to_str().unwrap(),
        "--format",
        "markdown",
        "-o",
        m.to_str().unwrap(),
        "examples/web-server.rules",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        stdout.contains("error[policy::requirement-failed]"),
        "human on stdout: {stdout}"
    );
    assert!(
        std::fs::read_to_string(&s)
            .unwrap()
            .contains("\"version\": \"2.1.0\"")
    );
    assert!(std::fs::read_to_string(&j).unwrap().starts_with("<?xml"));
    assert!(
        std::fs::read_to_string(&m)
            .unwrap()
            .starts_with("## driftwall check")
    );
    // Ambiguous pairs are usage errors, before any work.
    let (code, _, err) = driftwall(&[
        "check",
        "-p",
        POLICY,
        "--format",
        "sarif",
        "--format",
        "json",
        "examples/web-server.rules",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("only one report can go to standard output"),
        "{err}"
    );
    let (code, _, err) = driftwall(&[
        "check",
        "-p",
        POLICY,
        "--format",
        "sarif",
        "-o",
        "x",
        "-o",
        "y",
        "examples/web-server.rules",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("two --output"), "{err}");
}

fn has_git() -> bool {
    if Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return true;
    }
    skip("git is not installed");
    false
}

/// The requirements failing in a check of `file`.
fn failing(dir: &Path, policy: &str, file: &str) -> Vec<String> {
    let (_, out, err) = driftwall_in(dir, &["check", "--format", "json", "-p", policy, file]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    v["inputs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "pass")
        .map(|r| {
            format!(
                "{}/{}",
                r["policy"].as_str().unwrap(),
                r["requirement"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn diff_base_reports_exactly_the_requirements_a_commit_broke() {
    if !has_git() {
        return;
    }
    let dir = Scratch::new("diff-base");
    git(&dir, &["init", "-q"]);
    std::fs::create_dir_all(dir.join("fw/nft.d")).unwrap();
    std::fs::copy(root().join(POLICY), dir.join("policy.yaml")).unwrap();
    std::fs::copy(
        root().join("examples/web-server.rules"),
        dir.join("fw/web.rules"),
    )
    .unwrap();
    // An nft file whose rules live in an included file.
    std::fs::write(dir.join("fw/main.nft"), "include \"nft.d/*.nft\"\n").unwrap();
    std::fs::write(dir.join("fw/nft.d/filter.nft"), "table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    tcp dport { 80, 443 } accept\n  }\n}\n").unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-qm", "base"]);
    let before_rules = failing(&dir, "policy.yaml", "fw/web.rules");
    let before_nft = failing(&dir, "policy.yaml", "fw/main.nft");
    // The commit: telnet opened and outbound DNS over UDP dropped in the
    // iptables file; HTTP closed in the included nft file.
    let rules = std::fs::read_to_string(dir.join("fw/web.rules"))
        .unwrap()
        .replace(
            "-A INPUT -p udp",
            "-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT\n-A INPUT -p udp",
        )
        .replace(
            "COMMIT",
            "-A OUTPUT -p udp -m udp --dport 53 -j DROP\nCOMMIT",
        );
    std::fs::write(dir.join("fw/web.rules"), rules).unwrap();
    std::fs::write(
        dir.join("fw/nft.d/filter.nft"),
        std::fs::read_to_string(dir.join("fw/nft.d/filter.nft"))
            .unwrap()
            .replace("{ 80, 443 }", "443"),
    )
    .unwrap();
    git(&dir, &["commit", "-qam", "change"]);
    let after_rules = failing(&dir, "policy.yaml", "fw/web.rules");
    let after_nft = failing(&dir, "policy.yaml", "fw/main.nft");
    let mut expected: Vec<String> = after_rules
        .iter()
        .filter(|r| !before_rules.contains(r))
        .chain(after_nft.iter().filter(|r| !before_nft.contains(r)))
        .cloned()
        .collect();
    expected.sort();
    // What the change must break, by construction.
    assert_eq!(
        expected,
        [
            "web-server/dns-out",
            "web-server/http-open",
            "web-server/telnet-closed"
        ]
    );

    let (code, out, err) = driftwall_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD~1",
            "--format",
            "json",
            "-p",
            "policy.yaml",
            "fw/web.rules",
            "fw/main.nft",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let mut broken: Vec<String> = v["broken"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_string())
        .collect();
    broken.sort();
    assert_eq!(broken, expected, "{v:#}");
    assert_eq!(v["base"], "HEAD~1");
    assert_eq!(
        (v["diffs"][0]["old"].as_str(), v["diffs"][0]["new"].as_str()),
        (Some("HEAD~1:fw/web.rules"), Some("fw/web.rules"))
    );
    // The included file was read as of HEAD~1: its rule shows as changed there.
    let nft_rules = v["diffs"][1]["rules"].as_array().unwrap();
    assert!(
        nft_rules
            .iter()
            .any(|r| r["old"]["file"] == "HEAD~1:fw/nft.d/filter.nft"
                && r["new"]["file"] == "fw/nft.d/filter.nft"),
        "{nft_rules:#?}"
    );
    std::fs::write(dir.join("d.json"), &out).unwrap();
    assert_valid(
        &root().join("schemas/report.v1.schema.json"),
        &dir.join("d.json"),
    );

    // The same in SARIF: errors exactly for what broke, at the new rule.
    let (_, sarif, _) = driftwall_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD~1",
            "--format",
            "sarif",
            "-p",
            "policy.yaml",
            "fw/web.rules",
            "fw/main.nft",
        ],
    );
    let s: Value = serde_json::from_str(&sarif).unwrap();
    if let Some(schema) = sarif_schema() {
        std::fs::write(dir.join("d.sarif"), &sarif).unwrap();
        assert_valid(&schema, &dir.join("d.sarif"));
    }
    let mut errors: Vec<String> = s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .map(|r| r["ruleId"].as_str().unwrap().to_string())
        .collect();
    errors.sort();
    assert_eq!(errors, expected);
    check_locations(&dir, &s);
    let telnet_line = std::fs::read_to_string(dir.join("fw/web.rules"))
        .unwrap()
        .lines()
        .position(|l| l.contains("--dport 23"))
        .unwrap() as u64
        + 1;
    let telnet = s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "web-server/telnet-closed")
        .unwrap()
        .clone();
    assert_eq!(
        telnet["locations"][0]["physicalLocation"]["region"]["startLine"], telnet_line,
        "{telnet:#}"
    );

    // Nothing broken against the same revision; a file not in the base is a clear error.
    let (code, _, err) = driftwall_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD",
            "-p",
            "policy.yaml",
            "fw/web.rules",
        ],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("fw/new.rules"), "*filter\nCOMMIT\n").unwrap();
    let (code, _, err) = driftwall_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD",
            "-p",
            "policy.yaml",
            "fw/new.rules",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("HEAD:fw/new.rules") && err.contains("driftwall check"),
        "{err}"
    );
}

/// Every culprits list of a report, wherever it is in the JSON.
fn culprit_lists(v: &Value, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(list)) = m.get("culprits") {
                out.push(list.clone());
            }
            m.values().for_each(|x| culprit_lists(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| culprit_lists(x, out)),
        _ => {}
    }
}

/// Two decisions can read the same: a pf anchor filled at run time is
/// met by the packet in each phase, and its rules share the anchor's line
/// and chain. A failure names each rule once (they were named twice).
#[test]
fn a_failure_names_each_culprit_once() {
    let dir = Scratch::new("anchors");
    let conf = dir.file(
        "pf.conf",
        "anchor \"200.AirDrop/*\"\nanchor \"250.ApplicationFirewall/*\"\n",
    );
    let (code, stdout, err) = driftwall(&[
        "check",
        "--role",
        "gateway",
        "--policy",
        "benches/policy-20.yaml",
        "--format",
        "json",
        conf.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let mut lists = Vec::new();
    culprit_lists(&report, &mut lists);
    assert!(
        lists.iter().any(|l| l.len() >= 2),
        "no failure rests on two anchors: {stdout}"
    );
    for list in &lists {
        for (i, c) in list.iter().enumerate() {
            assert!(!list[..i].contains(c), "{c} is named twice in {list:?}");
        }
    }
}
