//! The nft text the reader generates against what firewalld 1.3.3 itself
//! programmed for the same configuration.
//!
//! Each case under `firewalld_judged/` holds a configuration folder and
//! `firewalld-1.3.3.nft`: `nft list table inet firewalld` after
//! `firewalld --nofork --system-config DIR` (Debian 12's 1.3.3, its stock
//! `/usr/lib/firewalld`) applied it in a network namespace of its own. The
//! reader uses its built-in stock table here, so the test also checks that
//! table against firewalld's files. Rule for rule, the texts must be the
//! same, but for what firewalld's own listing spells differently or orders
//! by chance:
//!
//! - conntrack helper objects and `ct helper set` rules (the stock services'
//!   helpers), which only mark connections and decide nothing;
//! - the order of a policy's dispatch rules, which comes from a Python set
//!   (all of them jump to the same chain, so their order changes nothing);
//! - nft's names for numbers (`icmp code host-prohibited` for `10`), the
//!   width of mark constants, and `reject` printed with the family's ICMP
//!   type.

use driftwall_parsers::firewalld::{FileText, Files, Folder, read};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn folder_at(dir: &Path) -> Folder {
    let text = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .map(|t| (p.display().to_string(), t))
    };
    let xml_in = |kind: &str| -> Vec<FileText> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join(kind))
            .map(|r| r.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.retain(|p| p.extension().is_some_and(|x| x == "xml"));
        paths.sort();
        paths.iter().filter_map(|p| text(p)).collect()
    };
    Folder {
        dir: dir.display().to_string(),
        conf: text(&dir.join("firewalld.conf")),
        zones: xml_in("zones"),
        services: xml_in("services"),
        policies: xml_in("policies"),
        ipsets: xml_in("ipsets"),
        icmptypes: xml_in("icmptypes"),
        helpers: xml_in("helpers"),
        direct: text(&dir.join("direct.xml")),
    }
}

/// Chains and their rules, as lines, spelled one way.
fn chains(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_helper = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(name) = line
            .strip_prefix("chain ")
            .and_then(|l| l.strip_suffix(" {"))
        {
            current = Some(name.to_string());
            out.entry(name.to_string()).or_default();
            continue;
        }
        if line.starts_with("ct helper ") && line.ends_with('{') {
            in_helper = true;
            continue;
        }
        if line == "}" {
            current = None;
            in_helper = false;
            continue;
        }
        if in_helper || line.contains("ct helper set") {
            continue;
        }
        let Some(chain) = &current else { continue };
        let line = line
            .replace("icmp code host-prohibited", "icmp code 10")
            .replace("0x000000ff", "0xff")
            .replace("0x00000010", "0x10")
            .replace(" reject with icmp port-unreachable", " reject");
        out.entry(chain.clone()).or_default().push(line);
    }
    out
}

fn judge(config: &Path, expected: &Path) {
    let r = read(&Files {
        user: folder_at(config),
        stock: None,
    });
    assert!(r.parsed.errors.is_empty(), "{:?}", r.parsed.errors);
    let want_text = std::fs::read_to_string(expected).expect("the recorded ruleset");
    let (ours, theirs) = (chains(&r.nft), chains(&want_text));
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "the same chains"
    );
    for (name, want) in &theirs {
        let mut got = ours.get(name).cloned().unwrap_or_default();
        let mut want = want.clone();
        if name.contains("_POLICIES_") {
            // Dispatch to one policy: each rule's order is a Python set's.
            let target = |l: &String| l.rsplit(' ').next().unwrap_or("").to_string();
            got.sort_by_key(target);
            want.sort_by_key(target);
            let key = |v: &Vec<String>| {
                let mut v = v.clone();
                v.sort();
                v
            };
            assert_eq!(key(&got), key(&want), "chain {name}");
            continue;
        }
        assert_eq!(got, want, "chain {name}");
    }
}

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/firewalld_judged")
}

/// A gateway: four zones (interfaces with a wildcard, sources, an ipset
/// binding), every kind of rich rule, icmp-block-inversion, masquerade,
/// forward ports, and policies from and to HOST, ANY and zones.
#[test]
fn a_gateway_configuration_gives_what_firewalld_programmed() {
    let case = here().join("gateway");
    judge(
        &case.join("etc-firewalld"),
        &case.join("firewalld-1.3.3.nft"),
    );
}

/// `examples/firewalld`: the RHEL web host of the documentation.
#[test]
fn the_documented_example_gives_what_firewalld_programmed() {
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/firewalld/etc/firewalld");
    judge(&example, &here().join("rhel-web-host/firewalld-1.3.3.nft"));
}
