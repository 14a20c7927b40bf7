//! pfctl as the judge of the pf semantics: each FreeBSD test's `.ok` is
//! pfctl's own normalized printout of its `.in`, so by pfctl's word the two
//! are the same ruleset. `driftwall diff X.in X.ok` with a policy over every
//! TCP and UDP port, inbound, outbound and forwarded, must find no
//! connection whose verdict changes. (That every `.fail` input is refused
//! is `parsers/tests/pf_corpus.rs`.)
//!
//! `cargo test --test pf_pfctl -- --nocapture` prints the rates and how
//! many pairs are determinate.

mod support;

use serde_json::Value;
use support::{Scratch, bin, corpus, run};

const ALL_PORTS: &str = "policy: all-ports
requirements:
  - {id: in, expect: allow, direction: inbound, protocol: [tcp, udp], ports: [1-65535]}
  - {id: out, expect: allow, direction: outbound, protocol: [tcp, udp], ports: [1-65535]}
  - {id: fwd, expect: allow, direction: forward, protocol: [tcp, udp], ports: [1-65535]}
";

#[test]
fn every_pfctl_in_and_its_ok_decide_alike() {
    let Some(pf) = corpus("pf") else { return };
    let dir = pf.join("freebsd-pfctl-tests");
    let s = Scratch::new("pfctl");
    let policy = s.file("all.yaml", ALL_PORTS);
    let mut oks: Vec<_> = std::fs::read_dir(&dir)
        .expect("the pfctl tests")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ok"))
        .collect();
    oks.sort();
    let (mut pairs, mut determinate) = (0, 0);
    let mut changed = Vec::new();
    for ok in oks {
        let input = ok.with_extension("in");
        if !input.exists() {
            // pf1078.ok has no .in (corpus/README.md).
            continue;
        }
        pairs += 1;
        let (code, out, err) = run(bin()
            .args(["diff", "--role", "gateway", "--format", "json", "--policy"])
            .arg(&policy)
            .arg(&input)
            .arg(&ok));
        let v: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{}: {e}: {err}{out}", input.display()));
        let results: Vec<&Value> = v["diffs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|d| d["requirements"].as_array().into_iter().flatten())
            .collect();
        let changes: usize = results
            .iter()
            .map(|r| r["changes"].as_array().map_or(0, Vec::len))
            .sum();
        if code != 0 || changes != 0 || results.is_empty() {
            changed.push(format!(
                "{}: exit {code}, {changes} verdict change(s)",
                input.display()
            ));
        }
        if results.iter().all(|r| r["before"] != "indeterminate") {
            determinate += 1;
        }
    }
    println!(
        "pfctl pairs: {pairs}, decided alike {}, wholly determinate {determinate}",
        pairs - changed.len()
    );
    assert!(pairs >= 40, "the FreeBSD pfctl tests are found: {pairs}");
    assert!(
        changed.is_empty(),
        "the .in and .ok pfctl calls the same decide differently:\n{}",
        changed.join("\n")
    );
}
